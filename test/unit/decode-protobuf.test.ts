import { describe, expect, it } from 'vitest';
import type { HrTime } from '@opentelemetry/api';
import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { isDeepStrictEqual } from 'node:util';
import { decodeRequest } from '../../src/decode/index.js';
import type { AnyValue, KeyValue, Metric, Signal } from '../../src/decode/types.js';
import { OtlpError } from '../../src/errors.js';
import { buildTemplates } from '../../src/loadgen/build-requests.js';
import { defaultLoadgenOptions } from '../../src/loadgen/options.js';
import {
  EXAMPLES,
  LINKED,
  REMOTE_PARENT,
  deepLogRequest,
  exampleJson,
  jsonToProtobuf,
  ld,
  sdkLogRecords,
  sdkMetrics,
  sdkSpans,
  varint,
} from '../helpers/decode-fixtures.js';
import { decodeWithProtobufjs } from '../helpers/protobufjs-reference.js';
import { Rng, mutate, randomRequest } from '../helpers/random-requests.js';

const id = (hex: string): Buffer => Buffer.from(hex, 'hex');
const ns = ([seconds, nanos]: HrTime): bigint => BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
const str = (value: string): AnyValue => ({ kind: 'string', value });
const int = (value: bigint): AnyValue => ({ kind: 'int', value });
const double = (value: number): AnyValue => ({ kind: 'double', value });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

function only<T>(list: readonly T[]): T {
  expect(list).toHaveLength(1);
  return list[0] as T;
}

function invalid(decode: () => unknown): OtlpError {
  try {
    decode();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpError);
    expect((err as OtlpError).kind).toBe('invalid_argument');
    return err as OtlpError;
  }
  throw new Error('expected an invalid_argument OtlpError');
}

const RESOURCE = {
  attributes: [kv('service.name', str('checkout')), kv('host.cpu.count', int(8n))],
  droppedAttributesCount: 0,
};

// Hand encoding, field numbers from the OTLP .proto files.
const tag = (field: number, wireType: number): number[] => varint(field * 8 + wireType);
const u32 = (field: number, n: number): number[] => [...tag(field, 0), ...varint(n)];
const fixed64 = (field: number, n: bigint): number[] => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, n));
  return [...tag(field, 1), ...bytes];
};
const float64 = (field: number, x: number): number[] => {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleLE(x);
  return [...tag(field, 1), ...bytes];
};
const text = (field: number, s: string): number[] => ld(field, [...Buffer.from(s)]);
// KeyValue{key=1, value=2: AnyValue{string_value=1}}
const attribute = (field: number, key: string, value: string): number[] =>
  ld(field, [...text(1, key), ...ld(2, text(1, value))]);

