// Issue 12, "every valid OTLP value stored": every numeric field of the OTLP protos, at the extremes
// of its type, sent over OTLP/protobuf and OTLP/JSON, is stored exactly and exported exactly. The one
// exception is what PostgreSQL cannot hold: a uint64 above 2^63−1 in a bigint column (a time past
// 2262-04-11, a count), whose item alone is refused, as partial success, with the rest of its request
// stored. Values nested in jsonb (event and exemplar times, int64 attributes, counts of events and
// links) are kept as written, whatever their value.
//
// FIELDS is the field walk: one row per field and place it is stored, with its proto type and column.
// The first test checks it against the protos themselves, so a numeric field added to OTLP fails here
// until it has a row. Each row's request holds the item under test and a sibling item without it; the
// checks read the stored column (as text) and the item `otlp-pg export` writes back.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runExport } from '../../src/cli/export.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { decodeRequest } from '../../src/decode/index.js';
import { lookupType } from '../../src/decode/protobuf.js';
import { keyValuesOf } from '../../src/decode/wire-attributes.js';
import type {
  AnyValue,
  Encoding,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  InstrumentationScope,
  LogRecord,
  Metric,
  NumberDataPoint,
  Resource,
  Signal,
  Span,
  SummaryDataPoint,
} from '../../src/decode/types.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, summariesFolded } from '../helpers/database.js';
import { httpPost, jsonToProtobuf } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

// ---- types and their extremes

type ProtoType = 'uint32' | 'fixed32' | 'int32' | 'enum' | 'sint32' | 'fixed64' | 'uint64' | 'sfixed64' | 'int64' | 'double';
type Num = bigint | number;

const U32_MAX = 2 ** 32 - 1;
const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

const UNSIGNED_32 = [0, I32_MAX, 2 ** 31, U32_MAX];
const SIGNED_32 = [I32_MIN, -1, 0, I32_MAX];
const UNSIGNED_64 = [0n, I64_MAX, I64_MAX + 1n, U64_MAX];
const SIGNED_64 = [I64_MIN, -1n, 0n, I64_MAX];

/** Per type: 0, its maximum, its minimum when signed, and the values either side of a 63- or 31-bit column. */
const EXTREMES: Readonly<Record<ProtoType, readonly Num[]>> = {
  uint32: UNSIGNED_32,
  fixed32: UNSIGNED_32,
  int32: SIGNED_32,
  enum: SIGNED_32, // enums are int32 on the wire, and unknown values are kept
  sint32: SIGNED_32,
  fixed64: UNSIGNED_64,
  uint64: UNSIGNED_64,
  sfixed64: SIGNED_64,
  int64: SIGNED_64,
  // ±0, the smallest subnormal and normal, the largest finite, and what JSON has no number for.
  double: [0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, Number.MAX_VALUE, -Number.MAX_VALUE, NaN, Infinity, -Infinity],
};

/** Where a field is stored: a column of that type, or inside a jsonb column. */
type Storage = 'bigint' | 'integer' | 'double precision' | 'bigint[]' | 'double precision[]' | 'jsonb';

/** The one limit: a uint64 above 2^63−1 does not fit a bigint column. */
const refused = (storage: Storage, v: Num): boolean => (storage === 'bigint' || storage === 'bigint[]') && typeof v === 'bigint' && v > I64_MAX;

// ---- requests, written as objects with bigint for 64-bit values

