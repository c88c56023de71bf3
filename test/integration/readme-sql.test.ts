// Every ```sql block of the README runs as written against data sent over OTLP, and finds it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-root.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, summariesFolded } from '../helpers/database.js';
import { httpPost } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

const readme = readFileSync(path.join(packageRoot, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] as string);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (spanId: string, parent: string, name: string, error: boolean) => ({
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId,
    parentSpanId: parent,
    name,
    kind: 2,
    startTimeUnixNano: (now - 60_000_000_000n).toString(),
    endTimeUnixNano: (now - 59_000_000_000n).toString(),
    attributes: [
      { key: 'http.route', value: { stringValue: '/cart' } },
      { key: 'http.status_code', value: { intValue: '503' } },
    ],
    status: error ? { code: 2 } : {},
  });
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeSpans: [{ spans: [span('00000000000000a1', '', 'POST /cart', true), span('00000000000000a2', '00000000000000a1', 'INSERT', false)] }],
      },
    ],
  };
  const res = await httpPost(server.http.port, '/v1/traces', JSON.stringify(body), { 'Content-Type': 'application/json' });
  expect(res.status).toBe(200);
  await summariesFolded(db.url);

  const checkout = { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] };
  const t = now.toString();
  const logs = {
    resourceLogs: [
      {
        resource: checkout,
        scopeLogs: [
          {
            logRecords: [
              { timeUnixNano: t, severityNumber: 17, severityText: 'ERROR', body: { stringValue: 'payment failed' }, traceId: '5b8efff798038103d269b633813fc60c', spanId: '00000000000000a1' },
            ],
          },
        ],
      },
    ],
  };
  const metrics = {
    resourceMetrics: [
      {
        resource: checkout,
        scopeMetrics: [
          {
            metrics: [
              { name: 'queue.depth', gauge: { dataPoints: [{ timeUnixNano: t, asInt: '7' }] } },
              {
                name: 'http.server.duration',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [{ timeUnixNano: t, count: '100', sum: 900, bucketCounts: ['50', '40', '6', '4'], explicitBounds: [5, 10, 25] }],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  for (const [signal, payload] of [['logs', logs], ['metrics', metrics]] as const) {
    const r = await httpPost(server.http.port, `/v1/${signal}`, JSON.stringify(payload), { 'Content-Type': 'application/json' });
    expect(r.status).toBe(200);
  }
});

afterAll(async () => {
  await server?.shutdown();
  await db?.drop();
});

describe('README example SQL', () => {
  it('has the example queries', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it('estimates the p95 bucket: 96 of 100 observations are at or below 25', async () => {
    const p95 = blocks.find((b) => b.includes('p95_upper_bound')) as string;
    expect(await query(db.url, p95)).toEqual([{ p95_upper_bound: 25 }]);
  });

  it.each(blocks.map((sql) => [sql.split('\n')[0] as string, sql]))('%s', async (_title, sql) => {
    const rows = await query(db.url, sql);
    expect(rows.length).toBeGreaterThan(0);
  });
});
