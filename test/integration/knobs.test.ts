// Acceptance (issue 8): every tuning knob is changed here and its effect observed — in /metrics, in
// pg_stat_activity, or in the answers clients get.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, until } from '../helpers/database.js';
import { httpPost } from '../helpers/otlp.js';
import { sendOnce, spanRequest, succeeded } from '../helpers/sender.js';
import { scrapeMetrics, startTestServer, telemetryUrl } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await server?.shutdown();
  server = undefined;
  await query(db.url, 'DROP TRIGGER IF EXISTS slow_insert ON trace_spans');
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

/** Every INSERT into trace_spans takes `seconds` (a trigger), so batches stay in flight. */
async function slowInserts(seconds: number): Promise<void> {
  await query(db.url, `CREATE OR REPLACE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(${seconds}); RETURN NULL; END $$`);
  await query(db.url, 'CREATE TRIGGER slow_insert AFTER INSERT ON trace_spans FOR EACH STATEMENT EXECUTE FUNCTION slow_insert()');
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
    const s = await start({ 'flush-interval': '1500' });
    const req = spanRequest(3);
    const answer = sendOnce('http/json', ports(s), req.body);
    await until(async () => (await scrape(s)).get('otlp_pg_batcher_buffered_rows{signal="traces"}') === 3, 'three rows buffered');
    expect((await scrape(s)).get('otlp_pg_batcher_buffered_bytes{signal="traces"}')).toBeGreaterThan(0);
    expect(succeeded(await answer)).toBe(true);
    expect((await scrape(s)).get('otlp_pg_batcher_buffered_rows{signal="traces"}')).toBe(0);
  });
});

describe('pool knobs', () => {
  it('--writers caps concurrent batches; --pool-max caps connections in pg_stat_activity', async () => {
    const s = await start({ writers: '2', 'pool-max': '3', 'batch-spans': '5' });
    await slowInserts(0.3);
    let maxBackends = 0;
    let maxInUse = 0;
    const watch = setInterval(() => {
      void poolBackends().then((b) => (maxBackends = Math.max(maxBackends, b.length)));
      void scrape(s).then((m) => (maxInUse = Math.max(maxInUse, m.get('otlp_pg_pool_connections{state="in_use"}') ?? 0)));
    }, 30);
    await Promise.all(Array.from({ length: 8 }, () => sendOnce('grpc', ports(s), spanRequest(5).body)));
    clearInterval(watch);
    expect(maxInUse).toBe(2); // two writers busy at once, never more
    expect(maxBackends).toBeGreaterThanOrEqual(2);
    expect(maxBackends).toBeLessThanOrEqual(3);
    expect((await scrape(s)).get('otlp_pg_exporter_queue_capacity')).toBe(2);
  });

  it('--pool-idle-timeout closes idle connections; --pool-min keeps some open', async () => {
    let s = await start({ 'pool-idle-timeout': '200', writers: '3', 'pool-max': '3', 'batch-spans': '5' });
    await slowInserts(0.2);
    await Promise.all(Array.from({ length: 6 }, () => sendOnce('http/json', ports(s), spanRequest(5).body)));
    await until(async () => (await poolBackends()).length === 0, 'idle connections closed');
    await s.shutdown();

    s = await start({ 'pool-idle-timeout': '200', 'pool-min': '2', writers: '3', 'pool-max': '3', 'batch-spans': '5' });
    await Promise.all(Array.from({ length: 6 }, () => sendOnce('http/json', ports(s), spanRequest(5).body)));
    await new Promise((r) => setTimeout(r, 800));
    expect((await poolBackends()).length).toBe(2);
  });

  it('--pool-max-lifetime replaces connections', async () => {
    const s = await start({ 'pool-max-lifetime': '1s', 'pool-min': '1' });
    await sendOnce('http/json', ports(s), spanRequest(2).body);
    const first = new Set((await poolBackends()).map((b) => b.pid));
    expect(first.size).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1600));
    await sendOnce('http/json', ports(s), spanRequest(2).body);
    const later = (await poolBackends()).map((b) => b.pid);
    expect(later.some((pid) => first.has(pid))).toBe(false);
  });

  it('readiness has a connection of its own: writers holding every pool connection is not "not ready"', async () => {
    // A pool checkout would give up after 100 ms here, so a check that borrowed the pool would fail.
    const s = await start({ writers: '1', 'pool-max': '1', 'pool-acquire-timeout': '100', 'batch-spans': '5' });
    await slowInserts(1.5);
    const first = sendOnce('http/json', ports(s), spanRequest(5).body);
    await until(async () => (await scrape(s)).get('otlp_pg_pool_connections{state="in_use"}') === 1, 'the one connection in use');
    const ready = await fetch(`${telemetryUrl(s)}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, failing: {} });
    expect(succeeded(await first)).toBe(true);
  });

  it('--statement-timeout: a batch slower than it is answered retryable', async () => {
    const s = await start({ 'statement-timeout': '300' });
    await slowInserts(1);
    const a = await sendOnce('http/json', ports(s), spanRequest(2).body);
    expect(a.code).toBe(503);
    expect(a.body).toMatch(/statement timeout/);
    expect((await scrape(s)).get('otlp_pg_exporter_send_failed_spans_total{reason="unavailable"}')).toBe(2);
  });
});

describe('memory and time bounds', () => {
  it('--max-inflight-bytes and --max-inflight-requests refuse as retryable past the bound', async () => {
    let s = await start({ 'max-inflight-bytes': '4KiB', 'flush-interval': '800' });
    expect((await scrape(s)).get('otlp_pg_inflight_bytes_capacity')).toBe(4096);
    const bytes = await Promise.all(Array.from({ length: 6 }, () => sendOnce('http/json', ports(s), spanRequest(4).body)));
    expect(bytes.filter((a) => a.code === 503 && a.hinted).length).toBeGreaterThan(0);
    expect(bytes.some(succeeded)).toBe(true);
    await s.shutdown();

    s = await start({ 'max-inflight-requests': '1', 'flush-interval': '800' });
    const requests = await Promise.all(Array.from({ length: 3 }, () => sendOnce('grpc', ports(s), spanRequest(1).body)));
    expect(requests.filter(succeeded)).toHaveLength(1);
    expect(requests.filter((a) => a.code === 14 && a.hinted)).toHaveLength(2);
  });

});