type Json = null | boolean | string | number | bigint | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** OTLP/JSON text: 64-bit integers as strings, -0 as a number, NaN and ±Infinity as strings. */
function jsonText(v: Json): string {
  if (typeof v === 'bigint') return `"${v}"`;
  if (typeof v === 'number') return !Number.isFinite(v) ? `"${v}"` : Object.is(v, -0) ? '-0' : String(v);
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`;
  return JSON.stringify(v);
}

/** The same request for protobufjs' fromObject, which takes 64-bit integers as decimal strings. */
function protobufObject(v: Json): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(protobufObject);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, protobufObject(x)]));
  return v;
}

const T = 1_700_000_000_000_000_001n;
const SPAN_ID = 'b7ad6b7169203331';
/** Each item is told apart by a trace id (spans, log records) or a metric name derived from its key. */
const traceIdOf = (key: string): string => createHash('md5').update(key).digest('hex');

const span = (key: string, fields: JsonObject = {}): JsonObject => ({
  traceId: traceIdOf(key), spanId: SPAN_ID, name: key, kind: 1, startTimeUnixNano: T, endTimeUnixNano: T + 1n, ...fields,
});
const logRecord = (key: string, fields: JsonObject = {}): JsonObject => ({
  timeUnixNano: T, traceId: traceIdOf(key), spanId: SPAN_ID, body: { stringValue: key }, ...fields,
});

type PointKind = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';
const TEMPORAL: readonly PointKind[] = ['sum', 'histogram', 'exponentialHistogram'];

/** A metric of one point of `kind`; `data` overrides fields of the data message (aggregation temporality). */
function metric(key: string, kind: PointKind, point: JsonObject, data: JsonObject = {}): JsonObject {
  const base: JsonObject = kind === 'gauge' || kind === 'sum' ? { asInt: 1n } : { count: 1n };
  const dataPoints = [{ startTimeUnixNano: T - 1n, timeUnixNano: T, ...base, ...point }];
  return { name: key, [kind]: { dataPoints, ...(TEMPORAL.includes(kind) ? { aggregationTemporality: 2 } : {}), ...data } };
}

/** What a row puts in a request: the item under test, and maybe its resource's or scope's fields. */
interface Parts {
  readonly resource?: JsonObject;
  readonly scope?: JsonObject;
  readonly item: JsonObject;
}

const LISTS: Readonly<Record<Signal, readonly [string, string, string]>> = {
  traces: ['resourceSpans', 'scopeSpans', 'spans'],
  logs: ['resourceLogs', 'scopeLogs', 'logRecords'],
  metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'],
};

function sibling(signal: Signal, key: string): JsonObject {
  if (signal === 'traces') return span(key);
  if (signal === 'logs') return logRecord(key);
  return metric(key, 'gauge', {});
}

function request(signal: Signal, parts: Parts, siblingKey: string): JsonObject {
  const [resourceList, scopeList, itemList] = LISTS[signal];
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'field-ranges' } }], ...parts.resource };
  const scope = { name: 'field-ranges', ...parts.scope };
  return { [resourceList]: [{ resource, [scopeList]: [{ scope, [itemList]: [parts.item, sibling(signal, siblingKey)] }] }] };
}

// ---- the field walk

/** An item as `otlp-pg export` wrote it, decoded. */
interface Exported {
  readonly resource: Resource | undefined;
  readonly scope: InstrumentationScope | undefined;
  readonly span?: Span;
  readonly log?: LogRecord;
  readonly metric?: Metric;
}

interface Field {
  /** The proto field, message.field_name, then where it is sent if in more than one place. */
  readonly label: string;
  readonly type: ProtoType;
  readonly signal: Signal;
  readonly storage: Storage;
  readonly build: (v: Num, key: string) => Parts;
  /** SQL over the item's row (t; for metrics, m is its metrics row) giving the stored value as text. */
  readonly stored: string;
  readonly exported: (e: Exported) => Num | undefined;
}

const protoPath = (f: Field): string => f.label.replace(/ \(.*\)$/, '');

function spanField(label: string, type: ProtoType, storage: Storage, stored: string, set: (v: Num) => JsonObject, get: (s: Span) => Num | undefined): Field {
  return { label, type, signal: 'traces', storage, stored, build: (v, key) => ({ item: span(key, set(v)) }), exported: (e) => get(e.span!) };
}

function logField(label: string, type: ProtoType, storage: Storage, stored: string, set: (v: Num) => JsonObject, get: (l: LogRecord) => Num | undefined): Field {
  return { label, type, signal: 'logs', storage, stored, build: (v, key) => ({ item: logRecord(key, set(v)) }), exported: (e) => get(e.log!) };
}

function pointOf<P>(e: Exported): P {
  return (e.metric!.data as unknown as { dataPoints: readonly P[] }).dataPoints[0]!;
}

function pointField<P>(label: string, type: ProtoType, storage: Storage, kind: PointKind, stored: string, set: (v: Num) => JsonObject, get: (p: P) => Num | undefined): Field {
  return { label, type, signal: 'metrics', storage, stored, build: (v, key) => ({ item: metric(key, kind, set(v)) }), exported: (e) => get(pointOf<P>(e)) };
}

/** An AnyValue's int or double, undefined when it holds another kind. */
const intOf = (v: AnyValue | undefined): Num | undefined => (v?.kind === 'int' ? v.value : undefined);
const doubleOf = (v: AnyValue | undefined): Num | undefined => (v?.kind === 'double' ? v.value : undefined);
const attributeValue = (v: Num): Json[] => [{ key: 'v', value: typeof v === 'bigint' ? { intValue: v } : { doubleValue: v } }];

const FIELDS: Field[] = [];

for (const signal of ['traces', 'logs', 'metrics'] as const) {
  const owner = signal === 'metrics' ? 'm' : 't';
  const item = (key: string): JsonObject => sibling(signal, key);
  FIELDS.push(
    {
      label: `Resource.dropped_attributes_count (${signal})`, type: 'uint32', signal, storage: 'bigint',
      stored: `(SELECT r.dropped_attributes_count FROM resources r WHERE r.resource_id = ${owner}.resource_id)`,
      build: (v, key) => ({ resource: { droppedAttributesCount: v }, item: item(key) }),
      exported: (e) => e.resource?.droppedAttributesCount,
    },
    {
      label: `InstrumentationScope.dropped_attributes_count (${signal})`, type: 'uint32', signal, storage: 'bigint',
      stored: `(SELECT s.dropped_attributes_count FROM scopes s WHERE s.scope_id = ${owner}.scope_id)`,
      build: (v, key) => ({ scope: { droppedAttributesCount: v }, item: item(key) }),
      exported: (e) => e.scope?.droppedAttributesCount,
    },
  );
}

FIELDS.push(
  spanField('Span.flags', 'fixed32', 'bigint', 't.flags', (v) => ({ flags: v }), (s) => s.flags),
  spanField('Span.kind', 'enum', 'integer', 't.kind', (v) => ({ kind: v }), (s) => s.kind),
  spanField('Span.start_time_unix_nano', 'fixed64', 'bigint', 't.start_time_unix_nano', (v) => ({ startTimeUnixNano: v }), (s) => s.startTimeUnixNano),
  spanField('Span.end_time_unix_nano', 'fixed64', 'bigint', 't.end_time_unix_nano', (v) => ({ endTimeUnixNano: v }), (s) => s.endTimeUnixNano),
  spanField('Span.dropped_attributes_count', 'uint32', 'bigint', 't.dropped_attributes_count', (v) => ({ droppedAttributesCount: v }), (s) => s.droppedAttributesCount),
  spanField('Span.dropped_events_count', 'uint32', 'bigint', 't.dropped_events_count', (v) => ({ droppedEventsCount: v }), (s) => s.droppedEventsCount),
  spanField('Span.dropped_links_count', 'uint32', 'bigint', 't.dropped_links_count', (v) => ({ droppedLinksCount: v }), (s) => s.droppedLinksCount),
  spanField('Span.Event.time_unix_nano', 'fixed64', 'jsonb', `t.events->0->>'time_unix_nano'`, (v) => ({ events: [{ timeUnixNano: v, name: 'e' }] }), (s) => s.events[0]?.timeUnixNano),
  spanField('Span.Event.dropped_attributes_count', 'uint32', 'jsonb', `t.events->0->>'dropped_attributes_count'`,
    (v) => ({ events: [{ timeUnixNano: T, name: 'e', droppedAttributesCount: v }] }), (s) => s.events[0]?.droppedAttributesCount),
  spanField('Span.Link.dropped_attributes_count', 'uint32', 'jsonb', `t.links->0->>'dropped_attributes_count'`,
    (v) => ({ links: [{ traceId: traceIdOf('link'), spanId: SPAN_ID, droppedAttributesCount: v }] }), (s) => s.links[0]?.droppedAttributesCount),
  spanField('Span.Link.flags', 'fixed32', 'jsonb', `t.links->0->>'flags'`,
    (v) => ({ links: [{ traceId: traceIdOf('link'), spanId: SPAN_ID, flags: v }] }), (s) => s.links[0]?.flags),
  spanField('Status.code', 'enum', 'integer', 't.status_code', (v) => ({ status: { code: v } }), (s) => s.status?.code),
  spanField('AnyValue.int_value (span attribute)', 'int64', 'jsonb', `t.attributes->>'v'`, (v) => ({ attributes: attributeValue(v) }), (s) => intOf(keyValuesOf(s.attributes)[0]?.value)),
  spanField('AnyValue.double_value (span attribute)', 'double', 'jsonb', `t.attributes->>'v'`, (v) => ({ attributes: attributeValue(v) }), (s) => doubleOf(keyValuesOf(s.attributes)[0]?.value)),

  logField('LogRecord.time_unix_nano', 'fixed64', 'bigint', 't.time_unix_nano', (v) => ({ timeUnixNano: v, observedTimeUnixNano: T }), (l) => l.timeUnixNano),
  logField('LogRecord.observed_time_unix_nano', 'fixed64', 'bigint', 't.observed_time_unix_nano', (v) => ({ observedTimeUnixNano: v }), (l) => l.observedTimeUnixNano),
  logField('LogRecord.severity_number', 'enum', 'integer', 't.severity_number', (v) => ({ severityNumber: v }), (l) => l.severityNumber),
  logField('LogRecord.dropped_attributes_count', 'uint32', 'bigint', 't.dropped_attributes_count', (v) => ({ droppedAttributesCount: v }), (l) => l.droppedAttributesCount),
  logField('LogRecord.flags', 'fixed32', 'bigint', 't.flags', (v) => ({ flags: v }), (l) => l.flags),
  logField('AnyValue.int_value (log body)', 'int64', 'jsonb', `t.body #>> '{}'`, (v) => ({ body: { intValue: v } }), (l) => intOf(l.body)),
  logField('AnyValue.double_value (log body)', 'double', 'jsonb', `t.body #>> '{}'`, (v) => ({ body: { doubleValue: v } }), (l) => doubleOf(l.body)),
);

