// OTLP/JSON request bodies → the request shape of ./types.ts, in one walk over the parsed document.
// OTLP/JSON is the proto3 JSON mapping with three deviations: trace and span ids are hex, not
// base64; enums are integers; keys are lowerCamelCase. As the mapping asks of parsers, we also
// accept proto field names (snake_case), enum names, 64-bit integers as numbers or strings, and
// ignore unknown fields. https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
import { LosslessNumber, isSafeNumber, parse as parseLossless } from 'lossless-json';
import { invalidArgument } from '../errors.js';
import type * as otlp from './types.js';
import type { Signal, SignalRequests } from './types.js';

/** Deepest AnyValue nesting accepted (an attribute value or log body is depth 1); protobuf uses the same. */
const MAX_ANY_VALUE_DEPTH = 64;

type JsonObject = { readonly [key: string]: unknown };

/** A wrong value; the path to it is prepended segment by segment while the error unwinds. */
class JsonPathError extends Error {
  readonly path: string[] = [];
}

function within(err: unknown, segment: string): unknown {
  if (err instanceof JsonPathError) err.path.unshift(segment);
  return err;
}

function wrongType(expected: string, v: unknown): JsonPathError {
  const got =
    v === null ? 'null'
    : Array.isArray(v) ? 'an array'
    : typeof v === 'number' || v instanceof LosslessNumber ? 'a number'
    : typeof v === 'object' ? 'an object'
    : `a ${typeof v}`;
  return new JsonPathError(`expected ${expected}, got ${got}`);
}

// ---- entry point

const WALKERS: { readonly [S in Signal]: (doc: JsonObject) => SignalRequests[S] } = {
  traces: (doc) => ({ resourceSpans: list(doc, 'resourceSpans', resourceSpans) }),
  logs: (doc) => ({ resourceLogs: list(doc, 'resourceLogs', resourceLogs) }),
  metrics: (doc) => ({ resourceMetrics: list(doc, 'resourceMetrics', resourceMetrics) }),
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

// JSON.parse rounds integers beyond 2^53. Only a number token of 16 or more digits can be one of
// those, so only then pay for the lossless parser; a match inside a string just takes the slow path.
const LONG_NUMBER = /[:[,]\s*-?\d{16,}/;

const LOSSLESS = {
  parseNumber: (token: string): unknown => (isSafeNumber(token) ? Number(token) : new LosslessNumber(token)),
  // As JSON.parse does; lossless-json would refuse the document.
  onDuplicateKey: ({ newValue }: { newValue: unknown }): unknown => newValue,
};

/** Decodes an OTLP/JSON Export*ServiceRequest; any undecodable input throws invalidArgument. */
export function decodeJsonRequest<S extends Signal>(signal: S, body: Uint8Array): SignalRequests[S] {
  const walk: (doc: JsonObject) => SignalRequests[S] = WALKERS[signal];
  let doc: unknown;
  try {
    const text = utf8.decode(body);
    doc = LONG_NUMBER.test(text) ? parseLossless(text, null, LOSSLESS) : JSON.parse(text);
  } catch (err) {
    // RangeError: the recursive lossless parser ran out of stack on a deeply nested document.
    const reason = err instanceof RangeError ? 'nested too deeply' : err instanceof Error ? err.message : String(err);
    throw invalidArgument(`invalid JSON: ${reason}`, err);
  }
  if (!isObject(doc)) throw invalidArgument('invalid OTLP/JSON: the body must be a JSON object');
  try {
    return walk(doc);
  } catch (err) {
    if (err instanceof JsonPathError) {
      throw invalidArgument(`invalid OTLP/JSON at ${err.path.join('.')}: ${err.message}`, err);
    }
    if (err instanceof RangeError) throw invalidArgument(`invalid OTLP/JSON: ${err.message}`, err);
    throw err;
  }
}

// ---- fields

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof LosslessNumber);
}

function obj(v: unknown): JsonObject {
  if (isObject(v)) return v;
  throw wrongType('an object', v);
}

const snakeNames = new Map<string, string>();

/** A field by its JSON name, or else by its proto name (`timeUnixNano`, `time_unix_nano`). */
function get(o: JsonObject, name: string): unknown {
  const v = o[name];
  if (v !== undefined) return v;
  let snake = snakeNames.get(name);
  if (snake === undefined) {
    snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeNames.set(name, snake);
  }
  return snake === name ? undefined : o[snake];
}