describe('protobuf: what the OTel JS SDK exports (otlp-transformer serializers)', () => {
  it('decodes a span: ids, exact ns times, typed attributes, event, link, status, flags, resource, scope', () => {
    const [sdkSpan] = sdkSpans();
    const request = decodeRequest('traces', ProtobufTraceSerializer.serializeRequest([sdkSpan!])!, 'protobuf');

    const resourceSpans = only(request.resourceSpans);
    expect(resourceSpans.resource).toEqual(RESOURCE);
    const scopeSpans = only(resourceSpans.scopeSpans);
    expect(scopeSpans.scope).toEqual({
      name: 'checkout-lib',
      version: '1.2.3',
      attributes: [],
      droppedAttributesCount: 0,
    });
    expect(only(scopeSpans.spans)).toEqual({
      traceId: id(REMOTE_PARENT.traceId),
      spanId: id(sdkSpan!.spanContext().spanId),
      traceState: 'vendor=value',
      parentSpanId: id(REMOTE_PARENT.spanId),
      flags: 0x301, // sampled | parent's remoteness known | parent is remote
      name: 'GET /cart',
      kind: 2,
      startTimeUnixNano: 1700000000123456789n,
      endTimeUnixNano: 1700000001999999999n,
      attributes: [
        kv('http.status', int(500n)),
        kv('ratio', double(0.25)),
        kv('cached', { kind: 'bool', value: false }),
        kv('ids', { kind: 'array', value: [int(1n), int(2n), int(3n)] }),
        kv('max.safe', int(9007199254740991n)),
      ],
      droppedAttributesCount: 0,
      events: [
        {
          timeUnixNano: 1700000000223456789n,
          name: 'cache.miss',
          attributes: [kv('cache.key', str('cart:42'))],
          droppedAttributesCount: 0,
        },
      ],
      droppedEventsCount: 0,
      links: [
        {
          traceId: id(LINKED.traceId),
          spanId: id(LINKED.spanId),
          traceState: '',
          attributes: [kv('link.kind', str('follows'))],
          droppedAttributesCount: 0,
          flags: 0x100,
        },
      ],
      droppedLinksCount: 0,
      status: { message: 'boom', code: 2 },
    });
  });

  it('decodes an event log record: kvlist body with array and bytes, severity, trace context', () => {
    const request = decodeRequest('logs', ProtobufLogsSerializer.serializeRequest(sdkLogRecords())!, 'protobuf');

    const resourceLogs = only(request.resourceLogs);
    expect(resourceLogs.resource).toEqual(RESOURCE);
    const scopeLogs = only(resourceLogs.scopeLogs);
    expect(scopeLogs.scope?.name).toBe('checkout-log');
    expect(only(scopeLogs.logRecords)).toEqual({
      timeUnixNano: 1700000002000000005n,
      observedTimeUnixNano: 1700000002000000006n,
      severityNumber: 13,
      severityText: 'WARN',
      body: {
        kind: 'kvlist',
        value: [
          kv('user', str('u1')),
          kv('items', { kind: 'array', value: [int(1n), double(2.5), { kind: 'bool', value: true }] }),
          kv('raw', { kind: 'bytes', value: Buffer.from([0, 1, 255]) }),
        ],
      },
      attributes: [kv('retry.count', int(3n))],
      droppedAttributesCount: 0,
      flags: 1,
      traceId: id(REMOTE_PARENT.traceId),
      spanId: id(REMOTE_PARENT.spanId),
      eventName: 'cart.checkout',
    });
  });

  it('decodes metrics: int sum, double gauge, histogram, exponential histogram', async () => {
    const resourceMetrics = await sdkMetrics();
    const request = decodeRequest('metrics', ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!, 'protobuf');

    const decoded = only(request.resourceMetrics);
    expect(decoded.resource).toEqual(RESOURCE);
    const scopeMetrics = only(decoded.scopeMetrics);
    expect(scopeMetrics.scope?.version).toBe('3.0.0');
    const byName = new Map<string, Metric>(scopeMetrics.metrics.map((m) => [m.name, m]));
    const times = (name: string) => {
      const point = resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === name)!.dataPoints[0]!;
      return { startTimeUnixNano: ns(point.startTime), timeUnixNano: ns(point.endTime) };
    };

    expect(byName.get('orders')?.data).toEqual({
      type: 'sum',
      dataPoints: [
        { attributes: [kv('region', str('eu'))], ...times('orders'), value: int(5n), exemplars: [], flags: 0 },
      ],
      aggregationTemporality: 2,
      isMonotonic: true,
    });
    expect(byName.get('temperature')).toMatchObject({
      unit: 'Cel',
      data: { type: 'gauge', dataPoints: [{ ...times('temperature'), value: double(21.5) }] },
    });
    expect(byName.get('latency')?.data).toEqual({
      type: 'histogram',
      dataPoints: [
        {
          attributes: [],
          ...times('latency'),
          count: 2n,
          sum: 57,
          bucketCounts: [1n, 1n, 0n],
          explicitBounds: [10, 100],
          exemplars: [],
          flags: 0,
          min: 7,
          max: 50,
        },
      ],
      aggregationTemporality: 2,
    });
    const exponential = byName.get('latency.exp')?.data;
    expect(exponential).toMatchObject({ type: 'exponential_histogram', aggregationTemporality: 2 });
    const point = exponential?.type === 'exponential_histogram' ? only(exponential.dataPoints) : undefined;
    expect(point).toMatchObject({
      ...times('latency.exp'),
      count: 2n,
      sum: 15,
      min: 3,
      max: 12,
      zeroCount: 0n,
      zeroThreshold: 0,
      negative: { offset: 0, bucketCounts: [] },
    });
    expect(point?.positive?.bucketCounts.reduce((a, b) => a + b)).toBe(2n);
  });
});