// Every point type carries its times and flags through its own code path.
const POINT_TYPES: readonly [PointKind, string][] = [
  ['gauge', 'NumberDataPoint'],
  ['histogram', 'HistogramDataPoint'],
  ['exponentialHistogram', 'ExponentialHistogramDataPoint'],
  ['summary', 'SummaryDataPoint'],
];
type AnyPoint = NumberDataPoint & HistogramDataPoint & ExponentialHistogramDataPoint & SummaryDataPoint;
for (const [kind, message] of POINT_TYPES) {
  FIELDS.push(
    pointField<AnyPoint>(`${message}.start_time_unix_nano`, 'fixed64', 'bigint', kind, 't.start_time_unix_nano', (v) => ({ startTimeUnixNano: v }), (p) => p.startTimeUnixNano),
    pointField<AnyPoint>(`${message}.time_unix_nano`, 'fixed64', 'bigint', kind, 't.time_unix_nano', (v) => ({ timeUnixNano: v }), (p) => p.timeUnixNano),
    pointField<AnyPoint>(`${message}.flags`, 'uint32', 'bigint', kind, 't.flags', (v) => ({ flags: v }), (p) => p.flags),
  );
}

for (const [kind, message] of [['sum', 'Sum'], ['histogram', 'Histogram'], ['exponentialHistogram', 'ExponentialHistogram']] as const) {
  FIELDS.push({
    label: `${message}.aggregation_temporality`, type: 'enum', signal: 'metrics', storage: 'integer', stored: 'm.aggregation_temporality',
    build: (v, key) => ({ item: metric(key, kind, {}, { aggregationTemporality: v }) }),
    exported: (e) => (e.metric!.data as { aggregationTemporality: number }).aggregationTemporality,
  });
}

