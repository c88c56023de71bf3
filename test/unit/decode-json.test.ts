import { describe, expect, it } from 'vitest';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { decodeRequest } from '../../src/decode/index.js';
import type { AnyValue, KeyValue, Signal, SignalRequests } from '../../src/decode/types.js';
import { keyValuesOf } from '../../src/decode/wire-attributes.js';
import { OtlpError } from '../../src/errors.js';
import { withAttributesDecoded } from '../helpers/decoded.js';
import { deepLogJson, exampleJson, sdkLogRecords, sdkMetrics, sdkSpans } from '../helpers/decode-fixtures.js';

const json = <S extends Signal>(signal: S, text: string): SignalRequests[S] =>
  decodeRequest(signal, Buffer.from(text), 'json');
const example = <S extends Signal>(signal: S, file: string): SignalRequests[S] =>
  decodeRequest(signal, exampleJson(file), 'json');
const id = (hex: string): Buffer => Buffer.from(hex, 'hex');
const str = (value: string): AnyValue => ({ kind: 'string', value });
const int = (value: bigint): AnyValue => ({ kind: 'int', value });
const double = (value: number): AnyValue => ({ kind: 'double', value });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

function only<T>(list: readonly T[]): T {
  expect(list).toHaveLength(1);
  return list[0] as T;
}

function invalid(decode: () => unknown): string {
  try {
    decode();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpError);
    expect((err as OtlpError).kind).toBe('invalid_argument');
    return (err as OtlpError).message;
  }
  throw new Error('expected an invalid_argument OtlpError');
}

// The one item of a one-item request, given as the JSON text of its fields.
function spanOf(fields: string) {
  const request = json('traces', `{"resourceSpans":[{"scopeSpans":[{"spans":[{${fields}}]}]}]}`);
  return only(only(only(request.resourceSpans).scopeSpans).spans);
}
function logOf(fields: string) {
  const request = json('logs', `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{${fields}}]}]}]}`);
  return only(only(only(request.resourceLogs).scopeLogs).logRecords);
}
function metricOf(fields: string) {
  const request = json('metrics', `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{${fields}}]}]}]}`);
  return only(only(only(request.resourceMetrics).scopeMetrics).metrics);
}
const attributeOf = (value: string) => only(keyValuesOf(spanOf(`"attributes":[{"key":"a","value":${value}}]`).attributes)).value;

describe('OTLP/JSON: what the OTel JS SDK exports decodes as its protobuf does', () => {
  it('traces', () => {
    const spans = sdkSpans();
    expect(decodeRequest('traces', JsonTraceSerializer.serializeRequest(spans)!, 'json')).toEqual(
      withAttributesDecoded('traces', decodeRequest('traces', ProtobufTraceSerializer.serializeRequest(spans)!, 'protobuf')),
    );
  });

  it('logs', () => {
    const records = sdkLogRecords();
    expect(decodeRequest('logs', JsonLogsSerializer.serializeRequest(records)!, 'json')).toEqual(
      withAttributesDecoded('logs', decodeRequest('logs', ProtobufLogsSerializer.serializeRequest(records)!, 'protobuf')),
    );
  });

  it('metrics', async () => {
    const resourceMetrics = await sdkMetrics();
    expect(decodeRequest('metrics', JsonMetricsSerializer.serializeRequest(resourceMetrics)!, 'json')).toEqual(
      withAttributesDecoded('metrics', decodeRequest('metrics', ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!, 'protobuf')),
    );
  });
});