describe('protobuf: the upstream OTLP/JSON examples, converted by protobufjs', () => {
  it.each(EXAMPLES)('$file decodes exactly as its JSON does', ({ file, signal }) => {
    const json = exampleJson(file);
    const fromProtobuf = decodeRequest(signal, jsonToProtobuf(signal, json), 'protobuf');
    expect(fromProtobuf).toEqual(decodeRequest(signal, json, 'json'));
  });
});

describe('protobuf: hand-encoded fields the JS SDK never sends, numbered from the OTLP spec', () => {
  // Exemplar{filtered_attributes=7, time_unix_nano=2, as_double=3, span_id=4, trace_id=5}
  const exemplar = [
    ...attribute(7, 'user', 'u1'),
    ...fixed64(2, 7n),
    ...float64(3, 0.5),
    ...ld(4, [...id(REMOTE_PARENT.spanId)]),
    ...ld(5, [...id(REMOTE_PARENT.traceId)]),
  ];
  // NumberDataPoint{time_unix_nano=3 (fixed64), as_int=6 (sfixed64), exemplars=5, flags=8}
  const numberPoint = [...fixed64(3, 18446744073709551615n), ...fixed64(6, -5n), ...ld(5, exemplar), ...u32(8, 1)];
  // SummaryDataPoint{attributes=7, count=4, sum=5, quantile_values=6: {quantile=1, value=2}, flags=8}
  const summaryPoint = [
    ...attribute(7, 'route', '/'),
    ...fixed64(4, 3n),
    ...float64(5, 1.5),
    ...ld(6, [...float64(1, 0.99), ...float64(2, 0.75)]),
    ...u32(8, 1),
  ];
  // Metric{name=1, gauge=5: Gauge{data_points=1}, metadata=12} and Metric{name=1, summary=11: Summary{data_points=1}}
  const gauge = [...text(1, 'g'), ...ld(5, ld(1, numberPoint)), ...attribute(12, 'origin', 'prometheus')];
  const summary = [...text(1, 's'), ...ld(11, ld(1, summaryPoint))];
  // ExportMetricsServiceRequest{resource_metrics=1: {scope_metrics=2: {metrics=2, metrics=2}}}
  const body = Uint8Array.from(ld(1, ld(2, [...ld(2, gauge), ...ld(2, summary)])));

  const jsonTwin = `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
    {"name":"g","metadata":[{"key":"origin","value":{"stringValue":"prometheus"}}],
     "gauge":{"dataPoints":[{"timeUnixNano":"18446744073709551615","asInt":"-5","flags":1,
       "exemplars":[{"filteredAttributes":[{"key":"user","value":{"stringValue":"u1"}}],"timeUnixNano":"7",
         "asDouble":0.5,"spanId":"${REMOTE_PARENT.spanId}","traceId":"${REMOTE_PARENT.traceId}"}]}]}},
    {"name":"s","summary":{"dataPoints":[{"attributes":[{"key":"route","value":{"stringValue":"/"}}],
      "count":"3","sum":1.5,"quantileValues":[{"quantile":0.99,"value":0.75}],"flags":1}]}}
  ]}]}]}`;

  it('decodes summaries, exemplars, metadata and 64-bit extremes', () => {
    const [g, sm] = only(only(decodeRequest('metrics', body, 'protobuf').resourceMetrics).scopeMetrics).metrics;
    expect(g?.metadata).toEqual([kv('origin', str('prometheus'))]);
    expect(g?.data).toEqual({
      type: 'gauge',
      dataPoints: [
        {
          attributes: [],
          startTimeUnixNano: 0n,
          timeUnixNano: 18446744073709551615n,
          value: int(-5n),
          exemplars: [
            {
              filteredAttributes: [kv('user', str('u1'))],
              timeUnixNano: 7n,
              value: double(0.5),
              spanId: id(REMOTE_PARENT.spanId),
              traceId: id(REMOTE_PARENT.traceId),
            },
          ],
          flags: 1,
        },
      ],
    });
    expect(sm?.data).toEqual({
      type: 'summary',
      dataPoints: [
        {
          attributes: [kv('route', str('/'))],
          startTimeUnixNano: 0n,
          timeUnixNano: 0n,
          count: 3n,
          sum: 1.5,
          quantileValues: [{ quantile: 0.99, value: 0.75 }],
          flags: 1,
        },
      ],
    });
  });

  it('matches its OTLP/JSON twin', () => {
    expect(decodeRequest('metrics', body, 'protobuf')).toEqual(decodeRequest('metrics', Buffer.from(jsonTwin), 'json'));
  });
});

