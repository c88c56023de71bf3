// Acceptance (issue 8): every tuning knob is changed here and its effect observed — in /metrics, in
// pg_stat_activity, or in the answers clients get.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { installWriterHold, type WriterHold } from '../helpers/hold-writers.js';
import { httpPost } from '../helpers/otlp.js';
import { until } from '../helpers/poll.js';
import { sendOnce, spanRequest, succeeded } from '../helpers/sender.js';
import { scrapeMetrics, startTestServer, telemetryUrl } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer | undefined;
let writers: WriterHold | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await writers?.remove();
  writers = undefined;
  await server?.shutdown();
  server = undefined;
});

afterAll(async () => {
  await db?.drop();
});

async function start(flags: Record<string, string>): Promise<RunningServer> {
  server = await startTestServer(db.url, flags);
  return server;
}

const ports = (s: RunningServer) => ({ grpc: s.grpc.port, http: s.http.port });

const scrape = scrapeMetrics;

/** Backends of this server's pool, as PostgreSQL sees them. */
async function poolBackends(): Promise<{ pid: number; backend_start: Date }[]> {
  return query(db.url, `SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = 'otlp-pg' AND datname = current_database()`);
}

/** Batches of spans stay in flight, inside their transactions, until the test lets them go. */
async function holdWriters(): Promise<WriterHold> {
  writers ??= await installWriterHold(db.url);
  await writers.hold();
  return writers;
}

const T = () => String(BigInt(Date.now()) * 1_000_000n);
const logsBody = (n: number) =>
  JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({ timeUnixNano: T(), body: { stringValue: `l${i}-${randomBytes(4).toString('hex')}` } })) }] }] });
const pointsBody = (n: number) =>
  JSON.stringify({
    resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: `knob.${randomBytes(3).toString('hex')}`, gauge: { dataPoints: Array.from({ length: n }, (_, i) => ({ timeUnixNano: T(), asInt: String(i) })) } }] }] }],
  });

describe('batching knobs', () => {
  it('--batch-spans, --batch-logs, --batch-points set the rows per COPY', async () => {
    const s = await start({ 'batch-spans': '10', 'batch-logs': '6', 'batch-points': '4', 'flush-interval': '5s' });
    const m0 = await scrape(s);
    expect(m0.get('otlp_pg_batch_size_rows{signal="traces"}')).toBe(10);
    // Requests of exactly one batch each: every batch flushes full, long before the 5 s interval.
    await Promise.all(Array.from({ length: 4 }, () => sendOnce('http/json', ports(s), spanRequest(10).body)));
    await Promise.all(Array.from({ length: 3 }, () => httpPost(s.http.port, '/v1/logs', logsBody(6), { 'Content-Type': 'application/json' })));
    await httpPost(s.http.port, '/v1/metrics', pointsBody(3), { 'Content-Type': 'application/json' }); // 3 points + 1 new stream = 4 rows
    const m = await scrape(s);
    expect(m.get('otlp_pg_exporter_batch_rows_count{signal="traces"}')).toBe(4);
    expect(m.get('otlp_pg_exporter_batch_rows_sum{signal="traces"}')).toBe(40);
    expect(m.get('otlp_pg_exporter_batch_rows_count{signal="logs"}')).toBe(3);
    expect(m.get('otlp_pg_exporter_batch_rows_count{signal="metrics"}')).toBe(1);
  });

  it('--flush-interval holds a small request in the batcher until it passes', async () => {
    // Its longest (and no request timeout): the request waits in the batcher for as long as the test
    // looks, and the shutdown's drain flushes it.
    let s = await start({ 'flush-interval': '60s', 'request-timeout': '10m' });
    const held = sendOnce('http/json', ports(s), spanRequest(3).body);
    await until(async () => (await scrape(s)).get('otlp_pg_batcher_buffered_rows{signal="traces"}') === 3, 'three rows buffered');
    expect((await scrape(s)).get('otlp_pg_batcher_buffered_bytes{signal="traces"}')).toBeGreaterThan(0);
    expect((await scrape(s)).get('otlp_pg_exporter_batch_rows_count{signal="traces"}') ?? 0).toBe(0);
    await s.shutdown();
    expect(succeeded(await held)).toBe(true);

    // A short one: the interval passing is all that sends a lone small request to the writers.
    s = await start({ 'flush-interval': '100' });
    expect(succeeded(await sendOnce('http/json', ports(s), spanRequest(3).body))).toBe(true);
    expect((await scrape(s)).get('otlp_pg_exporter_batch_rows_sum{signal="traces"}')).toBe(3);
    expect((await scrape(s)).get('otlp_pg_batcher_buffered_rows{signal="traces"}')).toBe(0);
  });
});