describe('OTLP/JSON: the upstream examples', () => {
  const scope = {
    name: 'my.library',
    version: '1.0.0',
    attributes: [kv('my.scope.attribute', str('some scope attribute'))],
    droppedAttributesCount: 0,
  };

  it('trace.json: uppercase hex ids, uint64 strings exact', () => {
    const resourceSpans = only(example('traces', 'trace.json').resourceSpans);
    expect(resourceSpans.resource).toEqual({
      attributes: [kv('service.name', str('my.service'))],
      droppedAttributesCount: 0,
    });
    const scopeSpans = only(resourceSpans.scopeSpans);
    expect(scopeSpans.scope).toEqual(scope);
    expect(only(scopeSpans.spans)).toEqual({
      traceId: id('5b8efff798038103d269b633813fc60c'),
      spanId: id('eee19b7ec3c1b174'),
      traceState: '',
      parentSpanId: id('eee19b7ec3c1b173'),
      flags: 0,
      name: "I'm a server span",
      kind: 2,
      startTimeUnixNano: 1544712660000000000n,
      endTimeUnixNano: 1544712661000000000n,
      attributes: [kv('my.span.attr', str('some value'))],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: undefined,
    });
  });

  it('logs.json: every attribute type', () => {
    const record = only(only(only(example('logs', 'logs.json').resourceLogs).scopeLogs).logRecords);
    expect(record).toMatchObject({
      timeUnixNano: 1544712660300000000n,
      observedTimeUnixNano: 1544712660300000000n,
      severityNumber: 10,
      severityText: 'Information',
      traceId: id('5b8efff798038103d269b633813fc60c'),
      spanId: id('eee19b7ec3c1b174'),
      body: str('Example log record'),
      eventName: '',
    });
    expect(record.attributes).toEqual([
      kv('string.attribute', str('some string')),
      kv('boolean.attribute', { kind: 'bool', value: true }),
      kv('int.attribute', int(10n)),
      kv('double.attribute', double(637.704)),
      kv('array.attribute', { kind: 'array', value: [str('many'), str('values')] }),
      kv('map.attribute', { kind: 'kvlist', value: [kv('some.map.key', str('some value'))] }),
    ]);
  });

  it('events.json: eventName and a kvlist body', () => {
    const scopeLogs = only(only(example('logs', 'events.json').resourceLogs).scopeLogs);
    expect(scopeLogs.scope).toEqual(scope);
    const record = only(scopeLogs.logRecords);
    expect(record.eventName).toBe('browser.page_view');
    expect(record.severityNumber).toBe(9);
    expect(record.traceId).toHaveLength(0);
    expect(record.body).toEqual({
      kind: 'kvlist',
      value: [
        kv('type', int(0n)),
        kv('url', str('https://www.guidgenerator.com/online-guid-generator.aspx')),
        kv('referrer', str('https://wwww.google.com')),
        kv('title', str('Free Online GUID Generator')),
      ],
    });
  });

  it('metrics.json: sum, gauge, histogram, exponential histogram', () => {
    const metrics = only(only(example('metrics', 'metrics.json').resourceMetrics).scopeMetrics).metrics;
    const time = 1544712660300000000n;
    expect(metrics.map((m) => [m.name, m.unit, m.description])).toEqual([
      ['my.counter', '1', 'I am a Counter'],
      ['my.gauge', '1', 'I am a Gauge'],
      ['my.histogram', '1', 'I am a Histogram'],
      ['my.exponential.histogram', '1', 'I am an Exponential Histogram'],
    ]);
    expect(metrics[0]?.data).toMatchObject({
      type: 'sum',
      aggregationTemporality: 1,
      isMonotonic: true,
      dataPoints: [{ value: { kind: 'double', value: 5 }, startTimeUnixNano: time, timeUnixNano: time }],
    });
    expect(metrics[1]?.data).toMatchObject({
      type: 'gauge',
      dataPoints: [{ value: double(10), startTimeUnixNano: 0n, timeUnixNano: time }],
    });
    expect(metrics[2]?.data).toMatchObject({
      type: 'histogram',
      dataPoints: [{ count: 2n, sum: 2, bucketCounts: [1n, 1n], explicitBounds: [1], min: 0, max: 2, flags: 0 }],
    });
    expect(metrics[3]?.data).toEqual({
      type: 'exponential_histogram',
      aggregationTemporality: 1,
      dataPoints: [
        {
          attributes: [kv('my.exponential.histogram.attr', str('some value'))],
          startTimeUnixNano: time,
          timeUnixNano: time,
          count: 3n,
          sum: 10,
          scale: 0,
          zeroCount: 1n,
          positive: { offset: 1, bucketCounts: [0n, 2n] },
          negative: undefined,
          flags: 0,
          exemplars: [],
          min: 0,
          max: 5,
          zeroThreshold: 0,
        },
      ],
    });
  });
});

