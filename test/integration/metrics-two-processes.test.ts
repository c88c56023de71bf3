// Acceptance: two otlp-pg processes on one database, fed the same new metrics at the same moment,
// both succeed and leave exactly one `metrics` row per stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, query } from '../helpers/database.js';
import { httpPost } from '../helpers/otlp.js';
import { freePort } from '../helpers/ports.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const servers: ServerProcess[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
  await db?.drop();
});

/** One otlp-pg process (no --workers) on the test database; resolves to its HTTP port once serving. */
async function startProcess(): Promise<number> {
  const ports = { grpc: await freePort(), http: await freePort() };
  servers.push(await startServerProcess(db.url, ports));
  return ports.http;
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