/** A singular field; null and absent both mean the proto3 default. */
function field<T>(o: JsonObject, name: string, convert: (v: unknown) => T, absent: T): T {
  const v = get(o, name);
  if (v === undefined || v === null) return absent;
  try {
    return convert(v);
  } catch (err) {
    throw within(err, name);
  }
}

function list<T>(o: JsonObject, name: string, convert: (v: unknown) => T): T[] {
  const v = get(o, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw within(wrongType('an array', v), name);
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) {
    try {
      out.push(convert(v[i]));
    } catch (err) {
      throw within(err, `${name}[${i}]`);
    }
  }
  return out;
}

// ---- scalars

const INTEGER = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
// A Buffer like every other bytes value either decoder returns.
const EMPTY_BYTES = Buffer.alloc(0);

function asString(v: unknown): string {
  if (typeof v === 'string') return v;
  throw wrongType('a string', v);
}

function asBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  throw wrongType('true or false', v);
}

function integer(v: unknown, min: bigint, max: bigint): bigint {
  let n: bigint;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && INTEGER.test(v)) n = BigInt(v);
  else if (v instanceof LosslessNumber && INTEGER.test(v.value)) n = BigInt(v.value);
  else if (v instanceof LosslessNumber && Number.isSafeInteger(Number(v.value))) n = BigInt(Number(v.value));
  else if (typeof v === 'string' || typeof v === 'number') throw new JsonPathError(`expected an integer, got ${v}`);
  else throw wrongType('an integer', v);
  if (n < min || n > max) throw new JsonPathError(`${n} is out of range`);
  return n;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

const asU64 = (v: unknown): bigint => integer(v, 0n, U64_MAX);
const asI64 = (v: unknown): bigint => integer(v, I64_MIN, I64_MAX);
const asU32 = (v: unknown): number => Number(integer(v, 0n, 0xffffffffn));
const asI32 = (v: unknown): number => Number(integer(v, -0x80000000n, 0x7fffffffn));

function asDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof LosslessNumber) return Number(v.value);
  if (typeof v === 'string') {
    // The proto3 JSON mapping writes NaN and the infinities as strings, and allows numeric strings.
    if (v === 'NaN') return NaN;
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return n;
  }
  throw wrongType('a number, "NaN", "Infinity" or "-Infinity"', v);
}

/** An enum as its integer, or leniently as its name, with or without the type prefix, any case. */
function enumOf(prefix: string, names: readonly string[]): (v: unknown) => number {
  const byName = new Map<string, number>();
  names.forEach((name, i) => byName.set(prefix + name, i).set(name, i));
  return (v) => {
    const n = typeof v === 'string' ? byName.get(v.toUpperCase()) : undefined;
    if (n !== undefined) return n;
    if (typeof v === 'string' && !INTEGER.test(v)) {
      throw new JsonPathError(`unknown ${prefix}* value ${JSON.stringify(v)}`);
    }
    return asI32(v);
  };
}

