// otlp-pg as a separate process, as `npm start` runs it (with its node flags, through tsx, so no build
// is needed).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import { PATIENCE_MS } from './poll.js';

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** Peak resident memory so far, in bytes (VmHWM of /proc/<pid>/status). */
  peakRss(): number;
  /** Waits until `text` has been printed. */
  waitFor(text: string, ms?: number): Promise<void>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/** The node flags otlp-pg runs with: those of bin/otlp-pg.js's `#!/usr/bin/env -S node …` line. */
export function binNodeFlags(): string[] {
  const shebang = readFileSync(path.join(packageRoot, 'bin', 'otlp-pg.js'), 'utf8').split('\n', 1)[0] ?? '';
  const words = shebang.split(/\s+/);
  if (words.slice(0, 3).join(' ') !== '#!/usr/bin/env -S node') throw new Error(`bin/otlp-pg.js starts ${shebang}`);
  return words.slice(3);
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): ServerProcess {
  const child = spawn(process.execPath, [...binNodeFlags(), '--import', 'tsx', 'src/cli/index.ts', ...args], {
    cwd: packageRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const self: ServerProcess = {
    child,
    output: () => out,
    exited,
    peakRss: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
    },
    waitFor: async (text, ms = PATIENCE_MS) => {
      const until = Date.now() + ms;
      while (!out.includes(text)) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`"${text}" not seen; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  return self;
}

/**
 * `otlp-pg serve` on `databaseUrl` with the given ports and extra flags (one process unless the
 * flags say --workers); resolves once it serves.
 */
export async function startServerProcess(
  databaseUrl: string,
  ports: { grpc: number; http: number; telemetry?: number },
  flags: readonly string[] = [],
): Promise<ServerProcess> {
  const server = runCli(
    [
      'serve',
      '--grpc-endpoint', `127.0.0.1:${ports.grpc}`,
      '--http-endpoint', `127.0.0.1:${ports.http}`,
      '--telemetry-endpoint', `127.0.0.1:${ports.telemetry ?? 0}`,
      ...(flags.includes('--workers') ? [] : ['--workers', '1']),
      ...flags,
    ],
    { DATABASE_URL: databaseUrl },
  );
  await server.waitFor('psql ');
  return server;
}

export interface Ports {
  readonly grpc: number;
  readonly http: number;
  readonly telemetry: number;
}

/**
 * `otlp-pg serve` as startServerProcess starts it, on ports the system picks (port 0), read back from
 * its banner. A port found free beforehand can be taken by another socket before the server binds it
 * (any outgoing connection's ephemeral port, say); one the server binds itself cannot.
 */
export async function startServerProcessOnFreePorts(databaseUrl: string, flags: readonly string[] = []): Promise<{ server: ServerProcess; ports: Ports }> {
  const server = await startServerProcess(databaseUrl, { grpc: 0, http: 0, telemetry: 0 }, flags);
  const out = server.output();
  const port = (pattern: RegExp): number => {
    const found = pattern.exec(out)?.[1];
    if (found === undefined) throw new Error(`no ${String(pattern)} in the banner:\n${out}`);
    return Number(found);
  };
  return {
    server,
    ports: {
      grpc: port(/OTLP\/gRPC +[^\s]+:(\d+)/),
      http: port(/OTLP\/HTTP +https?:\/\/[^\s]+:(\d+)/),
      telemetry: port(/metrics +http:\/\/[^\s]+:(\d+)\/metrics/),
    },
  };
}
