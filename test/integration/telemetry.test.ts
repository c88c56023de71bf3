// /metrics counts what was sent, per signal, in the Collector's vocabulary; /healthz and /readyz answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase } from '../helpers/database.js';
import { httpPost } from '../helpers/otlp.js';
import { sendOnce, spanRequest } from '../helpers/sender.js';
import { scrapeMetrics, startTestServer, telemetryUrl } from '../helpers/server.js';

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

const T = String(BigInt(Date.now()) * 1_000_000n);

describe('self-telemetry', () => {
  it('counts accepted and refused items and requests per signal', async () => {
    const ports = { grpc: server.grpc.port, http: server.http.port };
    for (let i = 0; i < 3; i++) await sendOnce(i === 1 ? 'grpc' : 'http/json', ports, spanRequest(7).body);
    const logs = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: T, body: { stringValue: 'a' } }, { timeUnixNano: T }] }] }] };
    await httpPost(ports.http, '/v1/logs', JSON.stringify(logs), { 'Content-Type': 'application/json' });
    const metrics = {
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', gauge: { dataPoints: [{ timeUnixNano: T, asInt: '1' }, { timeUnixNano: T, asInt: '2' }, { timeUnixNano: T, asInt: '3' }] } }] }] }],
    };
    await httpPost(ports.http, '/v1/metrics', JSON.stringify(metrics), { 'Content-Type': 'application/json' });
    // Refused: undecodable, and one span without a trace id (partial success).
    await httpPost(ports.http, '/v1/traces', '{"resourceSpans": 3}', { 'Content-Type': 'application/json' });
    const partial = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '', spanId: '0102030405060708', name: 'x' }] }] }] };
    await httpPost(ports.http, '/v1/traces', JSON.stringify(partial), { 'Content-Type': 'application/json' });

    const m = await scrapeMetrics(server);
    expect(m.get('otlp_pg_receiver_accepted_spans_total')).toBe(21);
    expect(m.get('otlp_pg_exporter_sent_spans_total')).toBe(21);
    expect(m.get('otlp_pg_receiver_accepted_log_records_total')).toBe(2);
    expect(m.get('otlp_pg_exporter_sent_log_records_total')).toBe(2);
    expect(m.get('otlp_pg_receiver_accepted_metric_points_total')).toBe(3);
    expect(m.get('otlp_pg_exporter_sent_metric_points_total')).toBe(3);
    expect(m.get('otlp_pg_receiver_refused_spans_total{reason="partial"}')).toBe(1);
    expect(m.get('otlp_pg_receiver_requests_total{signal="traces",outcome="success"}')).toBe(4);
    expect(m.get('otlp_pg_receiver_requests_total{signal="traces",outcome="invalid"}')).toBe(1);
    expect(m.get('otlp_pg_receiver_requests_total{signal="logs",outcome="success"}')).toBe(1);
    expect(m.get('otlp_pg_exporter_batch_rows_count{signal="traces"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('otlp_pg_exporter_batch_rows_sum{signal="traces"}')).toBe(21);
    expect(m.get('otlp_pg_inflight_bytes')).toBe(0);
    expect(m.get('otlp_pg_inflight_bytes_capacity')).toBe(64 * 1024 * 1024);
    expect(m.get('otlp_pg_pool_connections{state="max"}')).toBe(5);
    expect(m.get('otlp_pg_exporter_queue_capacity')).toBe(2);
  });

  it('answers /healthz and /readyz', async () => {
    const base = `${telemetryUrl(server)}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, failing: {} });
  });
});
