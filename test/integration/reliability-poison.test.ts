// Acceptance (issue 5, poison): one request whose rows PostgreSQL rejects, batched with good requests
// from other clients: the good ones are stored and answered success, the bad one is refused
// permanently, in one pass (the batch is split until the bad request is alone, never retried).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { sendOnce, spanRequest, succeeded, type Transport } from '../helpers/sender.js';
import { scrapeMetrics, startTestServer } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase();
  // Every request of the test lands in the same batch whatever the order or pace of arrival: the
  // batch is full (45 good spans and 3 poisoned) exactly when the last of them arrives, and no flush
  // timer runs out before that.
  server = await startTestServer(db.url, { 'flush-interval': '60s', 'batch-spans': '48' });
  // A rule the database enforces and otlp-pg knows nothing of: the kind of refusal (a check, a
  // trigger, a type limit) that only PostgreSQL can make, after the rows were sent.
  await query(db.url, `ALTER TABLE trace_spans ADD CONSTRAINT poison_test CHECK (name <> 'poison')`);
});

afterAll(async () => {
  await server?.shutdown();
  await db?.drop();
});

const metric = async (name: string): Promise<number> => (await scrapeMetrics(server)).get(name) ?? 0;

describe('a request the database refuses', () => {
  it('is refused alone and permanently; the requests batched with it are committed', async () => {
    const ports = { grpc: server.grpc.port, http: server.http.port };
    const transports: Transport[] = ['http/json', 'grpc', 'http/protobuf'];
    const good = Array.from({ length: 9 }, () => spanRequest(5));
    const poison = spanRequest(3);
    const poisonSpans = (poison.body as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }).resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    (poisonSpans[1] as { name: string }).name = 'poison';

    const [poisonAnswer, ...goodAnswers] = await Promise.all([
      sendOnce('http/json', ports, poison.body),
      ...good.map((g, i) => sendOnce(transports[i % 3] as Transport, ports, g.body)),
    ]);

    expect(goodAnswers.every(succeeded)).toBe(true);
    expect(poisonAnswer?.code).toBe(400);
    expect(poisonAnswer?.retryable).toBe(false);
    expect(JSON.parse(poisonAnswer?.body ?? '{}')).toMatchObject({ code: 3, message: expect.stringContaining('violates check constraint "poison_test"') });

    const stored = await query<{ id: string }>(db.url, `SELECT encode(span_id, 'hex') AS id FROM trace_spans`);
    expect(stored.map((r) => r.id).sort()).toEqual(good.flatMap((g) => g.spanIds).sort());
    // Split, not retried: 10 requests in one batch need log2(10) ≈ 4 levels of halving to isolate one.
    const splits = await metric('otlp_pg_exporter_batch_splits_total{signal="traces"}');
    expect(splits).toBeGreaterThanOrEqual(1);
    expect(splits).toBeLessThanOrEqual(9);
    expect(await metric('otlp_pg_exporter_send_failed_spans_total{reason="rejected"}')).toBe(3);
    expect(await metric('otlp_pg_receiver_accepted_spans_total')).toBe(45);
  });
});