describe('protobuf: edge cases of the wire format', () => {
  // ResourceSpans{scope_spans: ScopeSpans{spans: Span{…}}} around the given Span fields.
  const traceRequest = (span: number[]): Uint8Array => Uint8Array.from(ld(1, ld(2, ld(2, span))));
  const spanOf = (body: Uint8Array) =>
    only(only(only(decodeRequest('traces', body, 'protobuf').resourceSpans).scopeSpans).spans);

  it('decodes an empty body as an empty request', () => {
    expect(decodeRequest('metrics', new Uint8Array(0), 'protobuf')).toEqual({ resourceMetrics: [] });
  });

  it('ignores unknown fields and the profiles-only string index fields', () => {
    const unknown = [...varint(99 * 8), 7]; // field 99, varint
    const strindexAttribute = ld(9, [...ld(1, [...Buffer.from('k')]), ...ld(2, [8 * 8, 3]), 3 * 8, 1]);
    const span = spanOf(traceRequest([...unknown, ...ld(5, [...Buffer.from('named')]), ...strindexAttribute]));
    expect(span.name).toBe('named');
    expect(span.attributes).toEqual([kv('k', { kind: 'empty' })]);
    expect(span.status).toBeUndefined();
    expect(span.traceId).toHaveLength(0);
  });

  it('refuses garbage', () => {
    invalid(() => decodeRequest('traces', Buffer.from('this is not protobuf'), 'protobuf'));
    invalid(() => decodeRequest('logs', new Uint8Array(11).fill(0xff), 'protobuf'));
  });

  it('refuses every truncation of a valid request', () => {
    const body = ProtobufTraceSerializer.serializeRequest(sdkSpans())!;
    for (let length = 1; length < body.length; length++) {
      invalid(() => decodeRequest('traces', body.subarray(0, length), 'protobuf'));
    }
  });

  it('refuses a known field sent with the wrong wire type', () => {
    expect(invalid(() => decodeRequest('traces', Uint8Array.from([0x08, 0x01]), 'protobuf')).message).toMatch(
      /ExportTraceServiceRequest\.resourceSpans/,
    );
    expect(invalid(() => spanOf(traceRequest([5 * 8, 1]))).message).toMatch(/Span\.name \(5\) has wire type 0/);
  });

  it('refuses strings that are not UTF-8', () => {
    invalid(() => spanOf(traceRequest(ld(5, [0xff, 0xfe]))));
  });

  it.each(['kvlist', 'array'] as const)('accepts AnyValues nested 64 deep through %s, refuses 65 and 10000', (via) => {
    const request = decodeRequest('logs', deepLogRequest(64, via), 'protobuf');
    let value = only(only(only(request.resourceLogs).scopeLogs).logRecords).body;
    for (let depth = 1; depth < 64; depth++) {
      if (value?.kind === 'kvlist') value = value.value[0]?.value;
      else if (value?.kind === 'array') value = value.value[0];
    }
    expect(value).toEqual(str('leaf'));
    expect(invalid(() => decodeRequest('logs', deepLogRequest(65, via), 'protobuf')).message).toMatch(/deeper than 64/);
    invalid(() => decodeRequest('logs', deepLogRequest(10_000, via), 'protobuf'));
  });
});

// ---- the hand-written wire reader (src/decode/protobuf-reader.ts) beyond what any encoder sends

