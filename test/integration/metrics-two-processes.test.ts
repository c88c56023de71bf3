// Acceptance: two otlp-pg processes on one database, fed the same new metrics at the same moment,
// both succeed and leave exactly one `metrics` row per stream.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-root.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { httpPost } from '../helpers/otlp.js';
import { freePort } from '../helpers/ports.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
  }
  await db?.drop();
});

async function startProcess(): Promise<number> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/index.ts', 'serve', '--grpc-endpoint', `127.0.0.1:${grpcPort}`, '--http-endpoint', `127.0.0.1:${httpPort}`, '--telemetry-endpoint', '127.0.0.1:0', '--workers', '1'],
    { cwd: packageRoot, env: { ...process.env, DATABASE_URL: db.url }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const until = Date.now() + 60_000;
  while (!out.includes('psql ')) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`otlp-pg did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return httpPort;
}

beforeAll(async () => {
  db = await createTestDatabase();
});

describe('two processes, one database', () => {
  it('create each new metric stream exactly once', async () => {
    // Both start at once too: migrations and partitions under their advisory locks.
    const ports = await Promise.all([startProcess(), startProcess()]);
    // Each process gets its own body (a point attribute tells them apart), so dedupe stays out of it.
    const body = (round: number, process: number): string =>
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'race' } }] },
            scopeMetrics: [
              {
                metrics: Array.from({ length: 50 }, (_, k) => ({
                  name: `concurrent.metric.${k}`,
                  gauge: {
                    dataPoints: [
                      { timeUnixNano: String(1700000000000000000n + BigInt(round)), asDouble: k, attributes: [{ key: 'process', value: { intValue: String(process) } }] },
                    ],
                  },
                })),
              },
            ],
          },
        ],
      });
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(ports.map((port, p) => httpPost(port, '/v1/metrics', body(round, p), { 'Content-Type': 'application/json' })));
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
    }
    const [counts] = await query<{ metrics: string; points: string }>(
      db.url,
      `SELECT (SELECT count(*) FROM metrics WHERE service_name = 'race') AS metrics,
              (SELECT count(*) FROM metric_data_points WHERE service_name = 'race') AS points`,
    );
    expect(counts).toEqual({ metrics: '50', points: '300' });
  });
});