FIELDS.push(
  pointField<NumberDataPoint>('NumberDataPoint.as_double', 'double', 'double precision', 'gauge', 't.value_double', (v) => ({ asInt: null, asDouble: v }),
    (p) => (p.value.kind === 'double' ? p.value.value : undefined)),
  pointField<NumberDataPoint>('NumberDataPoint.as_int', 'sfixed64', 'bigint', 'gauge', 't.value_int', (v) => ({ asInt: v }), (p) => (p.value.kind === 'int' ? p.value.value : undefined)),
  pointField<HistogramDataPoint>('HistogramDataPoint.count', 'fixed64', 'bigint', 'histogram', 't.count', (v) => ({ count: v }), (p) => p.count),
  pointField<HistogramDataPoint>('HistogramDataPoint.sum', 'double', 'double precision', 'histogram', 't.sum', (v) => ({ sum: v }), (p) => p.sum),
  pointField<HistogramDataPoint>('HistogramDataPoint.bucket_counts', 'fixed64', 'bigint[]', 'histogram', 't.bucket_counts[1]',
    (v) => ({ bucketCounts: [v], explicitBounds: [] }), (p) => p.bucketCounts[0]),
  pointField<HistogramDataPoint>('HistogramDataPoint.explicit_bounds', 'double', 'double precision[]', 'histogram', 't.explicit_bounds[1]',
    (v) => ({ bucketCounts: [1n, 0n], explicitBounds: [v] }), (p) => p.explicitBounds[0]),
  pointField<HistogramDataPoint>('HistogramDataPoint.min', 'double', 'double precision', 'histogram', 't.min', (v) => ({ min: v }), (p) => p.min),
  pointField<HistogramDataPoint>('HistogramDataPoint.max', 'double', 'double precision', 'histogram', 't.max', (v) => ({ max: v }), (p) => p.max),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.count', 'fixed64', 'bigint', 'exponentialHistogram', 't.count', (v) => ({ count: v }), (p) => p.count),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.sum', 'double', 'double precision', 'exponentialHistogram', 't.sum', (v) => ({ sum: v }), (p) => p.sum),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.scale', 'sint32', 'integer', 'exponentialHistogram', 't.scale', (v) => ({ scale: v }), (p) => p.scale),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.zero_count', 'fixed64', 'bigint', 'exponentialHistogram', 't.zero_count', (v) => ({ zeroCount: v }), (p) => p.zeroCount),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.min', 'double', 'double precision', 'exponentialHistogram', 't.min', (v) => ({ min: v }), (p) => p.min),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.max', 'double', 'double precision', 'exponentialHistogram', 't.max', (v) => ({ max: v }), (p) => p.max),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.zero_threshold', 'double', 'double precision', 'exponentialHistogram', 't.zero_threshold',
    (v) => ({ zeroThreshold: v }), (p) => p.zeroThreshold),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.Buckets.offset (positive)', 'sint32', 'integer', 'exponentialHistogram', 't.positive_offset',
    (v) => ({ positive: { offset: v, bucketCounts: [1n] } }), (p) => p.positive?.offset),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.Buckets.offset (negative)', 'sint32', 'integer', 'exponentialHistogram', 't.negative_offset',
    (v) => ({ negative: { offset: v, bucketCounts: [1n] } }), (p) => p.negative?.offset),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.Buckets.bucket_counts (positive)', 'uint64', 'bigint[]', 'exponentialHistogram',
    't.positive_bucket_counts[1]', (v) => ({ positive: { offset: 1, bucketCounts: [v] } }), (p) => p.positive?.bucketCounts[0]),
  pointField<ExponentialHistogramDataPoint>('ExponentialHistogramDataPoint.Buckets.bucket_counts (negative)', 'uint64', 'bigint[]', 'exponentialHistogram',
    't.negative_bucket_counts[1]', (v) => ({ negative: { offset: 1, bucketCounts: [v] } }), (p) => p.negative?.bucketCounts[0]),
  pointField<SummaryDataPoint>('SummaryDataPoint.count', 'fixed64', 'bigint', 'summary', 't.count', (v) => ({ count: v }), (p) => p.count),
  pointField<SummaryDataPoint>('SummaryDataPoint.sum', 'double', 'double precision', 'summary', 't.sum', (v) => ({ sum: v }), (p) => p.sum),
  pointField<SummaryDataPoint>('SummaryDataPoint.ValueAtQuantile.quantile', 'double', 'jsonb', 'summary', `t.quantile_values->0->>'quantile'`,
    (v) => ({ quantileValues: [{ quantile: v, value: 1 }] }), (p) => p.quantileValues[0]?.quantile),
  pointField<SummaryDataPoint>('SummaryDataPoint.ValueAtQuantile.value', 'double', 'jsonb', 'summary', `t.quantile_values->0->>'value'`,
    (v) => ({ quantileValues: [{ quantile: 0.5, value: v }] }), (p) => p.quantileValues[0]?.value),
  pointField<NumberDataPoint>('Exemplar.time_unix_nano', 'fixed64', 'jsonb', 'gauge', `t.exemplars->0->>'time_unix_nano'`,
    (v) => ({ exemplars: [{ timeUnixNano: v, asInt: 1n }] }), (p) => p.exemplars[0]?.timeUnixNano),
  pointField<NumberDataPoint>('Exemplar.as_int', 'sfixed64', 'jsonb', 'gauge', `t.exemplars->0->>'value'`, (v) => ({ exemplars: [{ timeUnixNano: T, asInt: v }] }),
    (p) => (p.exemplars[0]?.value.kind === 'int' ? p.exemplars[0].value.value : undefined)),
  pointField<NumberDataPoint>('Exemplar.as_double', 'double', 'jsonb', 'gauge', `t.exemplars->0->>'value'`, (v) => ({ exemplars: [{ timeUnixNano: T, asDouble: v }] }),
    (p) => (p.exemplars[0]?.value.kind === 'double' ? p.exemplars[0].value.value : undefined)),
);