describe('pool knobs', () => {
  it('--writers caps concurrent batches; --pool-max caps connections in pg_stat_activity', async () => {
    const s = await start({ writers: '2', 'pool-max': '3', 'batch-spans': '5' });
    const hold = await holdWriters();
    const answers = Array.from({ length: 8 }, () => sendOnce('grpc', ports(s), spanRequest(5).body));
    // Eight batches of one request each handed to the writers, and none can commit: as many are being
    // written as ever will be at once.
    await until(async () => (await scrape(s)).get('otlp_pg_exporter_queue_size') === 8, 'eight batches handed to the writers');
    await until(async () => (await hold.waiting()) >= 2, 'two writers waiting for the lock');
    expect((await scrape(s)).get('otlp_pg_pool_connections{state="in_use"}')).toBe(2); // two writers busy at once, never more
    expect(await hold.waiting()).toBe(2);
    const backends = (await poolBackends()).length;
    expect(backends).toBeGreaterThanOrEqual(2);
    expect(backends).toBeLessThanOrEqual(3);
    await hold.release();
    for (const a of await Promise.all(answers)) expect(succeeded(a)).toBe(true);
    expect((await scrape(s)).get('otlp_pg_exporter_queue_capacity')).toBe(2);
  });

  it('--pool-idle-timeout closes idle connections; --pool-min keeps some open', async () => {
    const IDLE_MS = 200;
    const flags = { 'pool-idle-timeout': String(IDLE_MS), writers: '3', 'pool-max': '3', 'batch-spans': '5' };
    /** Three connections open at once (three writers held in their transactions), then all idle. */
    const threeUsed = async (s: RunningServer): Promise<void> => {
      const hold = await holdWriters();
      const answers = Array.from({ length: 6 }, () => sendOnce('http/json', ports(s), spanRequest(5).body));
      await hold.blocked(3);
      await hold.release();
      for (const a of await Promise.all(answers)) expect(succeeded(a)).toBe(true);
    };

    let s = await start(flags);
    await threeUsed(s);
    await until(async () => (await poolBackends()).length === 0, 'idle connections closed');
    await s.shutdown();

    s = await start({ ...flags, 'pool-min': '2' });
    await threeUsed(s);
    // The pool set each connection's idle timer when it gave the connection back, before the answers
    // came. This process's timers of one duration fire in the order they were set, so this one fires
    // after all of them, however late: by then the pool has closed every connection it was going to.
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const m = await scrape(s);
    expect([m.get('otlp_pg_pool_connections{state="idle"}'), m.get('otlp_pg_pool_connections{state="in_use"}')]).toEqual([2, 0]);
    await until(async () => (await poolBackends()).length === 2, 'the one connection above --pool-min gone from PostgreSQL');
  });

  it('--pool-max-lifetime replaces connections', async () => {
    // --pool-min keeps the connection from idling out, so only its lifetime can end it.
    const s = await start({ 'pool-max-lifetime': '1s', 'pool-min': '1', 'pool-idle-timeout': '10m' });
    expect(succeeded(await sendOnce('http/json', ports(s), spanRequest(2).body))).toBe(true);
    const first = new Set((await poolBackends()).map((b) => b.pid));
    expect(first.size).toBeGreaterThan(0);
    await until(async () => (await poolBackends()).every((b) => !first.has(b.pid)), 'the first connections closed at the end of their lifetime');
    expect(succeeded(await sendOnce('http/json', ports(s), spanRequest(2).body))).toBe(true);
    const later = (await poolBackends()).map((b) => b.pid);
    expect(later.length).toBeGreaterThan(0);
    expect(later.some((pid) => first.has(pid))).toBe(false);
  });

  it('readiness has a connection of its own: writers holding every pool connection is not "not ready"', async () => {
    // A pool checkout would give up after 100 ms here, so a check that borrowed the pool would fail.
    const s = await start({ writers: '1', 'pool-max': '1', 'pool-min': '1', 'pool-acquire-timeout': '100', 'batch-spans': '5' });
    // The one connection is opened first: on a loaded machine connecting alone can take longer than
    // the 100 ms a checkout is given (the batch is then refused as retryable), and a held batch that
    // never got its connection would never reach the lock. pool-min keeps the connection open.
    await until(async () => succeeded(await sendOnce('http/json', ports(s), spanRequest(5).body)), 'a batch committed on the pool\'s one connection');
    const hold = await holdWriters();
    const first = sendOnce('http/json', ports(s), spanRequest(5).body);
    await hold.blocked(1);
    expect((await scrape(s)).get('otlp_pg_pool_connections{state="in_use"}')).toBe(1);
    const ready = await fetch(`${telemetryUrl(s)}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, failing: {} });
    await hold.release();
    expect(succeeded(await first)).toBe(true);
  });

  it('--statement-timeout: a batch slower than it is answered retryable', async () => {
    const s = await start({ 'statement-timeout': '300' });
    // Held until the statement timeout cancels it: nothing else can end the statement.
    await holdWriters();
    const a = await sendOnce('http/json', ports(s), spanRequest(2).body);
    expect(a.code).toBe(503);
    expect(a.body).toMatch(/statement timeout/);
    expect((await scrape(s)).get('otlp_pg_exporter_send_failed_spans_total{reason="unavailable"}')).toBe(2);
  });
});

describe('memory and time bounds', () => {
  it('--max-inflight-bytes and --max-inflight-requests refuse as retryable past the bound', async () => {
    // One request held in its transaction keeps its place and bytes; the next ones meet the bound.
    let s = await start({ 'max-inflight-bytes': '4KiB' });
    expect((await scrape(s)).get('otlp_pg_inflight_bytes_capacity')).toBe(4096);
    const hold = await holdWriters();
    const first = sendOnce('http/json', ports(s), spanRequest(4).body); // about 3.7 kB
    await hold.blocked(1);
    const bytes = await Promise.all(Array.from({ length: 3 }, () => sendOnce('http/json', ports(s), spanRequest(4).body)));
    expect(bytes.map((a) => [a.code, a.hinted])).toEqual([[503, true], [503, true], [503, true]]);
    expect(bytes[0]?.body).toMatch(/max-inflight-bytes/);
    await hold.release();
    expect(succeeded(await first)).toBe(true);
    await s.shutdown();

    s = await start({ 'max-inflight-requests': '1' });
    await hold.hold();
    const only = sendOnce('grpc', ports(s), spanRequest(1).body);
    await hold.blocked(1);
    const requests = await Promise.all(Array.from({ length: 2 }, () => sendOnce('grpc', ports(s), spanRequest(1).body)));
    expect(requests.map((a) => [a.code, a.hinted])).toEqual([[14, true], [14, true]]);
    await hold.release();
    expect(succeeded(await only)).toBe(true);
  });

});
