// The protobufjs-based decoder that src/decode/protobuf.ts replaced with its own wire reader, kept
// verbatim as the reference the new one is checked against (differential tests in
// test/unit/decode-protobuf.test.ts): protobufjs decodes a message tree, and this walk copies it into
// the request shape of src/decode/types.ts, exactly as the product did. Test-only.
import Long from 'long';
import protobuf from 'protobufjs';
import { lookupType } from '../../src/decode/protobuf.js';
import type * as otlp from '../../src/decode/types.js';
import type { Signal, SignalRequests } from '../../src/decode/types.js';
import { invalidArgument } from '../../src/errors.js';

/** Deepest AnyValue nesting accepted (an attribute value or log body is depth 1). */
const MAX_ANY_VALUE_DEPTH = 64;

// src/decode/protobuf.ts configures Long already; this keeps the reference independent of that.
protobuf.util.Long = Long as unknown as typeof protobuf.util.Long;
protobuf.configure();
// protobufjs refuses messages nested deeper than 100 by default; a KeyValueList level costs three
// messages (AnyValue, KeyValueList, KeyValue) under up to eight enclosing ones, so raise it just
// enough that the walk's own, clearer AnyValue depth check is the one that fires.
protobuf.Reader.recursionLimit = 16 + 3 * MAX_ANY_VALUE_DEPTH;

/** A decoded message as protobufjs hands it back; loose, as the walk below reads it. */
interface Pb {
  readonly $type: protobuf.Type;
  /** Fields the decoder skipped, raw from their tag on: kept so wrong wire types can be refused. */
  readonly $unknowns?: readonly Uint8Array[];
  readonly [field: string]: any;
}
type Int64 = { readonly low: number; readonly high: number } | number;

const REQUEST_TYPES: { readonly [S in Signal]: protobuf.Type } = {
  traces: lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  logs: lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  metrics: lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
};

const WALKERS: { readonly [S in Signal]: (message: unknown) => SignalRequests[S] } = {
  traces: (m) => traceRequest(m as Pb),
  logs: (m) => logsRequest(m as Pb),
  metrics: (m) => metricsRequest(m as Pb),
};

