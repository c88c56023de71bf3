// The one request shape both decoders (protobuf and OTLP/JSON) produce and map/ consumes.
// It mirrors the OTLP messages field for field, with three deliberate choices:
//   - 64-bit integers are `bigint` (exact; never through a JS number),
//   - ids and bytes are `Uint8Array` (empty when absent on the wire),
//   - enums are plain numbers (unknown values are kept, not rejected, as proto3 does).
// Absent optional messages are `undefined`; absent scalars take their proto3 default.
// The protobuf decoder may leave the attributes of spans, log records and data points as their bytes
// (./wire-attributes.ts): map/ and write/ only copy those into jsonb.

import type { WireAttributes } from './wire-attributes.js';

export type AnyValue =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'array'; readonly value: readonly AnyValue[] }
  | { readonly kind: 'kvlist'; readonly value: readonly KeyValue[] }
  | { readonly kind: 'empty' };

export interface KeyValue {
  readonly key: string;
  readonly value: AnyValue;
}

/** Attributes as decoded, or as their bytes when every one is plain (./wire-attributes.ts). */
export type ItemAttributes = readonly KeyValue[] | WireAttributes;

export interface Resource {
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
}

export interface InstrumentationScope {
  readonly name: string;
  readonly version: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
}

// ---- traces ----

export interface ExportTraceServiceRequest {
  readonly resourceSpans: readonly ResourceSpans[];
}

export interface ResourceSpans {
  readonly resource: Resource | undefined;
  readonly scopeSpans: readonly ScopeSpans[];
  readonly schemaUrl: string;
}

export interface ScopeSpans {
  readonly scope: InstrumentationScope | undefined;
  readonly spans: readonly Span[];
  readonly schemaUrl: string;
}

export interface Span {
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly traceState: string;
  readonly parentSpanId: Uint8Array;
  readonly flags: number;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: ItemAttributes;
  readonly droppedAttributesCount: number;
  readonly events: readonly SpanEvent[];
  readonly droppedEventsCount: number;
  readonly links: readonly SpanLink[];
  readonly droppedLinksCount: number;
  readonly status: Status | undefined;
}

export interface SpanEvent {
  readonly timeUnixNano: bigint;
  readonly name: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
}

export interface SpanLink {
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly traceState: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly flags: number;
}

export interface Status {
  readonly message: string;
  readonly code: number;
}

// ---- logs ----

export interface ExportLogsServiceRequest {
  readonly resourceLogs: readonly ResourceLogs[];
}

export interface ResourceLogs {
  readonly resource: Resource | undefined;
  readonly scopeLogs: readonly ScopeLogs[];
  readonly schemaUrl: string;
}

export interface ScopeLogs {
  readonly scope: InstrumentationScope | undefined;
  readonly logRecords: readonly LogRecord[];
  readonly schemaUrl: string;
}

export interface LogRecord {
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: AnyValue | undefined;
  readonly attributes: ItemAttributes;
  readonly droppedAttributesCount: number;
  readonly flags: number;
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly eventName: string;
}

// ---- metrics ----

export interface ExportMetricsServiceRequest {
  readonly resourceMetrics: readonly ResourceMetrics[];
}

export interface ResourceMetrics {
  readonly resource: Resource | undefined;
  readonly scopeMetrics: readonly ScopeMetrics[];
  readonly schemaUrl: string;
}

export interface ScopeMetrics {
  readonly scope: InstrumentationScope | undefined;
  readonly metrics: readonly Metric[];
  readonly schemaUrl: string;
}

export type MetricData =
  | { readonly type: 'gauge'; readonly dataPoints: readonly NumberDataPoint[] }
  | {
      readonly type: 'sum';
      readonly dataPoints: readonly NumberDataPoint[];
      readonly aggregationTemporality: number;
      readonly isMonotonic: boolean;
    }
  | {
      readonly type: 'histogram';
      readonly dataPoints: readonly HistogramDataPoint[];
      readonly aggregationTemporality: number;
    }
  | {
      readonly type: 'exponential_histogram';
      readonly dataPoints: readonly ExponentialHistogramDataPoint[];
      readonly aggregationTemporality: number;
    }
  | { readonly type: 'summary'; readonly dataPoints: readonly SummaryDataPoint[] }
  | { readonly type: 'empty' };

export interface Metric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly data: MetricData;
  readonly metadata: readonly KeyValue[];
}

export type NumberValue =
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'none' };

export interface Exemplar {
  readonly filteredAttributes: readonly KeyValue[];
  readonly timeUnixNano: bigint;
  readonly value: NumberValue;
  readonly spanId: Uint8Array;
  readonly traceId: Uint8Array;
}

export interface NumberDataPoint {
  readonly attributes: ItemAttributes;
  readonly startTimeUnixNano: bigint;
  readonly timeUnixNano: bigint;
  readonly value: NumberValue;
  readonly exemplars: readonly Exemplar[];
  readonly flags: number;
}

export interface HistogramDataPoint {
  readonly attributes: ItemAttributes;
  readonly startTimeUnixNano: bigint;
  readonly timeUnixNano: bigint;
  readonly count: bigint;
  readonly sum: number | undefined;
  readonly bucketCounts: readonly bigint[];
  readonly explicitBounds: readonly number[];
  readonly exemplars: readonly Exemplar[];
  readonly flags: number;
  readonly min: number | undefined;
  readonly max: number | undefined;
}

export interface ExponentialHistogramBuckets {
  readonly offset: number;
  readonly bucketCounts: readonly bigint[];
}

export interface ExponentialHistogramDataPoint {
  readonly attributes: ItemAttributes;
  readonly startTimeUnixNano: bigint;
  readonly timeUnixNano: bigint;
  readonly count: bigint;
  readonly sum: number | undefined;
  readonly scale: number;
  readonly zeroCount: bigint;
  readonly positive: ExponentialHistogramBuckets | undefined;
  readonly negative: ExponentialHistogramBuckets | undefined;
  readonly flags: number;
  readonly exemplars: readonly Exemplar[];
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly zeroThreshold: number;
}

export interface ValueAtQuantile {
  readonly quantile: number;
  readonly value: number;
}

export interface SummaryDataPoint {
  readonly attributes: ItemAttributes;
  readonly startTimeUnixNano: bigint;
  readonly timeUnixNano: bigint;
  readonly count: bigint;
  readonly sum: number;
  readonly quantileValues: readonly ValueAtQuantile[];
  readonly flags: number;
}

export type Signal = 'traces' | 'logs' | 'metrics';

export interface SignalRequests {
  readonly traces: ExportTraceServiceRequest;
  readonly logs: ExportLogsServiceRequest;
  readonly metrics: ExportMetricsServiceRequest;
}

/** Wire encodings a request body may use; responses are written in the request's. */
export type Encoding = 'protobuf' | 'json';
