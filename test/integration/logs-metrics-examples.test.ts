// Acceptance: the upstream logs, events and metrics examples posted to the HTTP endpoints answer
// 200 {} and every value in them is stored.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-root.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { grpcExport, httpPost, jsonToProtobuf } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

const example = (name: string): string => readFileSync(path.join(packageRoot, 'test/fixtures/otlp-examples', name), 'utf8');

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

async function postJson(urlPath: string, body: string): Promise<void> {
  const res = await httpPost(server.http.port, urlPath, body, { 'Content-Type': 'application/json' });
  expect(res.status, res.body.toString()).toBe(200);
  expect(JSON.parse(res.body.toString())).toEqual({});
}

const T = '1544712660300000000';

describe('the upstream logs examples', () => {
  it('logs.json: every field of the record, its resource and scope', async () => {
    await postJson('/v1/logs', example('logs.json'));
    const rows = await query(
      db.url,
      `SELECT l."timestamp", l.time_unix_nano, l.observed_time_unix_nano, l.severity_number, l.severity_text,
              l.body, l.body #>> '{}' AS body_text, l.attributes, l.attributes::text AS attributes_text,
              l.dropped_attributes_count, l.flags, encode(l.trace_id, 'hex') AS trace_id, encode(l.span_id, 'hex') AS span_id,
              l.event_name, l.service_name, r.attributes AS resource, s.name AS scope_name, s.version AS scope_version,
              s.attributes AS scope_attributes
         FROM logs l JOIN resources r USING (resource_id) JOIN scopes s USING (scope_id)
        WHERE l.event_name = ''`,
    );
    expect(rows).toEqual([
      {
        timestamp: new Date('2018-12-13T14:51:00.300Z'),
        time_unix_nano: T,
        observed_time_unix_nano: T,
        severity_number: 10,
        severity_text: 'Information',
        body: 'Example log record',
        body_text: 'Example log record',
        attributes: {
          'string.attribute': 'some string',
          'boolean.attribute': true,
          'int.attribute': 10,
          'double.attribute': 637.704,
          'array.attribute': ['many', 'values'],
          'map.attribute': { 'some.map.key': 'some value' },
        },
        attributes_text: expect.stringContaining('"int.attribute": 10,'),
        dropped_attributes_count: '0',
        flags: '0',
        trace_id: '5b8efff798038103d269b633813fc60c',
        span_id: 'eee19b7ec3c1b174',
        event_name: '',
        service_name: 'my.service',
        resource: { 'service.name': 'my.service' },
        scope_name: 'my.library',
        scope_version: '1.0.0',
        scope_attributes: { 'my.scope.attribute': 'some scope attribute' },
      },
    ]);
  });

  it('events.json: the event name and the kvlist body', async () => {
    await postJson('/v1/logs', example('events.json'));
    const sent = JSON.parse(example('events.json'));
    const record = sent.resourceLogs[0].scopeLogs[0].logRecords[0];
    const [row] = await query<{ event_name: string; body: unknown; severity_number: number; attributes: unknown }>(
      db.url,
      `SELECT event_name, body, severity_number, attributes FROM logs WHERE event_name <> ''`,
    );
    expect(row?.event_name).toBe('browser.page_view');
    expect(row?.severity_number).toBe(record.severityNumber);
    expect(row?.attributes).toEqual({ 'event.attribute': 'some event attribute' });
    // The body is the example's kvlist with typed values: rebuild it from the request to compare.
    const plain = (v: Record<string, unknown>): unknown => {
      if ('stringValue' in v) return v.stringValue;
      if ('intValue' in v) return Number(v.intValue);
      if ('doubleValue' in v) return v.doubleValue;
      if ('boolValue' in v) return v.boolValue;
      if ('arrayValue' in v) return ((v.arrayValue as { values: Record<string, unknown>[] }).values ?? []).map(plain);
      const kvs = (v.kvlistValue as { values: { key: string; value: Record<string, unknown> }[] }).values;
      return Object.fromEntries(kvs.map((kv) => [kv.key, plain(kv.value)]));
    };
    expect(row?.body).toEqual(plain(record.body));
  });
});

