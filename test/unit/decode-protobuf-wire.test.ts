// The hand-written protobuf reader (src/decode/protobuf-reader.ts) beyond what any encoder sends, and
// differential tests: the same results and errors as the protobufjs decoder it replaced.
import { describe, expect, it } from 'vitest';
import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { isDeepStrictEqual } from 'node:util';
import { decodeRequest } from '../../src/decode/index.js';
import { decodeProtobufRequest } from '../../src/decode/protobuf.js';
import type { AnyValue, KeyValue, Signal } from '../../src/decode/types.js';
import { keyValuesOf } from '../../src/decode/wire-attributes.js';
import { OtlpError } from '../../src/errors.js';
import { buildTemplates } from '../../src/loadgen/build-requests.js';
import { defaultLoadgenOptions } from '../../src/loadgen/options.js';
import {
  EXAMPLES,
  REMOTE_PARENT,
  attribute,
  exampleJson,
  fixed64,
  float64,
  invalid,
  jsonToProtobuf,
  ld,
  only,
  sdkLogRecords,
  sdkMetrics,
  sdkSpans,
  tag,
  text,
  u32,
  varint64,
} from '../helpers/decode-fixtures.js';
import { withAttributesDecoded } from '../helpers/decoded.js';
import { decodeWithProtobufjs } from '../helpers/protobufjs-reference.js';
import { Rng, mutate, randomRequest } from '../helpers/random-requests.js';

const id = (hex: string): Buffer => Buffer.from(hex, 'hex');
const str = (value: string): AnyValue => ({ kind: 'string', value });
const int = (value: bigint): AnyValue => ({ kind: 'int', value });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

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
const attributesOf = (...attributes: number[][]) => keyValuesOf(decodeSpan(spanRequest(attributes.flat())).attributes);

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
  const theirs = outcome(() => decodeWithProtobufjs(signal, body));
  const hex = () => Buffer.from(body).toString('hex');
  const decoded = outcome(() => decodeProtobufRequest(signal, body));
  // As the receivers decode: plain attributes kept as bytes, refused exactly where and as before.
  const wire = outcome(() => withAttributesDecoded(signal, decodeRequest(signal, body, 'protobuf')));
  expect(wire.error, hex()).toBe(decoded.error);
  if ((decoded.error === undefined) !== (theirs.error === undefined)) {
    expect.fail(`refused by one decoder only: ${decoded.error ?? theirs.error} (${hex()})`);
  }
  if (decoded.error !== undefined) return;
  // isDeepStrictEqual: bigint, -0 and NaN exactly, Buffer against Buffer; JSON: the same property order.
  const json = (x: unknown) => JSON.stringify(x, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  for (const ours of [decoded, wire]) {
    if (!isDeepStrictEqual(ours.value, theirs.value)) expect.fail(`decoded differently (${hex()})`);
    expect(json(ours.value)).toBe(json(theirs.value));
  }
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