describe('OTLP/JSON: numbers, names and spellings', () => {
  it('reads 64-bit integers beyond 2^53 exactly, as numbers and as strings', () => {
    const span = spanOf(
      '"startTimeUnixNano":18446744073709551615,"endTimeUnixNano":"18446744073709551614","attributes":[' +
        '{"key":"min","value":{"intValue":"-9223372036854775808"}},' +
        '{"key":"max","value":{"intValue":9223372036854775807}}]',
    );
    expect(span.startTimeUnixNano).toBe(18446744073709551615n);
    expect(span.endTimeUnixNano).toBe(18446744073709551614n);
    expect(span.attributes).toEqual([kv('min', int(-9223372036854775808n)), kv('max', int(9223372036854775807n))]);
  });

  it('refuses integers out of range or not integral', () => {
    expect(invalid(() => spanOf('"startTimeUnixNano":18446744073709551616'))).toMatch(
      /spans\[0\]\.startTimeUnixNano: 18446744073709551616 is out of range/,
    );
    expect(invalid(() => spanOf('"startTimeUnixNano":"-1"'))).toMatch(/out of range/);
    expect(invalid(() => attributeOf('{"intValue":"9223372036854775808"}'))).toMatch(/intValue: .*out of range/);
    expect(invalid(() => attributeOf('{"intValue":1.5}'))).toMatch(/expected an integer/);
    expect(invalid(() => spanOf('"droppedAttributesCount":4294967296'))).toMatch(/droppedAttributesCount/);
  });

  it('reads doubles written as "NaN", "Infinity", "-Infinity" and numeric strings', () => {
    expect(attributeOf('{"doubleValue":"NaN"}')).toEqual(double(NaN));
    expect(attributeOf('{"doubleValue":"Infinity"}')).toEqual(double(Infinity));
    expect(attributeOf('{"doubleValue":"-Infinity"}')).toEqual(double(-Infinity));
    expect(attributeOf('{"doubleValue":"2.5"}')).toEqual(double(2.5));
    expect(attributeOf('{"doubleValue":1e300}')).toEqual(double(1e300));
    const histogram = metricOf('"histogram":{"dataPoints":[{"sum":"NaN","min":"-Infinity","max":"Infinity"}]}').data;
    expect(histogram).toMatchObject({ type: 'histogram', dataPoints: [{ sum: NaN, min: -Infinity, max: Infinity }] });
    expect(invalid(() => attributeOf('{"doubleValue":"fast"}'))).toMatch(/doubleValue/);
  });

  it('accepts snake_case field names', () => {
    const request = json(
      'traces',
      '{"resource_spans":[{"resource":{"dropped_attributes_count":2,"attributes":[' +
        '{"key":"k","value":{"kvlist_value":{"values":[{"key":"n","value":{"int_value":"7"}}]}}}]},' +
        '"scope_spans":[{"schema_url":"s","spans":[{"trace_id":"5b8efff798038103d269b633813fc60c",' +
        '"parent_span_id":"eee19b7ec3c1b173","start_time_unix_nano":"1","dropped_events_count":3}]}]}]}',
    );
    const resourceSpans = only(request.resourceSpans);
    expect(resourceSpans.resource).toEqual({
      attributes: [kv('k', { kind: 'kvlist', value: [kv('n', int(7n))] })],
      droppedAttributesCount: 2,
    });
    const scopeSpans = only(resourceSpans.scopeSpans);
    expect(scopeSpans.schemaUrl).toBe('s');
    expect(only(scopeSpans.spans)).toMatchObject({
      traceId: id('5b8efff798038103d269b633813fc60c'),
      parentSpanId: id('eee19b7ec3c1b173'),
      startTimeUnixNano: 1n,
      droppedEventsCount: 3,
    });
  });

  it('accepts enum names as well as integers', () => {
    expect(spanOf('"kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR"}')).toMatchObject({
      kind: 2,
      status: { code: 2 },
    });
    expect(spanOf('"kind":"span_kind_client"').kind).toBe(3);
    expect(spanOf('"kind":7').kind).toBe(7); // proto3 enums are open: unknown values are kept
    expect(logOf('"severityNumber":"SEVERITY_NUMBER_INFO"').severityNumber).toBe(9);
    expect(metricOf('"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE"}').data).toMatchObject({
      type: 'sum',
      aggregationTemporality: 2,
      isMonotonic: false,
    });
    expect(invalid(() => spanOf('"kind":"SPAN_KIND_SIDEWAYS"'))).toMatch(
      /kind: unknown SPAN_KIND_\* value "SPAN_KIND_SIDEWAYS"/,
    );
  });

  it('treats empty ids, nulls and unknown fields as absent, and bytes as base64', () => {
    const span = spanOf('"traceId":"","parentSpanId":null,"name":null,"status":null,"futureField":{"x":[1,2]}');
    expect(span).toMatchObject({ traceId: Buffer.alloc(0), parentSpanId: Buffer.alloc(0), name: '' });
    expect(span.status).toBeUndefined();
    expect(logOf('"body":null').body).toBeUndefined();
    expect(attributeOf('{}')).toEqual({ kind: 'empty' });
    expect(attributeOf('{"bytesValue":"AAH/"}')).toEqual({ kind: 'bytes', value: Buffer.from([0, 1, 255]) });
    expect(attributeOf('{"bytesValue":"AAH_"}')).toEqual({ kind: 'bytes', value: Buffer.from([0, 1, 255]) });
  });
});