/** A varint of all 64 bits: negative int64 takes ten bytes. */
const varint64 = (n: bigint): number[] => {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
  out.push(Number(v));
  return out;
};
const fixed64s = (...values: bigint[]): number[] => {
  const bytes = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => bytes.writeBigUInt64LE(v, 8 * i));
  return [...bytes];
};
const doubles = (...values: number[]): number[] => {
  const bytes = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => bytes.writeDoubleLE(v, 8 * i));
  return [...bytes];
};
// ExportTraceServiceRequest{resource_spans: {scope_spans: {spans: Span{…}}}} around the given Span fields.
const spanRequest = (span: number[]): Uint8Array => Uint8Array.from(ld(1, ld(2, ld(2, span))));
const decodeSpan = (body: Uint8Array) =>
  only(only(only(decodeRequest('traces', body, 'protobuf').resourceSpans).scopeSpans).spans);
// ExportMetricsServiceRequest{… metrics: Metric{name, <data>}}.
const metricRequest = (data: number[]): Uint8Array => Uint8Array.from(ld(1, ld(2, ld(2, [...text(1, 'm'), ...data]))));
const decodeMetric = (body: Uint8Array) =>
  only(only(only(decodeRequest('metrics', body, 'protobuf').resourceMetrics).scopeMetrics).metrics);
// An attribute KeyValue{key, value: AnyValue{…}} of a span (field 9).
const spanAttribute = (key: string, value: number[]): number[] => ld(9, [...text(1, key), ...ld(2, value)]);
const attributesOf = (...attributes: number[][]) => decodeSpan(spanRequest(attributes.flat())).attributes;

