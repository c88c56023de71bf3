// Rows as map/ hands them to the pipeline: one interface per table, values already in the form
// the writer needs (jsonb as JSON text, ids as bytes, nanoseconds as bigint), except the attributes
// of spans, log records and data points: those go to write/ as decoded, and write/ writes their
// JSON straight into the COPY buffer.

import type { AnyValue, ItemAttributes, KeyValue } from '../decode/types.js';

export type { AnyValue, KeyValue };

/**
 * Attributes whose strings are all storable (map/values.ts storableAttributes), for a jsonb column:
 * decoded, or their protobuf bytes (decode/wire-attributes.ts), storable as they are.
 */
export type Attributes = ItemAttributes;

export interface ResourceRow {
  readonly resourceId: bigint;
  readonly serviceName: string;
  readonly attributes: string;
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string;
}

export interface ScopeRow {
  readonly scopeId: bigint;
  readonly name: string;
  readonly version: string;
  readonly attributes: string;
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string;
}

export interface SpanRow {
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly parentSpanId: Uint8Array | null;
  readonly traceState: string;
  readonly flags: number;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly attributes: Attributes;
  readonly droppedAttributesCount: number;
  readonly events: string;
  readonly droppedEventsCount: number;
  readonly links: string;
  readonly droppedLinksCount: number;
  readonly serviceName: string;
  readonly resourceId: bigint;
  readonly scopeId: bigint;
}

/** What a set of spans says about their trace; merged per batch, then into the `traces` row. */
export interface TraceSummary {
  readonly traceId: Uint8Array;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  /** Service of the earliest span seen. */
  readonly firstServiceName: string;
  readonly rootSpanId: Uint8Array | null;
  readonly rootSpanName: string | null;
  readonly rootServiceName: string | null;
  readonly spanCount: number;
  readonly errorCount: number;
}

export interface TraceRows {
  readonly resources: readonly ResourceRow[];
  readonly scopes: readonly ScopeRow[];
  readonly spans: readonly SpanRow[];
  readonly traces: readonly TraceSummary[];
}

export interface LogRow {
  /** Partition time: time_unix_nano, or the observed time when that is 0. */
  readonly timestampUnixNano: bigint;
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  readonly severityNumber: number;
  readonly severityText: string;
  /** The body, its strings storable (map/values.ts storableValue); null when the record has none. */
  readonly body: AnyValue | null;
  readonly attributes: Attributes;
  readonly droppedAttributesCount: number;
  readonly flags: number;
  readonly traceId: Uint8Array | null;
  readonly spanId: Uint8Array | null;
  readonly eventName: string;
  readonly serviceName: string;
  readonly resourceId: bigint;
  readonly scopeId: bigint;
}

export interface LogRows {
  readonly resources: readonly ResourceRow[];
  readonly scopes: readonly ScopeRow[];
  readonly logs: readonly LogRow[];
}

export interface MetricRow {
  readonly metricId: bigint;
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly type: string;
  readonly aggregationTemporality: number;
  readonly isMonotonic: boolean;
  readonly metadata: string;
  readonly serviceName: string;
  readonly resourceId: bigint;
  readonly scopeId: bigint;
}

/** A data point of any type; the fields a type does not use are null. */
export interface DataPointRow {
  readonly metricId: bigint;
  readonly timeUnixNano: bigint;
  readonly startTimeUnixNano: bigint;
  readonly attributes: Attributes;
  readonly flags: number;
  readonly valueDouble: number | null;
  readonly valueInt: bigint | null;
  readonly count: bigint | null;
  readonly sum: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly bucketCounts: readonly bigint[] | null;
  readonly explicitBounds: readonly number[] | null;
  readonly scale: number | null;
  readonly zeroCount: bigint | null;
  readonly zeroThreshold: number | null;
  readonly positiveOffset: number | null;
  readonly positiveBucketCounts: readonly bigint[] | null;
  readonly negativeOffset: number | null;
  readonly negativeBucketCounts: readonly bigint[] | null;
  /** JSON text: [{"quantile": q, "value": v}] */
  readonly quantileValues: string | null;
  /** JSON text: [{"time_unix_nano", "value", "filtered_attributes", "trace_id", "span_id"}] */
  readonly exemplars: string | null;
  readonly serviceName: string;
}

export interface MetricRows {
  readonly resources: readonly ResourceRow[];
  readonly scopes: readonly ScopeRow[];
  readonly metrics: readonly MetricRow[];
  readonly points: readonly DataPointRow[];
}

/** A mapped request: its rows, and the items refused (OTLP partial success) with the reason. */
export interface Mapped<R> {
  readonly rows: R;
  /** Items (spans, log records, data points) that will be stored. */
  readonly accepted: number;
  /** Rows to write, the unit batch sizes count; 0 when there is nothing to store. */
  readonly weight: number;
  readonly rejected: number;
  readonly message: string;
}