/** protobuf's scalar types that are numbers (and enums, int32 on the wire). */
const NUMERIC = new Set(['enum', 'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);

/** Numeric fields otlp-pg does not store: their type, and why not. */
const NOT_STORED: Readonly<Record<string, readonly [ProtoType, string]>> = {
  'KeyValue.key_strindex': ['int32', 'the profiles signal only: an index into its string table, which no other signal has'],
  'AnyValue.string_value_strindex': ['int32', 'the profiles signal only (as key_strindex)'],
};

// ---- sending, reading back

interface Case {
  readonly field: Field;
  readonly value: Num;
  readonly encoding: Encoding;
  readonly key: string;
  readonly siblingKey: string;
  answer?: { status: number; rejected: number; message: string };
}

const CASES: Case[] = FIELDS.flatMap((field) =>
  EXTREMES[field.type].flatMap((value, i) =>
    (['protobuf', 'json'] as const).map((encoding): Case => {
      const key = `${field.label} #${i} ${encoding}`;
      return { field, value, encoding, key, siblingKey: `${key} sibling` };
    }),
  ),
);

const REJECTED: Readonly<Record<Signal, string>> = { traces: 'rejectedSpans', logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints' };
const RESPONSE: Readonly<Record<Signal, protobuf.Type>> = {
  traces: lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  logs: lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
  metrics: lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
};

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;
let dir: string;
/** Reads what was stored: one connection for the thousand-odd queries of the checks. */
let reader: pg.Client;
/** Exported items by key (hex trace id, or metric name). */
const exported = new Map<string, Exported>();

async function send(c: Case): Promise<void> {
  const { signal } = c.field;
  const body = request(signal, c.field.build(c.value, c.key), c.siblingKey);
  const bytes = c.encoding === 'json' ? Buffer.from(jsonText(body)) : jsonToProtobuf(signal, protobufObject(body));
  const type = c.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
  const res = await httpPost(server.http.port, `/v1/${signal}`, bytes, { 'Content-Type': type });
  if (res.status !== 200) {
    c.answer = { status: res.status, rejected: 0, message: res.body.toString() };
    return;
  }
  const answer = (c.encoding === 'json' ? JSON.parse(res.body.toString()) : RESPONSE[signal].toObject(RESPONSE[signal].decode(res.body), { longs: String })) as {
    partialSuccess?: Record<string, string | number>;
  };
  const partial = answer.partialSuccess ?? {};
  c.answer = { status: 200, rejected: Number(partial[REJECTED[signal]] ?? 0), message: String(partial.errorMessage ?? '') };
}

const FROM: Readonly<Record<Signal, string>> = {
  traces: `trace_spans t WHERE t.trace_id = decode($1, 'hex')`,
  logs: `logs t WHERE t.trace_id = decode($1, 'hex')`,
  metrics: 'metric_data_points t JOIN metrics m USING (metric_id) WHERE m.name = $1',
};
const itemKey = (signal: Signal, key: string): string => (signal === 'metrics' ? key : traceIdOf(key));

async function storedTexts(field: Field, key: string): Promise<(string | null)[]> {
  const { rows } = await reader.query<{ v: string | null }>(`SELECT (${field.stored})::text AS v FROM ${FROM[field.signal]}`, [itemKey(field.signal, key)]);
  return rows.map((r) => r.v);
}

/** A value as compared: integers as decimal digits, doubles as String() with -0 told apart. */
function canonical(type: ProtoType, v: Num | undefined): string {
  if (v === undefined) return 'absent';
  if (type === 'double') return Object.is(v, -0) ? '-0' : String(v);
  return BigInt(v).toString();
}

/** A stored value's text as compared: a jsonb double may be a {"$double": …} tag (NaN, ±Infinity, -0). */
function canonicalStored(type: ProtoType, text: string | null): string {
  if (text === null) return 'NULL';
  if (type !== 'double') return BigInt(text).toString();
  if (text.startsWith('{')) {
    const tag = (JSON.parse(text) as { $double: string }).$double;
    return tag === '-0' ? '-0' : String(Number(tag));
  }
  return canonical(type, Number(text));
}

async function exportAll(signal: Signal): Promise<void> {
  const file = path.join(dir, `${signal}.jsonl`);
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  let code: number;
  try {
    code = await runExport([signal, '--database-url', db.url, '--output', file]);
  } finally {
    spy.mockRestore();
  }
  expect(code, stderr).toBe(0);
  const hex = (id: Uint8Array): string => Buffer.from(id).toString('hex');
  for (const line of (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '')) {
    const body = Buffer.from(line);
    if (signal === 'traces') {
      for (const rs of decodeRequest('traces', body, 'json').resourceSpans) {
        for (const ss of rs.scopeSpans) for (const s of ss.spans) exported.set(hex(s.traceId), { resource: rs.resource, scope: ss.scope, span: s });
      }
    } else if (signal === 'logs') {
      for (const rl of decodeRequest('logs', body, 'json').resourceLogs) {
        for (const sl of rl.scopeLogs) for (const l of sl.logRecords) exported.set(hex(l.traceId), { resource: rl.resource, scope: sl.scope, log: l });
      }
    } else {
      for (const rm of decodeRequest('metrics', body, 'json').resourceMetrics) {
        for (const sm of rm.scopeMetrics) for (const m of sm.metrics) exported.set(m.name, { resource: rm.resource, scope: sm.scope, metric: m });
      }
    }
  }
}

/** Runs `work` on every item, `n` at a time. */
async function inParallel<T>(items: readonly T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

beforeAll(async () => {
  db = await createTestDatabase();
  // No queue-delay bound: every request is admitted, whatever the machine's speed.
  server = await startTestServer(db.url, { 'max-queue-delay': '0' });
  dir = await mkdtemp(path.join(tmpdir(), 'otlp-pg-field-ranges-'));
  await inParallel(CASES, 16, send);
  // The fold takes the extreme times too (a failing fold would leave its parts).
  await summariesFolded(db.url);
  for (const signal of ['traces', 'logs', 'metrics'] as const) await exportAll(signal);
  reader = new pg.Client({ connectionString: db.url });
  await reader.connect();
});

afterAll(async () => {
  await reader?.end();
  await server?.shutdown();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the field walk', () => {
  it('has a row for every numeric field of the OTLP protos, with its proto type', () => {
    const numeric = new Map<string, ProtoType>();
    const walk = (ns: protobuf.ReflectionObject, prefix: string): void => {
      if (ns instanceof protobuf.Type) {
        for (const f of ns.fieldsArray) {
          const type = f.resolve().resolvedType instanceof protobuf.Enum ? 'enum' : f.type;
          if (NUMERIC.has(type)) numeric.set(`${prefix}${ns.name}.${f.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`, type as ProtoType);
        }
      }
      if (ns instanceof protobuf.Namespace) for (const n of ns.nestedArray) walk(n, ns instanceof protobuf.Type ? `${prefix}${ns.name}.` : '');
    };
    for (const pkg of ['common', 'resource', 'trace', 'logs', 'metrics']) walk(lookupType('opentelemetry.proto.trace.v1.Span').root.lookup(`opentelemetry.proto.${pkg}.v1`)!, '');
    const covered = new Map(FIELDS.map((f) => [protoPath(f), f.type]));
    for (const [name, [type]] of Object.entries(NOT_STORED)) covered.set(name, type);
    expect(Object.fromEntries([...covered].sort())).toEqual(Object.fromEntries([...numeric].sort()));
  });
});

describe.each(FIELDS.map((f) => [f.label, f] as const))('%s', (_label, field) => {
  const cases = CASES.filter((c) => c.field === field);

  it(`is stored exactly (${field.storage}), or refused alone where a bigint cannot hold it`, async () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const want = canonical(field.type, c.value);
      const isRefused = refused(field.storage, c.value);
      const what = `${want} over ${c.encoding}`;
      const answer = c.answer;
      if (answer?.status !== 200) wrong.push(`${what}: HTTP ${answer?.status} ${answer?.message}`);
      else if (answer.rejected !== (isRefused ? 1 : 0)) wrong.push(`${what}: rejected ${answer.rejected} (${answer.message})`);
      else if (isRefused && !/^rejected 1 of 2 .*(2262|2\^63)/.test(answer.message)) wrong.push(`${what}: message ${JSON.stringify(answer.message)}`);
      const stored = (await storedTexts(field, c.key)).map((t) => canonicalStored(field.type, t));
      if (JSON.stringify(stored) !== JSON.stringify(isRefused ? [] : [want])) wrong.push(`${what}: stored ${JSON.stringify(stored)}`);
      // The rest of the request is stored whatever became of the item.
      const siblings = (await reader.query(`SELECT 1 FROM ${FROM[field.signal]}`, [itemKey(field.signal, c.siblingKey)])).rows;
      if (siblings.length !== 1) wrong.push(`${what}: the sibling item stored ${siblings.length} times`);
    }
    expect(wrong).toEqual([]);
  });

  it('is exported as it was sent', () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const want = canonical(field.type, c.value);
      const item = exported.get(itemKey(field.signal, c.key));
      const what = `${want} over ${c.encoding}`;
      if (refused(field.storage, c.value)) {
        if (item !== undefined) wrong.push(`${what}: a refused item was exported`);
      } else if (item === undefined) wrong.push(`${what}: not exported`);
      else if (canonical(field.type, field.exported(item)) !== want) wrong.push(`${what}: exported ${canonical(field.type, field.exported(item))}`);
      if (!exported.has(itemKey(field.signal, c.siblingKey))) wrong.push(`${what}: the sibling item was not exported`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('migrations/0006_uint32_counts.sql', () => {
  it('widens the uint32 counts of a database holding rows, in daily and DEFAULT partitions, keeping them', async () => {
    const old = await createTestDatabase();
    const client = new pg.Client({ connectionString: old.url });
    await client.connect();
    try {
      const migrations = await loadMigrations();
      const at = migrations.findIndex((m) => m.name === '0006_uint32_counts.sql');
      expect(at).toBeGreaterThan(0);
      await migrate(client, migrations.slice(0, at));
      await client.query(`SELECT * FROM otlp_pg_ensure_partitions('2026-01-01', '2026-01-01')`);
      await client.query(`INSERT INTO resources (resource_id, service_name, attributes, dropped_attributes_count) VALUES (1, 's', '{}', 2147483647)`);
      await client.query(`INSERT INTO scopes (scope_id, name, version, attributes, dropped_attributes_count) VALUES (1, '', '', '{}', 7)`);
      // One span in the day's partition, one in DEFAULT.
      for (const [day, n] of [['2026-01-01', 1], ['1999-01-01', 2]] as const) {
        await client.query(
          `INSERT INTO trace_spans (start_time, trace_id, span_id, name, kind, start_time_unix_nano, end_time_unix_nano, duration_ns,
                                    attributes, dropped_attributes_count, events, dropped_events_count, links, dropped_links_count,
                                    service_name, resource_id, scope_id)
           VALUES ($1, '\\x01', '\\x02', 'old', 1, 0, 0, 0, '{}', $2, '[]', $2, '[]', 2147483647, 's', 1, 1)`,
          [day, n],
        );
        await client.query(
          `INSERT INTO logs ("timestamp", time_unix_nano, observed_time_unix_nano, attributes, dropped_attributes_count, service_name, resource_id, scope_id)
           VALUES ($1, 0, 0, '{}', $2, 's', 1, 1)`,
          [day, n],
        );
      }
      expect(await migrate(client)).toEqual(migrations.slice(at).map((m) => m.name));

      const { rows: types } = await client.query<{ name: string }>(
        `SELECT c.relname || '.' || a.attname AS name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          WHERE a.attname LIKE 'dropped\\_%\\_count' AND a.atttypid = 'bigint'::regtype AND c.relkind IN ('r', 'p') ORDER BY 1`,
      );
      // The parents, their partitions (DEFAULT included) and the dictionaries; nothing left as integer.
      expect(types.map((t) => t.name)).toEqual([
        'logs.dropped_attributes_count', 'logs_default.dropped_attributes_count', 'logs_p20260101.dropped_attributes_count',
        'resources.dropped_attributes_count', 'scopes.dropped_attributes_count',
        ...['trace_spans', 'trace_spans_default', 'trace_spans_p20260101'].flatMap((t) =>
          ['dropped_attributes_count', 'dropped_events_count', 'dropped_links_count'].map((c) => `${t}.${c}`)),
      ]);
      const { rows: spans } = await client.query(
        `SELECT tableoid::regclass::text AS part, dropped_attributes_count, dropped_events_count, dropped_links_count FROM trace_spans ORDER BY 2`,
      );
      expect(spans).toEqual([
        { part: 'trace_spans_p20260101', dropped_attributes_count: '1', dropped_events_count: '1', dropped_links_count: '2147483647' },
        { part: 'trace_spans_default', dropped_attributes_count: '2', dropped_events_count: '2', dropped_links_count: '2147483647' },
      ]);
      const { rows: counts } = await client.query(
        `SELECT (SELECT array_agg(dropped_attributes_count ORDER BY dropped_attributes_count) FROM logs)::text AS logs,
                (SELECT dropped_attributes_count FROM resources)::text AS resource, (SELECT dropped_attributes_count FROM scopes)::text AS scope`,
      );
      expect(counts).toEqual([{ logs: '{1,2}', resource: '2147483647', scope: '7' }]);
      // The views built on the row tables still answer.
      await client.query('SELECT * FROM service_red, service_dependencies, metric_latest LIMIT 1');
    } finally {
      await client.end();
      await old.drop();
    }
  });
});
