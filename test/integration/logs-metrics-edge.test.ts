// What the SDKs do not send but OTLP allows: summaries, exemplars, asInt points, int64 beyond 2^53,
// NaN and ±Infinity, bytes and nested bodies, logs without trace context, a time of 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
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

const T = '1700000000000000001';
const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });

async function postJsonText(urlPath: string, text: string): Promise<void> {
  const res = await httpPost(server.http.port, urlPath, text, { 'Content-Type': 'application/json' });
  expect(res.status, res.body.toString()).toBe(200);
  expect(JSON.parse(res.body.toString())).toEqual({});
}

describe('metrics the SDKs do not send', () => {
  it('summaries, exemplars, asInt beyond 2^53 (as JSON number and string), NaN and ±Infinity', async () => {
    // Written as text: 9223372036854775807 must reach us as a JSON number, which JSON.parse would round.
    const body = `{"resourceMetrics":[{"resource":${JSON.stringify(resource('edge'))},"scopeMetrics":[{"metrics":[
      {"name":"edge.summary","summary":{"dataPoints":[{"timeUnixNano":"${T}","count":"18446744073709551","sum":12.5,
        "quantileValues":[{"quantile":0.5,"value":1.5},{"quantile":0.99,"value":"Infinity"},{"quantile":1,"value":"NaN"}]}]}},
      {"name":"edge.int.number","gauge":{"dataPoints":[{"timeUnixNano":"${T}","asInt":9223372036854775807}]}},
      {"name":"edge.int.string","gauge":{"dataPoints":[{"timeUnixNano":"${T}","asInt":"-9007199254740993"}]}},
      {"name":"edge.specials","gauge":{"dataPoints":[
        {"timeUnixNano":"${T}","asDouble":"NaN","attributes":[{"key":"k","value":{"stringValue":"nan"}}]},
        {"timeUnixNano":"${T}","asDouble":"-Infinity","attributes":[{"key":"k","value":{"stringValue":"-inf"}}]}]}},
      {"name":"edge.exemplars","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"timeUnixNano":"${T}",
        "asDouble":3.0,"flags":1,"exemplars":[
          {"timeUnixNano":"${T}","asInt":"9007199254740993","traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"B7AD6B7169203331",
           "filteredAttributes":[{"key":"user","value":{"stringValue":"u1"}}]},
          {"timeUnixNano":"${T}","asDouble":2.0}]}]}}
    ]}]}]}`;
    await postJsonText('/v1/metrics', body);

    const points = await query<Record<string, unknown>>(
      db.url,
      `SELECT m.name, m.type, p.value_double, p.value_int::text AS value_int, p.count::text AS count, p.sum,
              p.quantile_values::text AS quantiles, p.exemplars::text AS exemplars, p.flags, p.attributes
         FROM metric_data_points p JOIN metrics m USING (metric_id) ORDER BY m.name, p.value_double`,
    );
    const byName = (name: string) => points.filter((p) => p.name === name);
    expect(byName('edge.summary')).toEqual([
      expect.objectContaining({
        type: 'summary',
        count: '18446744073709551',
        sum: 12.5,
        quantiles: '[{"value": 1.5, "quantile": 0.5}, {"value": {"$double": "Infinity"}, "quantile": 0.99}, {"value": {"$double": "NaN"}, "quantile": 1.0}]',
      }),
    ]);
    expect(byName('edge.int.number')).toEqual([expect.objectContaining({ type: 'gauge', value_int: '9223372036854775807', value_double: null })]);
    expect(byName('edge.int.string')).toEqual([expect.objectContaining({ value_int: '-9007199254740993' })]);
    const specials = Object.fromEntries(byName('edge.specials').map((p) => [(p.attributes as { k: string }).k, p.value_double]));
    expect(specials).toEqual({ nan: NaN, '-inf': -Infinity });
    expect(byName('edge.exemplars')).toEqual([
      expect.objectContaining({
        type: 'sum',
        value_double: 3,
        flags: '1',
        exemplars:
          '[{"value": 9007199254740993, "span_id": "b7ad6b7169203331", "trace_id": "0af7651916cd43dd8448eb211c80319c", ' +
          `"time_unix_nano": "${T}", "filtered_attributes": {"user": "u1"}}, ` +
          `{"value": 2.0, "span_id": "", "trace_id": "", "time_unix_nano": "${T}", "filtered_attributes": {}}]`,
      }),
    ]);
  });

  it('refuses only a point whose uint64 count PostgreSQL cannot hold, with a partial-success answer', async () => {
    const body = {
      resourceMetrics: [
        {
          resource: resource('edge-partial'),
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'edge.huge.count',
                  histogram: {
                    aggregationTemporality: 1,
                    dataPoints: [
                      { timeUnixNano: T, count: '18446744073709551615', bucketCounts: ['18446744073709551615'], explicitBounds: [] },
                      { timeUnixNano: T, count: '1', bucketCounts: ['1'], explicitBounds: [] },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await grpcExport(server.grpc.port, 'metrics', jsonToProtobuf('metrics', body));
    expect(res.code).toBe(0);
    expect(res.response?.length).toBeGreaterThan(0); // a partial_success, not the empty success
    const http = await httpPost(server.http.port, '/v1/metrics', JSON.stringify(body), { 'Content-Type': 'application/json' });
    expect(JSON.parse(http.body.toString())).toEqual({
      partialSuccess: { rejectedDataPoints: expect.anything(), errorMessage: 'rejected 1 of 2 data points: counts must be below 2^63 (1)' },
    });
    expect(Number(JSON.parse(http.body.toString()).partialSuccess.rejectedDataPoints)).toBe(1);
    const rows = await query(db.url, `SELECT count FROM metric_data_points p JOIN metrics m USING (metric_id) WHERE m.name = 'edge.huge.count'`);
    expect(rows).toEqual([{ count: '1' }, { count: '1' }]);
  });
});

describe('logs the SDKs do not send', () => {
  it('bytes and nested bodies, no trace context, a time of 0, int64 and specials in attributes', async () => {
    const body = `{"resourceLogs":[{"resource":${JSON.stringify(resource('edge-logs'))},"scopeLogs":[{"logRecords":[
      {"timeUnixNano":"0","observedTimeUnixNano":"${T}","body":{"bytesValue":"AAEC/w=="},"severityNumber":17,
       "attributes":[{"key":"big","value":{"intValue":9007199254740993}},{"key":"nan","value":{"doubleValue":"NaN"}},
                     {"key":"whole","value":{"doubleValue":2.0}}]},
      {"timeUnixNano":"${T}","body":{"kvlistValue":{"values":[
        {"key":"list","value":{"arrayValue":{"values":[{"intValue":"1"},{"kvlistValue":{"values":[{"key":"deep","value":{"boolValue":true}}]}}]}}},
        {"key":"empty","value":{}}]}},
       "traceId":"","spanId":"00","severityText":"WARN"}
    ]}]}]}`;
    await postJsonText('/v1/logs', body);
    const rows = await query<Record<string, unknown>>(
      db.url,
      `SELECT "timestamp", time_unix_nano, observed_time_unix_nano, body::text AS body, attributes::text AS attributes,
              trace_id, span_id, severity_text
         FROM logs WHERE service_name = 'edge-logs' ORDER BY severity_number DESC`,
    );
    expect(rows).toEqual([
      {
        // time 0: placed by the observed time, the 0 kept.
        timestamp: new Date(Number(BigInt(T) / 1_000_000n)),
        time_unix_nano: '0',
        observed_time_unix_nano: T,
        body: '{"$bytes": "AAEC/w=="}',
        attributes: '{"big": 9007199254740993, "nan": {"$double": "NaN"}, "whole": 2.0}',
        trace_id: null,
        span_id: null,
        severity_text: '',
      },
      {
        timestamp: new Date(Number(BigInt(T) / 1_000_000n)),
        time_unix_nano: T,
        observed_time_unix_nano: '0',
        body: '{"list": [1, {"deep": true}], "empty": null}',
        attributes: '{}',
        trace_id: null, // empty and malformed ids are stored as NULL, the record kept
        span_id: null,
        severity_text: 'WARN',
      },
    ]);
  });
});