/** Decodes as src/decode/protobuf.ts did before its own wire reader: protobufjs, then a walk of its tree. */
export function decodeWithProtobufjs<S extends Signal>(signal: S, body: Uint8Array): SignalRequests[S] {
  const type = REQUEST_TYPES[signal];
  const walk: (message: unknown) => SignalRequests[S] = WALKERS[signal];
  let message: unknown;
  try {
    // A Buffer gets protobufjs' BufferReader, whose string and bytes reads are native.
    const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const reader = protobuf.Reader.create(buffer);
    reader.discardUnknown = false;
    message = type.decode(reader);
  } catch (err) {
    // protobufjs throws plain Errors and RangeErrors for truncation, bad tags, bad UTF-8, depth.
    throw invalidArgument(`invalid protobuf ${type.name}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  try {
    return walk(message);
  } catch (err) {
    if (err instanceof RangeError) throw invalidArgument(`invalid protobuf ${type.name}: ${err.message}`, err);
    throw err;
  }
}

// ---- the walk: one function per message, each building the types.ts object directly

// A Buffer like every other bytes value either decoder returns.
const EMPTY_BYTES = Buffer.alloc(0);
const EMPTY_VALUE: otlp.AnyValue = Object.freeze({ kind: 'empty' });
const NO_NUMBER: otlp.NumberValue = Object.freeze({ kind: 'none' });
const EMPTY_DATA: otlp.MetricData = Object.freeze({ type: 'empty' });
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * protobufjs skips a known field whose wire type is wrong as if it were unknown; the Collector
 * refuses such a message, and so do we. Truly unknown fields (newer OTLP) are ignored.
 */
function known(m: Pb): void {
  const unknowns = m.$unknowns;
  if (unknowns === undefined) return;
  for (const raw of unknowns) {
    let tag = 0;
    for (let i = 0, scale = 1; i < raw.length && i < 5; i++, scale *= 128) {
      const b = raw[i] ?? 0;
      tag += (b & 0x7f) * scale;
      if (b < 0x80) break;
    }
    const id = Math.floor(tag / 8);
    const field = m.$type.fieldsById[id];
    if (field !== undefined) {
      throw invalidArgument(`invalid protobuf: field ${m.$type.name}.${field.name} (${id}) has wire type ${tag % 8}`);
    }
  }
}

function each<P extends Pb, T>(list: readonly P[], walk: (m: P) => T): T[] {
  const out: T[] = [];
  for (const m of list) {
    known(m);
    out.push(walk(m));
  }
  return out;
}

function one<P extends Pb, T>(m: P | null, walk: (m: P) => T): T | undefined {
  if (m === null) return undefined;
  known(m);
  return walk(m);
}

/** Unsigned 64-bit (fixed64, uint64) to bigint. */
function u64(v: Int64): bigint {
  if (typeof v === 'number') return BigInt(v);
  return v.high === 0 ? BigInt(v.low >>> 0) : (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

/** Signed 64-bit (int64, sfixed64) to bigint. */
function i64(v: Int64): bigint {
  if (typeof v === 'number') return BigInt(v);
  return v.high === 0 ? BigInt(v.low >>> 0) : (BigInt(v.high) << 32n) | BigInt(v.low >>> 0);
}

function u64s(list: readonly Int64[]): bigint[] {
  const out: bigint[] = [];
  for (const v of list) out.push(u64(v));
  return out;
}

// Non-empty ids and bytes are views into the request body, not copies: whoever holds the decoded
// request holds the body, which must not be reused (e.g. as a pooled buffer) meanwhile.
function bytes(v: Uint8Array): Uint8Array {
  return v.length === 0 ? EMPTY_BYTES : v;
}

function keyValues(list: readonly Pb[], depth: number): otlp.KeyValue[] {
  return each(list, (kv) => ({ key: kv.key, value: kv.value === null ? EMPTY_VALUE : anyValue(kv.value, depth) }));
}

function attributes(list: readonly Pb[]): otlp.KeyValue[] {
  return keyValues(list, 1);
}

// Tests own properties, most likely first: the prototype holds a default for every member.
function anyValue(v: Pb, depth: number): otlp.AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) {
    throw invalidArgument(`invalid protobuf: AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  }
  known(v);
  if (hasOwn.call(v, 'stringValue')) return { kind: 'string', value: v.stringValue };
  if (hasOwn.call(v, 'intValue')) return { kind: 'int', value: i64(v.intValue) };
  if (hasOwn.call(v, 'doubleValue')) return { kind: 'double', value: v.doubleValue };
  if (hasOwn.call(v, 'boolValue')) return { kind: 'bool', value: v.boolValue };
  if (v.arrayValue !== null) {
    known(v.arrayValue);
    const values: otlp.AnyValue[] = [];
    for (const item of v.arrayValue.values) values.push(anyValue(item, depth + 1));
    return { kind: 'array', value: values };
  }
  if (v.kvlistValue !== null) {
    known(v.kvlistValue);
    return { kind: 'kvlist', value: keyValues(v.kvlistValue.values, depth + 1) };
  }
  if (hasOwn.call(v, 'bytesValue')) return { kind: 'bytes', value: bytes(v.bytesValue) };
  // Nothing set, or string_value_strindex, which only the profiles signal may use.
  return EMPTY_VALUE;
}

function resource(r: Pb): otlp.Resource {
  return { attributes: attributes(r.attributes), droppedAttributesCount: r.droppedAttributesCount };
}

function scope(s: Pb): otlp.InstrumentationScope {
  return {
    name: s.name,
    version: s.version,
    attributes: attributes(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
  };
}

// ---- traces

function traceRequest(m: Pb): otlp.ExportTraceServiceRequest {
  known(m);
  return {
    resourceSpans: each(m.resourceSpans, (rs) => ({
      resource: one(rs.resource, resource),
      scopeSpans: each(rs.scopeSpans, (ss) => ({
        scope: one(ss.scope, scope),
        spans: each(ss.spans, span),
        schemaUrl: ss.schemaUrl,
      })),
      schemaUrl: rs.schemaUrl,
    })),
  };
}

function span(s: Pb): otlp.Span {
  return {
    traceId: bytes(s.traceId),
    spanId: bytes(s.spanId),
    traceState: s.traceState,
    parentSpanId: bytes(s.parentSpanId),
    flags: s.flags,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: u64(s.startTimeUnixNano),
    endTimeUnixNano: u64(s.endTimeUnixNano),
    attributes: attributes(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: each(s.events, (e) => ({
      timeUnixNano: u64(e.timeUnixNano),
      name: e.name,
      attributes: attributes(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: each(s.links, (l) => ({
      traceId: bytes(l.traceId),
      spanId: bytes(l.spanId),
      traceState: l.traceState,
      attributes: attributes(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount,
      flags: l.flags,
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: one(s.status, (st) => ({ message: st.message, code: st.code })),
  };
}

// ---- logs

function logsRequest(m: Pb): otlp.ExportLogsServiceRequest {
  known(m);
  return {
    resourceLogs: each(m.resourceLogs, (rl) => ({
      resource: one(rl.resource, resource),
      scopeLogs: each(rl.scopeLogs, (sl) => ({
        scope: one(sl.scope, scope),
        logRecords: each(sl.logRecords, logRecord),
        schemaUrl: sl.schemaUrl,
      })),
      schemaUrl: rl.schemaUrl,
    })),
  };
}

function logRecord(r: Pb): otlp.LogRecord {
  return {
    timeUnixNano: u64(r.timeUnixNano),
    observedTimeUnixNano: u64(r.observedTimeUnixNano),
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    body: r.body === null ? undefined : anyValue(r.body, 1),
    attributes: attributes(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
    flags: r.flags,
    traceId: bytes(r.traceId),
    spanId: bytes(r.spanId),
    eventName: r.eventName,
  };
}

// ---- metrics

function metricsRequest(m: Pb): otlp.ExportMetricsServiceRequest {
  known(m);
  return {
    resourceMetrics: each(m.resourceMetrics, (rm) => ({
      resource: one(rm.resource, resource),
      scopeMetrics: each(rm.scopeMetrics, (sm) => ({
        scope: one(sm.scope, scope),
        metrics: each(sm.metrics, metric),
        schemaUrl: sm.schemaUrl,
      })),
      schemaUrl: rm.schemaUrl,
    })),
  };
}

function metric(m: Pb): otlp.Metric {
  return {
    name: m.name,
    description: m.description,
    unit: m.unit,
    data: metricData(m),
    metadata: attributes(m.metadata),
  };
}

function metricData(m: Pb): otlp.MetricData {
  return (
    one(m.gauge, (g): otlp.MetricData => ({ type: 'gauge', dataPoints: each(g.dataPoints, numberPoint) })) ??
    one(m.sum, (s): otlp.MetricData => ({
      type: 'sum',
      dataPoints: each(s.dataPoints, numberPoint),
      aggregationTemporality: s.aggregationTemporality,
      isMonotonic: s.isMonotonic,
    })) ??
    one(m.histogram, (h): otlp.MetricData => ({
      type: 'histogram',
      dataPoints: each(h.dataPoints, histogramPoint),
      aggregationTemporality: h.aggregationTemporality,
    })) ??
    one(m.exponentialHistogram, (h): otlp.MetricData => ({
      type: 'exponential_histogram',
      dataPoints: each(h.dataPoints, exponentialPoint),
      aggregationTemporality: h.aggregationTemporality,
    })) ??
    one(m.summary, (s): otlp.MetricData => ({ type: 'summary', dataPoints: each(s.dataPoints, summaryPoint) })) ??
    EMPTY_DATA
  );
}

function numberValue(n: Pb): otlp.NumberValue {
  if (hasOwn.call(n, 'asDouble')) return { kind: 'double', value: n.asDouble };
  if (hasOwn.call(n, 'asInt')) return { kind: 'int', value: i64(n.asInt) };
  return NO_NUMBER;
}

function exemplar(e: Pb): otlp.Exemplar {
  return {
    filteredAttributes: attributes(e.filteredAttributes),
    timeUnixNano: u64(e.timeUnixNano),
    value: numberValue(e),
    spanId: bytes(e.spanId),
    traceId: bytes(e.traceId),
  };
}

function numberPoint(p: Pb): otlp.NumberDataPoint {
  return {
    attributes: attributes(p.attributes),
    startTimeUnixNano: u64(p.startTimeUnixNano),
    timeUnixNano: u64(p.timeUnixNano),
    value: numberValue(p),
    exemplars: each(p.exemplars, exemplar),
    flags: p.flags,
  };
}

function histogramPoint(p: Pb): otlp.HistogramDataPoint {
  return {
    attributes: attributes(p.attributes),
    startTimeUnixNano: u64(p.startTimeUnixNano),
    timeUnixNano: u64(p.timeUnixNano),
    count: u64(p.count),
    sum: p.sum ?? undefined,
    bucketCounts: u64s(p.bucketCounts),
    explicitBounds: p.explicitBounds,
    exemplars: each(p.exemplars, exemplar),
    flags: p.flags,
    min: p.min ?? undefined,
    max: p.max ?? undefined,
  };
}

function buckets(b: Pb): otlp.ExponentialHistogramBuckets {
  return { offset: b.offset, bucketCounts: u64s(b.bucketCounts) };
}

function exponentialPoint(p: Pb): otlp.ExponentialHistogramDataPoint {
  return {
    attributes: attributes(p.attributes),
    startTimeUnixNano: u64(p.startTimeUnixNano),
    timeUnixNano: u64(p.timeUnixNano),
    count: u64(p.count),
    sum: p.sum ?? undefined,
    scale: p.scale,
    zeroCount: u64(p.zeroCount),
    positive: one(p.positive, buckets),
    negative: one(p.negative, buckets),
    flags: p.flags,
    exemplars: each(p.exemplars, exemplar),
    min: p.min ?? undefined,
    max: p.max ?? undefined,
    zeroThreshold: p.zeroThreshold,
  };
}

function summaryPoint(p: Pb): otlp.SummaryDataPoint {
  return {
    attributes: attributes(p.attributes),
    startTimeUnixNano: u64(p.startTimeUnixNano),
    timeUnixNano: u64(p.timeUnixNano),
    count: u64(p.count),
    sum: p.sum,
    quantileValues: each(p.quantileValues, (q) => ({ quantile: q.quantile, value: q.value })),
    flags: p.flags,
  };
}