describe('the upstream metrics example', () => {
  it('metrics.json: sum, gauge, histogram and exponential histogram, with uint64 strings exact', async () => {
    await postJson('/v1/metrics', example('metrics.json'));
    const metrics = await query(
      db.url,
      `SELECT name, description, unit, type, aggregation_temporality, is_monotonic, metadata, service_name
         FROM metrics ORDER BY name`,
    );
    expect(metrics).toEqual([
      { name: 'my.counter', description: 'I am a Counter', unit: '1', type: 'sum', aggregation_temporality: 1, is_monotonic: true, metadata: {}, service_name: 'my.service' },
      { name: 'my.exponential.histogram', description: 'I am an Exponential Histogram', unit: '1', type: 'exponential_histogram', aggregation_temporality: 1, is_monotonic: false, metadata: {}, service_name: 'my.service' },
      { name: 'my.gauge', description: 'I am a Gauge', unit: '1', type: 'gauge', aggregation_temporality: 0, is_monotonic: false, metadata: {}, service_name: 'my.service' },
      { name: 'my.histogram', description: 'I am a Histogram', unit: '1', type: 'histogram', aggregation_temporality: 1, is_monotonic: false, metadata: {}, service_name: 'my.service' },
    ]);

    const points = await query(
      db.url,
      `SELECT m.name, p."time", p.time_unix_nano, p.start_time_unix_nano, p.attributes, p.flags, p.value_double, p.value_int,
              p.count, p.sum, p.min, p.max, p.bucket_counts, p.explicit_bounds, p.scale, p.zero_count, p.zero_threshold,
              p.positive_offset, p.positive_bucket_counts, p.negative_offset, p.negative_bucket_counts,
              p.quantile_values, p.exemplars
         FROM metric_data_points p JOIN metrics m USING (metric_id) ORDER BY m.name`,
    );
    const none = {
      value_double: null, value_int: null, count: null, sum: null, min: null, max: null, bucket_counts: null,
      explicit_bounds: null, scale: null, zero_count: null, zero_threshold: null, positive_offset: null,
      positive_bucket_counts: null, negative_offset: null, negative_bucket_counts: null, quantile_values: null, exemplars: null,
    };
    const at = { time: new Date('2018-12-13T14:51:00.300Z'), time_unix_nano: T, flags: '0' };
    expect(points).toEqual([
      { ...none, ...at, name: 'my.counter', start_time_unix_nano: T, attributes: { 'my.counter.attr': 'some value' }, value_double: 5 },
      {
        ...none, ...at, name: 'my.exponential.histogram', start_time_unix_nano: T,
        attributes: { 'my.exponential.histogram.attr': 'some value' },
        count: '3', sum: 10, min: 0, max: 5, scale: 0, zero_count: '1', zero_threshold: 0,
        positive_offset: 1, positive_bucket_counts: ['0', '2'],
      },
      { ...none, ...at, name: 'my.gauge', start_time_unix_nano: '0', attributes: { 'my.gauge.attr': 'some value' }, value_double: 10 },
      {
        ...none, ...at, name: 'my.histogram', start_time_unix_nano: T, attributes: { 'my.histogram.attr': 'some value' },
        count: '2', sum: 2, min: 0, max: 2, bucket_counts: ['1', '1'], explicit_bounds: [1],
      },
    ]);
  });

  it('the same metric again, over gRPC, adds points to the same streams', async () => {
    const res = await grpcExport(server.grpc.port, 'metrics', jsonToProtobuf('metrics', JSON.parse(example('metrics.json'))));
    expect(res.code).toBe(0);
    const [counts] = await query<{ metrics: string; points: string }>(
      db.url,
      'SELECT (SELECT count(*) FROM metrics) AS metrics, (SELECT count(*) FROM metric_data_points) AS points',
    );
    expect(counts).toEqual({ metrics: '4', points: '8' });
  });
});
