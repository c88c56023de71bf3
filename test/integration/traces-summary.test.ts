// Acceptance: one trace's spans arriving in several requests, children before the root, over both
// transports, leave exactly one correct `traces` row.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, summariesFolded } from '../helpers/database.js';
import { grpcExport, httpPost, jsonToProtobuf } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
});

afterAll(async () => {
  await server?.shutdown();
  await db?.drop();
});

const T0 = 1_764_000_000_000_000_000n; // 2025-11-24T16:00:00Z

interface SpanSpec {
  spanId: string;
  parent: string;
  service: string;
  name: string;
  start: bigint;
  end: bigint;
  error?: boolean;
}

function request(traceId: string, s: SpanSpec): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: s.service } }] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: [
              {
                traceId,
                spanId: s.spanId,
                parentSpanId: s.parent,
                name: s.name,
                kind: 2,
                startTimeUnixNano: s.start.toString(),
                endTimeUnixNano: s.end.toString(),
                status: s.error ? { code: 2, message: 'failed' } : {},
              },
            ],
          },
        ],
      },
    ],
  };
}

type Transport = 'http/json' | 'http/protobuf' | 'grpc';

async function send(transport: Transport, body: unknown): Promise<void> {
  if (transport === 'grpc') {
    const res = await grpcExport(server.grpc.port, 'traces', jsonToProtobuf('traces', body));
    expect(res.code).toBe(0);
  } else {
    const proto = transport === 'http/protobuf';
    const res = await httpPost(server.http.port, '/v1/traces', proto ? jsonToProtobuf('traces', body) : JSON.stringify(body), {
      'Content-Type': proto ? 'application/x-protobuf' : 'application/json',
    });
    expect(res.status).toBe(200);
  }
}

async function traceRow(traceId: string): Promise<Record<string, unknown>[]> {
  await summariesFolded(db.url);
  return query(
    db.url,
    `SELECT start_time_unix_nano, end_time_unix_nano, duration_ns, service_name, root_span_name,
            encode(root_span_id, 'hex') AS root_span_id, span_count, error_count, start_time
       FROM traces WHERE trace_id = decode($1, 'hex')`,
    [traceId],
  );
}

const hex = (n: number): string => randomBytes(n).toString('hex');

describe('the traces table', () => {
  it('keeps one current row per trace as its spans arrive, children first, over both transports', async () => {
    const traceId = hex(16);
    const [root, api, db1, cache] = [hex(8), hex(8), hex(8), hex(8)];
    const spans: [Transport, SpanSpec][] = [
      ['http/json', { spanId: db1, parent: api, service: 'db', name: 'SELECT', start: T0 + 300n, end: T0 + 400n }],
      ['grpc', { spanId: api, parent: root, service: 'api', name: 'GET /items', start: T0 + 200n, end: T0 + 900n }],
      ['http/protobuf', { spanId: cache, parent: root, service: 'cache', name: 'GET key', start: T0 + 100n, end: T0 + 150n, error: true }],
    ];
    for (const [transport, s] of spans) await send(transport, request(traceId, s));

    // Before the root: earliest span's service, no root yet.
    expect(await traceRow(traceId)).toEqual([
      expect.objectContaining({ service_name: 'cache', root_span_name: null, root_span_id: null, span_count: 3, error_count: 1 }),
    ]);

    await send('grpc', request(traceId, { spanId: root, parent: '', service: 'frontend', name: 'GET /', start: T0, end: T0 + 1000n }));
    expect(await traceRow(traceId)).toEqual([
      {
        start_time_unix_nano: T0.toString(),
        end_time_unix_nano: (T0 + 1000n).toString(),
        duration_ns: '1000',
        service_name: 'frontend',
        root_span_name: 'GET /',
        root_span_id: root,
        span_count: 4,
        error_count: 1,
        start_time: new Date(Number(T0 / 1_000_000n)),
      },
    ]);
  });

  it('stays one row when many writers add spans of one trace at once', async () => {
    const traceId = hex(16);
    const transports: Transport[] = ['http/json', 'http/protobuf', 'grpc'];
    await Promise.all(
      Array.from({ length: 24 }, (_, k) =>
        send(transports[k % 3] as Transport, request(traceId, { spanId: hex(8), parent: hex(8), service: `svc${k}`, name: `op${k}`, start: T0 + BigInt(k), end: T0 + 10_000n })),
      ),
    );
    const rows = await traceRow(traceId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ span_count: 24, error_count: 0, service_name: 'svc0', start_time_unix_nano: T0.toString() });
  });
});