/** The decoder's result and protobufjs', equal in values, classes and property order. */
function expectSameAsProtobufjs(signal: Signal, body: Uint8Array): void {
  const outcome = (decode: () => unknown): { value?: unknown; error?: string } => {
    try {
      return { value: decode() };
    } catch (err) {
      expect(err, 'only OtlpError invalid_argument may escape').toBeInstanceOf(OtlpError);
      expect((err as OtlpError).kind).toBe('invalid_argument');
      return { error: (err as OtlpError).message };
    }
  };
  const ours = outcome(() => decodeRequest(signal, body, 'protobuf'));
  const theirs = outcome(() => decodeWithProtobufjs(signal, body));
  const hex = () => Buffer.from(body).toString('hex');
  if ((ours.error === undefined) !== (theirs.error === undefined)) {
    expect.fail(`refused by one decoder only: ${ours.error ?? theirs.error} (${hex()})`);
  }
  if (ours.error !== undefined) return;
  // isDeepStrictEqual: bigint, -0 and NaN exactly, Buffer against Buffer; JSON: the same property order.
  const json = (x: unknown) => JSON.stringify(x, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  if (!isDeepStrictEqual(ours.value, theirs.value)) expect.fail(`decoded differently (${hex()})`);
  expect(json(ours.value)).toBe(json(theirs.value));
}

describe('protobuf: wire format details of the hand-written reader', () => {
  it('reads repeated scalars packed and unpacked, and both mixed in one field', () => {
    // HistogramDataPoint{count=4, bucket_counts=6 (fixed64), explicit_bounds=7 (double)}
    const histogram = (point: number[]) => {
      const data = decodeMetric(metricRequest(ld(9, ld(1, point)))).data;
      return data.type === 'histogram' ? only(data.dataPoints) : undefined;
    };
    const packed = histogram([...ld(6, fixed64s(1n, 2n, 2n ** 64n - 1n)), ...ld(7, doubles(0.5, 10))]);
    const unpacked = histogram([
      ...fixed64(6, 1n),
      ...fixed64(6, 2n),
      ...fixed64(6, 2n ** 64n - 1n),
      ...float64(7, 0.5),
      ...float64(7, 10),
    ]);
    const mixed = histogram([
      ...fixed64(6, 1n),
      ...ld(6, fixed64s(2n, 2n ** 64n - 1n)),
      ...ld(7, doubles(0.5)),
      ...float64(7, 10),
    ]);
    for (const point of [packed, unpacked, mixed]) {
      expect(point?.bucketCounts).toEqual([1n, 2n, 18446744073709551615n]);
      expect(point?.explicitBounds).toEqual([0.5, 10]);
      expect(point?.sum).toBeUndefined(); // proto3 `optional`: absent, not 0
    }
    // ExponentialHistogramDataPoint{positive=8: Buckets{offset=1 (sint32), bucket_counts=2 (uint64 varint)}}
    const buckets = (content: number[]) => {
      const data = decodeMetric(metricRequest(ld(10, ld(1, ld(8, content))))).data;
      return data.type === 'exponential_histogram' ? only(data.dataPoints).positive : undefined;
    };
    const counts = [...varint64(3n), ...varint64(2n ** 64n - 1n), ...varint64(0n)];
    expect(buckets([...tag(1, 0), 3, ...ld(2, counts)])).toEqual({
      offset: -2,
      bucketCounts: [3n, 2n ** 64n - 1n, 0n],
    });
    expect(buckets([...tag(2, 0), ...varint64(3n), ...tag(2, 0), ...varint64(2n ** 64n - 1n)])).toEqual({
      offset: 0,
      bucketCounts: [3n, 2n ** 64n - 1n],
    });
    invalid(() => decodeMetric(metricRequest(ld(9, ld(1, ld(6, [1, 2, 3]))))));
  });

  it('reads int64 signed (negatives in ten bytes), uint32 and enums mod 2^32, sint32 zigzag, bool nonzero', () => {
    const ints = attributesOf(
      spanAttribute('min', [...tag(3, 0), ...varint64(-(2n ** 63n))]),
      spanAttribute('max', [...tag(3, 0), ...varint64(2n ** 63n - 1n)]),
      spanAttribute('-1', [...tag(3, 0), ...varint64(-1n)]),
      spanAttribute('2^53+1', [...tag(3, 0), ...varint64(2n ** 53n + 1n)]),
      spanAttribute('bool', [...tag(2, 0), 0x80, 0x80, 0x01]),
    );
    expect(ints).toEqual([
      kv('min', int(-(2n ** 63n))),
      kv('max', int(2n ** 63n - 1n)),
      kv('-1', int(-1n)),
      kv('2^53+1', int(9007199254740993n)),
      kv('bool', { kind: 'bool', value: true }),
    ]);
    // dropped_attributes_count=10 (uint32) and kind=6 (enum, int32) sent as 64-bit varints.
    const span = decodeSpan(spanRequest([...tag(10, 0), ...varint64(2n ** 32n + 7n), ...tag(6, 0), ...varint64(-1n)]));
    expect(span.droppedAttributesCount).toBe(7);
    expect(span.kind).toBe(-1);
    const most = decodeSpan(spanRequest([...tag(10, 0), ...varint64(2n ** 32n - 1n)]));
    expect(most.droppedAttributesCount).toBe(4294967295);
    // scale=6 (sint32) of an exponential histogram point.
    const data = decodeMetric(metricRequest(ld(10, ld(1, [...tag(6, 0), 5])))).data;
    expect(data.type === 'exponential_histogram' && only(data.dataPoints).scale).toBe(-3);
    // A varint of more than ten bytes is refused where it is read…
    invalid(() => decodeSpan(spanRequest([...tag(10, 0), ...Array<number>(10).fill(0x80), 0x01])));
  });

  it('skips unknown fields of every wire type, groups nested, and refuses wire types 6 and 7', () => {
    const inner = [...tag(98, 3), ...u32(1, 5), ...fixed64(2, 1n), ...tag(98, 4)];
    const group = [...tag(99, 3), ...inner, ...tag(3, 5), 1, 2, 3, 4, ...tag(99, 4)];
    // …and skipped at any length in an unknown field, as protobufjs did.
    const longVarint = [...tag(97, 0), ...Array<number>(12).fill(0xff), 0x01];
    const unknown = [...u32(96, 1), ...fixed64(95, 1n), ...ld(94, [1, 2, 3]), ...tag(93, 5), 0, 0, 0, 0, ...longVarint];
    expect(decodeSpan(spanRequest([...group, ...unknown, ...text(5, 'named'), ...group])).name).toBe('named');
    expect(invalid(() => decodeSpan(spanRequest([...tag(99, 7), 0]))).message).toMatch(/wire type 7/);
    expect(invalid(() => decodeSpan(spanRequest([...tag(99, 6), 0]))).message).toMatch(/wire type 6/);
    expect(invalid(() => decodeSpan(spanRequest([...tag(5, 7), 0]))).message).toMatch(/wire type 7/);
    invalid(() => decodeSpan(spanRequest([...tag(99, 4)]))); // an end without a start
    invalid(() => decodeSpan(spanRequest([...tag(99, 3), ...tag(98, 4)]))); // ends another group
    invalid(() => decodeSpan(spanRequest([...tag(99, 3), ...u32(1, 5)]))); // never ends
    invalid(() => decodeSpan(spanRequest([0, 1]))); // field number 0
    const deep = (levels: number) => [
      ...Array<number[]>(levels).fill(tag(99, 3)).flat(),
      ...Array<number[]>(levels).fill(tag(99, 4)).flat(),
    ];
    expect(decodeSpan(spanRequest(deep(100))).name).toBe('');
    invalid(() => decodeSpan(spanRequest(deep(100_000))));
  });

  it('refuses known fields in the wrong wire type, naming them, and a known field as a group', () => {
    expect(invalid(() => decodeSpan(spanRequest(u32(7, 1)))).message).toBe(
      'invalid protobuf: field Span.startTimeUnixNano (7) has wire type 0',
    );
    expect(invalid(() => decodeSpan(spanRequest(ld(15, [...tag(3, 1), ...Array<number>(8).fill(0)])))).message).toMatch(
      /Status\.code \(3\) has wire type 1/,
    );
    expect(invalid(() => decodeSpan(spanRequest([...tag(9, 3), ...tag(9, 4)]))).message).toMatch(
      /Span\.attributes \(9\) has wire type 3/,
    );
    expect(invalid(() => decodeMetric(metricRequest(ld(9, ld(1, u32(7, 1)))))).message).toMatch(
      /HistogramDataPoint\.explicitBounds \(7\) has wire type 0/,
    );
  });

  it('merges a singular message field sent twice, as protobufjs did; the last oneof member wins', () => {
    // Span.status three times: the code from the second, the message from the last.
    const statuses = spanRequest([...ld(15, text(2, 'first')), ...ld(15, u32(3, 2)), ...ld(15, text(2, 'last'))]);
    expect(decodeSpan(statuses).status).toEqual({ message: 'last', code: 2 });
    // KeyValue.value twice: the AnyValues merge, and in the merged oneof the last member wins.
    const arrayOf = (n: number) => ld(5, ld(1, [...tag(3, 0), n]));
    const values = spanRequest([
      ...ld(9, [...text(1, 'a'), ...ld(2, text(1, 's')), ...ld(2, [...tag(3, 0), 7])]),
      ...ld(9, [...text(1, 'b'), ...ld(2, arrayOf(1)), ...ld(2, arrayOf(2))]),
      ...spanAttribute('c', [...arrayOf(1), ...text(1, 's'), ...arrayOf(2)]),
      ...spanAttribute('d', [...tag(3, 0), 7, ...text(1, 's')]),
      ...spanAttribute('e', [...text(1, 's'), ...tag(8, 0), 1]), // string_value_strindex: profiles only
    ]);
    expect(decodeSpan(values).attributes).toEqual([
      kv('a', int(7n)),
      kv('b', { kind: 'array', value: [int(1n), int(2n)] }),
      kv('c', { kind: 'array', value: [int(2n)] }),
      kv('d', str('s')),
      kv('e', { kind: 'empty' }),
    ]);
    // Resource twice: the attributes appended, the dropped count from the last.
    const resources = Uint8Array.from(
      ld(1, [...ld(1, [...attribute(1, 'a', 'x'), ...u32(2, 1)]), ...ld(1, [...attribute(1, 'b', 'y'), ...u32(2, 3)])]),
    );
    expect(only(decodeRequest('traces', resources, 'protobuf').resourceSpans).resource).toEqual({
      attributes: [kv('a', str('x')), kv('b', str('y'))],
      droppedAttributesCount: 3,
    });
    for (const body of [statuses, values, resources]) expectSameAsProtobufjs('traces', body);
    // Metric data gauge then sum is a sum; NumberDataPoint as_double then as_int is an int.
    const point = [...float64(4, 1.5), ...fixed64(6, -2n)];
    const metrics = metricRequest([...ld(5, ld(1, float64(4, 1.5))), ...ld(7, ld(1, point))]);
    expect(decodeMetric(metrics).data).toMatchObject({ type: 'sum', dataPoints: [{ value: int(-2n) }] });
    expectSameAsProtobufjs('metrics', metrics);
  });

  it('still refuses a broken oneof member that a later one replaced, as protobufjs decoded it first', () => {
    invalid(() => attributesOf(spanAttribute('k', [...ld(5, ld(1, ld(1, [0xff]))), ...text(1, 's')])));
    invalid(() => decodeMetric(metricRequest([...ld(10, [...tag(4, 1), 1]), ...ld(7, [])])));
    // …while what only the walk refused (a wire type, the depth) passes, as before.
    const replaced = spanRequest(spanAttribute('k', [...ld(5, u32(1, 1)), ...text(1, 's')]));
    expect(decodeSpan(replaced).attributes).toEqual([kv('k', str('s'))]);
    expectSameAsProtobufjs('traces', replaced);
  });

  it('returns bytes as views into the body and every empty bytes value as one shared Buffer', () => {
    const body = spanRequest([...ld(1, [...id(REMOTE_PARENT.traceId)]), ...ld(2, [])]);
    const span = decodeSpan(body);
    expect(Buffer.isBuffer(span.traceId)).toBe(true);
    expect(span.traceId.buffer).toBe(body.buffer); // a Uint8Array body works as well as a Buffer
    expect(span.traceId).toEqual(id(REMOTE_PARENT.traceId));
    expect(span.spanId).toBe(decodeSpan(spanRequest([])).parentSpanId);
    expect(span.spanId).toHaveLength(0);
  });

  it('reads strings of any length and script, and refuses any invalid UTF-8', () => {
    const strings = ['', 'a', 'exactly 16 chars', '17 chars, nearly', 'é', '日本語', '🎉', '\uFEFFbom kept'];
    strings.push('x'.repeat(5000), 'é'.repeat(100));
    const decoded = attributesOf(...strings.map((s) => spanAttribute(s, text(1, s))));
    expect(decoded).toEqual(strings.map((s) => kv(s, str(s))));
    // Keys come from a cache: many keys of one length and shape, each read twice, stay themselves.
    const keys = Array.from({ length: 3000 }, (_, i) => `key.${String(i).padStart(5, '0')}`);
    const attributes = keys.map((k) => spanAttribute(k, []));
    expect(attributesOf(...attributes, ...attributes).map((a) => a.key)).toEqual([...keys, ...keys]);
    for (const bad of [[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x61, 0x80]]) {
      invalid(() => decodeSpan(spanRequest(ld(5, bad))));
      invalid(() => attributesOf(ld(9, ld(1, bad))));
      invalid(() => attributesOf(spanAttribute('k', ld(1, [...Array<number>(40).fill(0x61), ...bad]))));
    }
  });
});

describe('protobuf: the same results and errors as the protobufjs decoder it replaced', () => {
  const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];

  it.each(SIGNALS)('%s: random requests over the whole schema, and byte-level mutations of them', (signal) => {
    const rng = new Rng(2024);
    for (let seed = 1; seed <= 300; seed++) {
      const body = randomRequest(signal, seed);
      expectSameAsProtobufjs(signal, body);
      for (let i = 0; i < 20; i++) expectSameAsProtobufjs(signal, mutate(body, rng));
    }
  });

  it('the load generator requests, and mutations of them', async () => {
    const templates = await buildTemplates(SIGNALS, { ...defaultLoadgenOptions(), services: 1 });
    const rng = new Rng(7);
    for (const template of templates) {
      expectSameAsProtobufjs(template.signal, template.bytes);
      for (let i = 0; i < 40; i++) expectSameAsProtobufjs(template.signal, mutate(template.bytes, rng));
    }
  });

  it('the SDK fixtures and the upstream examples', async () => {
    expectSameAsProtobufjs('traces', ProtobufTraceSerializer.serializeRequest(sdkSpans())!);
    expectSameAsProtobufjs('logs', ProtobufLogsSerializer.serializeRequest(sdkLogRecords())!);
    expectSameAsProtobufjs('metrics', ProtobufMetricsSerializer.serializeRequest(await sdkMetrics())!);
    for (const { file, signal } of EXAMPLES) expectSameAsProtobufjs(signal, jsonToProtobuf(signal, exampleJson(file)));
  });
});