const asSpanKind = enumOf('SPAN_KIND_', ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']);
const asStatusCode = enumOf('STATUS_CODE_', ['UNSET', 'OK', 'ERROR']);
const asTemporality = enumOf('AGGREGATION_TEMPORALITY_', ['UNSPECIFIED', 'DELTA', 'CUMULATIVE']);
const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((s) => [s, `${s}2`, `${s}3`, `${s}4`]);
const asSeverity = enumOf('SEVERITY_NUMBER_', ['UNSPECIFIED', ...SEVERITIES]);

/**
 * Trace and span ids are hex in OTLP/JSON, in any case; the empty string means absent. Text that is
 * not hex cannot be decoded (400, as corrupt protobuf is). Hex of the wrong length decodes: whether
 * an id of that length is acceptable is map/'s call (a span is refused alone, a log keeps NULL), as
 * it is for protobuf, where bytes of any length arrive.
 */
function asId(v: unknown): Uint8Array {
  const s = asString(v);
  if (s === '') return EMPTY_BYTES;
  // Buffer's hex decoder stops at the first pair that is not hex, so a short result means a bad digit.
  const id = Buffer.from(s, 'hex');
  if (id.length * 2 !== s.length) {
    const shown = JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
    throw new JsonPathError(`expected hex digits, got ${shown}`);
  }
  return id;
}

const asTraceId = asId;
const asSpanId = asId;

/** bytesValue is base64, standard or URL-safe, padded or not. */
function asBytes(v: unknown): Uint8Array {
  const s = asString(v);
  if (!BASE64.test(s) || s.length % 4 === 1) throw new JsonPathError('expected base64');
  return s === '' ? EMPTY_BYTES : Buffer.from(s, 'base64');
}

// ---- common messages

const EMPTY_VALUE: otlp.AnyValue = Object.freeze({ kind: 'empty' });

function anyValue(v: unknown, depth: number): otlp.AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) {
    throw invalidArgument(`invalid OTLP/JSON: AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  }
  const o = obj(v);
  // One pass over the keys (normally exactly one) handles both spellings of the oneof members.
  for (const key in o) {
    const x = o[key];
    if (x === undefined || x === null) continue;
    try {
      switch (key) {
        case 'stringValue':
        case 'string_value':
          return { kind: 'string', value: asString(x) };
        case 'intValue':
        case 'int_value':
          return { kind: 'int', value: asI64(x) };
        case 'doubleValue':
        case 'double_value':
          return { kind: 'double', value: asDouble(x) };
        case 'boolValue':
        case 'bool_value':
          return { kind: 'bool', value: asBool(x) };
        case 'arrayValue':
        case 'array_value':
          return { kind: 'array', value: list(obj(x), 'values', (item) => anyValue(item, depth + 1)) };
        case 'kvlistValue':
        case 'kvlist_value':
          return { kind: 'kvlist', value: list(obj(x), 'values', (kv) => keyValue(kv, depth + 1)) };
        case 'bytesValue':
        case 'bytes_value':
          return { kind: 'bytes', value: asBytes(x) };
      }
    } catch (err) {
      throw within(err, key);
    }
  }
  // Nothing set, or stringValueStrindex, which only the profiles signal may use.
  return EMPTY_VALUE;
}

function keyValue(v: unknown, depth: number): otlp.KeyValue {
  const o = obj(v);
  return { key: field(o, 'key', asString, ''), value: field(o, 'value', (x) => anyValue(x, depth), EMPTY_VALUE) };
}

const attribute = (v: unknown): otlp.KeyValue => keyValue(v, 1);

function resource(v: unknown): otlp.Resource {
  const o = obj(v);
  return {
    attributes: list(o, 'attributes', attribute),
    droppedAttributesCount: field(o, 'droppedAttributesCount', asU32, 0),
  };
}

function scope(v: unknown): otlp.InstrumentationScope {
  const o = obj(v);
  return {
    name: field(o, 'name', asString, ''),
    version: field(o, 'version', asString, ''),
    attributes: list(o, 'attributes', attribute),
    droppedAttributesCount: field(o, 'droppedAttributesCount', asU32, 0),
  };
}

// ---- traces

function resourceSpans(v: unknown): otlp.ResourceSpans {
  const o = obj(v);
  return {
    resource: field(o, 'resource', resource, undefined),
    scopeSpans: list(o, 'scopeSpans', (ss) => {
      const s = obj(ss);
      return {
        scope: field(s, 'scope', scope, undefined),
        spans: list(s, 'spans', span),
        schemaUrl: field(s, 'schemaUrl', asString, ''),
      };
    }),
    schemaUrl: field(o, 'schemaUrl', asString, ''),
  };
}

function span(v: unknown): otlp.Span {
  const o = obj(v);
  return {
    traceId: field(o, 'traceId', asTraceId, EMPTY_BYTES),
    spanId: field(o, 'spanId', asSpanId, EMPTY_BYTES),
    traceState: field(o, 'traceState', asString, ''),
    parentSpanId: field(o, 'parentSpanId', asSpanId, EMPTY_BYTES),
    flags: field(o, 'flags', asU32, 0),
    name: field(o, 'name', asString, ''),
    kind: field(o, 'kind', asSpanKind, 0),
    startTimeUnixNano: field(o, 'startTimeUnixNano', asU64, 0n),
    endTimeUnixNano: field(o, 'endTimeUnixNano', asU64, 0n),
    attributes: list(o, 'attributes', attribute),
    droppedAttributesCount: field(o, 'droppedAttributesCount', asU32, 0),
    events: list(o, 'events', spanEvent),
    droppedEventsCount: field(o, 'droppedEventsCount', asU32, 0),
    links: list(o, 'links', spanLink),
    droppedLinksCount: field(o, 'droppedLinksCount', asU32, 0),
    status: field(o, 'status', status, undefined),
  };
}

function spanEvent(v: unknown): otlp.SpanEvent {
  const o = obj(v);
  return {
    timeUnixNano: field(o, 'timeUnixNano', asU64, 0n),
    name: field(o, 'name', asString, ''),
    attributes: list(o, 'attributes', attribute),
    droppedAttributesCount: field(o, 'droppedAttributesCount', asU32, 0),
  };
}

function spanLink(v: unknown): otlp.SpanLink {
  const o = obj(v);
  return {
    traceId: field(o, 'traceId', asTraceId, EMPTY_BYTES),
    spanId: field(o, 'spanId', asSpanId, EMPTY_BYTES),
    traceState: field(o, 'traceState', asString, ''),
    attributes: list(o, 'attributes', attribute),
    droppedAttributesCount: field(o, 'droppedAttributesCount', asU32, 0),
    flags: field(o, 'flags', asU32, 0),
  };
}

function status(v: unknown): otlp.Status {
  const o = obj(v);
  return { message: field(o, 'message', asString, ''), code: field(o, 'code', asStatusCode, 0) };
}

// ---- logs

function resourceLogs(v: unknown): otlp.ResourceLogs {
  const o = obj(v);
  return {
    resource: field(o, 'resource', resource, undefined),
    scopeLogs: list(o, 'scopeLogs', (sl) => {
      const s = obj(sl);
      return {
        scope: field(s, 'scope', scope, undefined),
        logRecords: list(s, 'logRecords', logRecord),
        schemaUrl: field(s, 'schemaUrl', asString, ''),
      };
    }),
    schemaUrl: field(o, 'schemaUrl', asString, ''),
  };
}

function logRecord(v: unknown): otlp.LogRecord {
  const o = obj(v);
  return {
    timeUnixNano: field(o, 'timeUnixNano', asU64, 0n),
    observedTimeUnixNano: field(o, 'observedTimeUnixNano', asU64, 0n),
    severityNumber: field(o, 'severityNumber', asSeverity, 0),
    severityText: field(o, 'severityText', asString, ''),
    body: field(o, 'body', (x) => anyValue(x, 1), undefined),
    attributes: list(o, 'attributes', attribute),
    droppedAttributesCount: field(o, 'droppedAttributesCount', asU32, 0),
    flags: field(o, 'flags', asU32, 0),
    traceId: field(o, 'traceId', asTraceId, EMPTY_BYTES),
    spanId: field(o, 'spanId', asSpanId, EMPTY_BYTES),
    eventName: field(o, 'eventName', asString, ''),
  };
}

// ---- metrics

function resourceMetrics(v: unknown): otlp.ResourceMetrics {
  const o = obj(v);
  return {
    resource: field(o, 'resource', resource, undefined),
    scopeMetrics: list(o, 'scopeMetrics', (sm) => {
      const s = obj(sm);
      return {
        scope: field(s, 'scope', scope, undefined),
        metrics: list(s, 'metrics', metric),
        schemaUrl: field(s, 'schemaUrl', asString, ''),
      };
    }),
    schemaUrl: field(o, 'schemaUrl', asString, ''),
  };
}

const EMPTY_DATA: otlp.MetricData = Object.freeze({ type: 'empty' });

function metric(v: unknown): otlp.Metric {
  const o = obj(v);
  return {
    name: field(o, 'name', asString, ''),
    description: field(o, 'description', asString, ''),
    unit: field(o, 'unit', asString, ''),
    data:
      field(o, 'gauge', gauge, undefined) ??
      field(o, 'sum', sum, undefined) ??
      field(o, 'histogram', histogram, undefined) ??
      field(o, 'exponentialHistogram', exponentialHistogram, undefined) ??
      field(o, 'summary', summary, undefined) ??
      EMPTY_DATA,
    metadata: list(o, 'metadata', attribute),
  };
}

function gauge(v: unknown): otlp.MetricData {
  return { type: 'gauge', dataPoints: list(obj(v), 'dataPoints', numberPoint) };
}

function sum(v: unknown): otlp.MetricData {
  const o = obj(v);
  return {
    type: 'sum',
    dataPoints: list(o, 'dataPoints', numberPoint),
    aggregationTemporality: field(o, 'aggregationTemporality', asTemporality, 0),
    isMonotonic: field(o, 'isMonotonic', asBool, false),
  };
}

function histogram(v: unknown): otlp.MetricData {
  const o = obj(v);
  return {
    type: 'histogram',
    dataPoints: list(o, 'dataPoints', histogramPoint),
    aggregationTemporality: field(o, 'aggregationTemporality', asTemporality, 0),
  };
}

function exponentialHistogram(v: unknown): otlp.MetricData {
  const o = obj(v);
  return {
    type: 'exponential_histogram',
    dataPoints: list(o, 'dataPoints', exponentialPoint),
    aggregationTemporality: field(o, 'aggregationTemporality', asTemporality, 0),
  };
}

function summary(v: unknown): otlp.MetricData {
  return { type: 'summary', dataPoints: list(obj(v), 'dataPoints', summaryPoint) };
}

const NO_NUMBER: otlp.NumberValue = Object.freeze({ kind: 'none' });

function numberValue(o: JsonObject): otlp.NumberValue {
  const double = field(o, 'asDouble', asDouble, undefined);
  if (double !== undefined) return { kind: 'double', value: double };
  const int = field(o, 'asInt', asI64, undefined);
  return int === undefined ? NO_NUMBER : { kind: 'int', value: int };
}

function exemplar(v: unknown): otlp.Exemplar {
  const o = obj(v);
  return {
    filteredAttributes: list(o, 'filteredAttributes', attribute),
    timeUnixNano: field(o, 'timeUnixNano', asU64, 0n),
    value: numberValue(o),
    spanId: field(o, 'spanId', asSpanId, EMPTY_BYTES),
    traceId: field(o, 'traceId', asTraceId, EMPTY_BYTES),
  };
}

function numberPoint(v: unknown): otlp.NumberDataPoint {
  const o = obj(v);
  return {
    attributes: list(o, 'attributes', attribute),
    startTimeUnixNano: field(o, 'startTimeUnixNano', asU64, 0n),
    timeUnixNano: field(o, 'timeUnixNano', asU64, 0n),
    value: numberValue(o),
    exemplars: list(o, 'exemplars', exemplar),
    flags: field(o, 'flags', asU32, 0),
  };
}

function histogramPoint(v: unknown): otlp.HistogramDataPoint {
  const o = obj(v);
  return {
    attributes: list(o, 'attributes', attribute),
    startTimeUnixNano: field(o, 'startTimeUnixNano', asU64, 0n),
    timeUnixNano: field(o, 'timeUnixNano', asU64, 0n),
    count: field(o, 'count', asU64, 0n),
    sum: field(o, 'sum', asDouble, undefined),
    bucketCounts: list(o, 'bucketCounts', asU64),
    explicitBounds: list(o, 'explicitBounds', asDouble),
    exemplars: list(o, 'exemplars', exemplar),
    flags: field(o, 'flags', asU32, 0),
    min: field(o, 'min', asDouble, undefined),
    max: field(o, 'max', asDouble, undefined),
  };
}

function buckets(v: unknown): otlp.ExponentialHistogramBuckets {
  const o = obj(v);
  return { offset: field(o, 'offset', asI32, 0), bucketCounts: list(o, 'bucketCounts', asU64) };
}

function exponentialPoint(v: unknown): otlp.ExponentialHistogramDataPoint {
  const o = obj(v);
  return {
    attributes: list(o, 'attributes', attribute),
    startTimeUnixNano: field(o, 'startTimeUnixNano', asU64, 0n),
    timeUnixNano: field(o, 'timeUnixNano', asU64, 0n),
    count: field(o, 'count', asU64, 0n),
    sum: field(o, 'sum', asDouble, undefined),
    scale: field(o, 'scale', asI32, 0),
    zeroCount: field(o, 'zeroCount', asU64, 0n),
    positive: field(o, 'positive', buckets, undefined),
    negative: field(o, 'negative', buckets, undefined),
    flags: field(o, 'flags', asU32, 0),
    exemplars: list(o, 'exemplars', exemplar),
    min: field(o, 'min', asDouble, undefined),
    max: field(o, 'max', asDouble, undefined),
    zeroThreshold: field(o, 'zeroThreshold', asDouble, 0),
  };
}

function summaryPoint(v: unknown): otlp.SummaryDataPoint {
  const o = obj(v);
  return {
    attributes: list(o, 'attributes', attribute),
    startTimeUnixNano: field(o, 'startTimeUnixNano', asU64, 0n),
    timeUnixNano: field(o, 'timeUnixNano', asU64, 0n),
    count: field(o, 'count', asU64, 0n),
    sum: field(o, 'sum', asDouble, 0),
    quantileValues: list(o, 'quantileValues', (q) => {
      const qo = obj(q);
      return { quantile: field(qo, 'quantile', asDouble, 0), value: field(qo, 'value', asDouble, 0) };
    }),
    flags: field(o, 'flags', asU32, 0),
  };
}
