// Acceptance (issue 7): with --workers 2, spans sent over both transports are all stored, and a
// killed worker is replaced; /metrics on the primary adds up its workers' counts.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, query } from '../helpers/database.js';
import { until } from '../helpers/poll.js';
import { startServerProcessOnFreePorts, type ServerProcess } from '../helpers/process.js';
import { sendOnce, spanRequest, succeeded, type Transport } from '../helpers/sender.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

/** The primary's worker processes (not other children, such as tsx's esbuild service). */
function workerPids(primary: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(primary)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('src/cli/index.ts'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function sendMany(ports: { grpc: number; http: number }, n: number): Promise<string[]> {
  const transports: Transport[] = ['grpc', 'http/protobuf', 'http/json'];
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const req = spanRequest(5, 'workers');
      expect(succeeded(await sendOnce(transports[i % 3] as Transport, ports, req.body))).toBe(true);
      ids.push(...req.spanIds);
    }),
  );
  return ids;
}

describe('--workers 2', () => {
  it('stores everything sent over both transports, and replaces a killed worker', async () => {
    const started = await startServerProcessOnFreePorts(db.url, ['--workers', '2']);
    server = started.server;
    const ports = started.ports;
    expect(server.output()).toContain('(2 workers)');
    const pid = server.child.pid as number;
    expect(workerPids(pid)).toHaveLength(2);

    const before = await sendMany(ports, 30);
    const stored = async (ids: string[]) =>
      (await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM trace_spans WHERE encode(span_id, 'hex') = ANY($1)`, [ids]))[0]?.n;
    expect(await stored(before)).toBe(String(before.length));
    const metrics = await (await fetch(`http://127.0.0.1:${ports.telemetry}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^otlp_pg_receiver_accepted_spans_total ${before.length}$`, 'm'));

    const [victim] = workerPids(pid);
    process.kill(victim as number, 'SIGKILL');
    await until(() => {
      const pids = workerPids(pid);
      return pids.length === 2 && !pids.includes(victim as number);
    }, 'the killed worker replaced');
    await until(async () => (await fetch(`http://127.0.0.1:${ports.telemetry}/readyz`)).status === 200, '/readyz with both workers running');

    const after = await sendMany(ports, 30);
    expect(await stored(after)).toBe(String(after.length));

    expect(await server.stop()).toBe(0);
    expect(() => process.kill(victim as number, 0)).toThrow();
    server = undefined;
  });
});