describe('OTLP/JSON: bad input is refused with the path of what is wrong', () => {
  it('refuses malformed JSON, a non-object document and invalid UTF-8', () => {
    expect(invalid(() => json('traces', '{"resourceSpans": ['))).toMatch(/^invalid JSON/);
    expect(invalid(() => json('traces', '[]'))).toMatch(/must be a JSON object/);
    expect(invalid(() => json('traces', 'null'))).toMatch(/must be a JSON object/);
    invalid(() => decodeRequest('traces', Buffer.from([0x7b, 0xff, 0x7d]), 'json'));
  });

  it('refuses fields of the wrong JSON type', () => {
    expect(invalid(() => json('traces', '{"resourceSpans":{}}'))).toBe(
      'invalid OTLP/JSON at resourceSpans: expected an array, got an object',
    );
    expect(invalid(() => spanOf('"name":5'))).toBe(
      'invalid OTLP/JSON at resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, got a number',
    );
    expect(invalid(() => json('traces', '{"resourceSpans":[7]}'))).toMatch(/at resourceSpans\[0\]: expected an object/);
    expect(invalid(() => attributeOf('{"boolValue":"true"}'))).toMatch(
      /attributes\[0\]\.value\.boolValue: expected true or false/,
    );
    expect(invalid(() => attributeOf('{"kvlistValue":{"values":[{"key":1}]}}'))).toMatch(
      /kvlistValue\.values\[0\]\.key: expected a string/,
    );
  });

  it('refuses ids that are not hex, and bytes that are not base64', () => {
    // An odd digit count is not hex either; an even count of the wrong length decodes (map/ refuses the span alone).
    expect(invalid(() => spanOf('"traceId":"5b8efff798038103d269b633813fc60"'))).toMatch(/spans\[0\]\.traceId: expected hex digits/);
    expect(invalid(() => spanOf('"spanId":"eee19b7ec3c1b17g"'))).toMatch(/spans\[0\]\.spanId: expected hex digits/);
    expect(invalid(() => spanOf('"spanId":"7uGbfsPBsXM="'))).toMatch(/spanId/); // base64 is not OTLP/JSON
    expect(invalid(() => attributeOf('{"bytesValue":"not base64!"}'))).toMatch(/bytesValue: expected base64/);
  });

  it.each(['kvlist', 'array'] as const)('accepts AnyValues nested 64 deep through %s, refuses 65 and 10000', (via) => {
    const logs = (text: Buffer) => decodeRequest('logs', text, 'json');
    expect(() => logs(deepLogJson(64, via))).not.toThrow();
    expect(invalid(() => logs(deepLogJson(65, via)))).toMatch(/deeper than 64/);
    invalid(() => logs(deepLogJson(10_000, via)));
    invalid(() => logs(deepLogJson(10_000, via, true)));
  });
});
