// otlp-pg under test, as users run it: the compiled CLI with the node flags of bin/otlp-pg.js, in a
// child process of its own, so its CPU time and peak memory can be read from /proc/<pid> apart from
// the load generator's.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/package-root.js';

export interface ServerProcess {
  readonly pid: number;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Its Prometheus endpoint (/metrics on the telemetry port), when the banner names one. */
  readonly metricsUrl: string | undefined;
  /** The last lines it wrote (warnings, errors), for the report when something went wrong. */
  output(): string;
  /** SIGTERM, then waits for it to drain and exit. */
  stop(): Promise<number | null>;
}

export interface ServerProcessOptions {
  readonly databaseUrl: string;
  /** Extra flags, e.g. ['--batch-spans', '5000', '--writers', '8']. */
  readonly flags?: readonly string[];
  /** Node flags before the script, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  readonly nodeFlags?: readonly string[];
}

const STARTUP_MS = 60_000;
const KEEP_CHARS = 20_000;

/** The node flags otlp-pg runs with: those of bin/otlp-pg.js's `#!/usr/bin/env -S node …` line. */
function binNodeFlags(): string[] {
  const shebang = readFileSync(path.join(packageRoot, 'bin', 'otlp-pg.js'), 'utf8').split('\n', 1)[0] ?? '';
  return shebang.split(/\s+/).slice(3);
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const script = path.join(packageRoot, 'dist', 'cli', 'index.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...binNodeFlags(),
      ...(options.nodeFlags ?? []),
      script,
      'serve',
      '--database-url',
      options.databaseUrl,
      '--grpc-endpoint',
      '127.0.0.1:0',
      '--http-endpoint',
      '127.0.0.1:0',
      '--telemetry-endpoint',
      '127.0.0.1:0',
      '--log-level',
      'warn',
      ...(options.flags ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATABASE_URL: '' } },
  );
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString('utf8')).slice(-KEEP_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  // The banner names the ports actually bound (the flags ask for free ones).
  const until = Date.now() + STARTUP_MS;
  let grpcPort = 0;
  let httpPort = 0;
  while (!grpcPort || !httpPort) {
    if (child.exitCode !== null) throw new Error(`otlp-pg exited during start (code ${child.exitCode}):\n${out}`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`otlp-pg did not start within ${STARTUP_MS} ms:\n${out}`);
    }
    grpcPort = Number(/OTLP\/gRPC\s+\S+:(\d+)/.exec(out)?.[1] ?? 0);
    httpPort = Number(/OTLP\/HTTP\s+http:\/\/\S+:(\d+)/.exec(out)?.[1] ?? 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  const metricsUrl = /metrics\s+(http:\/\/\S+\/metrics)/.exec(out)?.[1];

  return {
    pid: child.pid as number,
    grpcPort,
    httpPort,
    metricsUrl,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
