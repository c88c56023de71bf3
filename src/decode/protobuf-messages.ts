// The message instances protobufjs decodes OTLP into, as far as decode/protobuf.ts reads them.

// ---- what protobufjs hands back. Absent scalars read their default from the prototype, absent
// messages and proto3 `optional` scalars are null, absent bytes an empty array; only the member of a
// oneof that was on the wire is an own property.

export interface LongBits {
  readonly low: number;
  readonly high: number;
}
export type Int64 = LongBits | number;

export interface PbMessage {
  readonly $type: protobuf.Type;
  /** Fields the decoder skipped, raw from their tag on: kept so wrong wire types can be refused. */
  readonly $unknowns?: readonly Uint8Array[];
}
export interface PbAnyValue extends PbMessage {
  readonly stringValue: string;
  readonly boolValue: boolean;
  readonly intValue: Int64;
  readonly doubleValue: number;
  readonly bytesValue: Uint8Array;
  readonly arrayValue: (PbMessage & { readonly values: readonly PbAnyValue[] }) | null;
  readonly kvlistValue: (PbMessage & { readonly values: readonly PbKeyValue[] }) | null;
}
export interface PbKeyValue extends PbMessage {
  readonly key: string;
  readonly value: PbAnyValue | null;
}
export interface PbAttributed extends PbMessage {
  readonly attributes: readonly PbKeyValue[];
  readonly droppedAttributesCount: number;
}
export interface PbScope extends PbAttributed {
  readonly name: string;
  readonly version: string;
}
export interface PbResourceItems extends PbMessage {
  readonly resource: PbAttributed | null;
  readonly schemaUrl: string;
}
export interface PbScopeItems extends PbMessage {
  readonly scope: PbScope | null;
  readonly schemaUrl: string;
}
export interface PbSpan extends PbAttributed {
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly traceState: string;
  readonly parentSpanId: Uint8Array;
  readonly flags: number;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: Int64;
  readonly endTimeUnixNano: Int64;
  readonly events: readonly PbEvent[];
  readonly droppedEventsCount: number;
  readonly links: readonly PbLink[];
  readonly droppedLinksCount: number;
  readonly status: (PbMessage & { readonly message: string; readonly code: number }) | null;
}
export interface PbEvent extends PbAttributed {
  readonly timeUnixNano: Int64;
  readonly name: string;
}
export interface PbLink extends PbAttributed {
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly traceState: string;
  readonly flags: number;
}
export interface PbLogRecord extends PbAttributed {
  readonly timeUnixNano: Int64;
  readonly observedTimeUnixNano: Int64;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: PbAnyValue | null;
  readonly flags: number;
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly eventName: string;
}
export interface PbMetric extends PbMessage {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly gauge: PbPoints<PbNumberPoint> | null;
  readonly sum: (PbPoints<PbNumberPoint> & PbTemporal & { readonly isMonotonic: boolean }) | null;
  readonly histogram: (PbPoints<PbHistogramPoint> & PbTemporal) | null;
  readonly exponentialHistogram: (PbPoints<PbExponentialPoint> & PbTemporal) | null;
  readonly summary: PbPoints<PbSummaryPoint> | null;
  readonly metadata: readonly PbKeyValue[];
}
export interface PbPoints<P> extends PbMessage {
  readonly dataPoints: readonly P[];
}
export interface PbTemporal {
  readonly aggregationTemporality: number;
}
export interface PbPoint extends PbMessage {
  readonly attributes: readonly PbKeyValue[];
  readonly startTimeUnixNano: Int64;
  readonly timeUnixNano: Int64;
  readonly flags: number;
}
export interface PbNumber extends PbMessage {
  readonly asDouble: number;
  readonly asInt: Int64;
}
export interface PbNumberPoint extends PbPoint, PbNumber {
  readonly exemplars: readonly PbExemplar[];
}
export interface PbExemplar extends PbNumber {
  readonly filteredAttributes: readonly PbKeyValue[];
  readonly timeUnixNano: Int64;
  readonly spanId: Uint8Array;
  readonly traceId: Uint8Array;
}
export interface PbHistogramPoint extends PbPoint {
  readonly count: Int64;
  readonly sum: number | null;
  readonly bucketCounts: readonly Int64[];
  readonly explicitBounds: readonly number[];
  readonly exemplars: readonly PbExemplar[];
  readonly min: number | null;
  readonly max: number | null;
}
export interface PbBuckets extends PbMessage {
  readonly offset: number;
  readonly bucketCounts: readonly Int64[];
}
export interface PbExponentialPoint extends PbPoint {
  readonly count: Int64;
  readonly sum: number | null;
  readonly scale: number;
  readonly zeroCount: Int64;
  readonly positive: PbBuckets | null;
  readonly negative: PbBuckets | null;
  readonly exemplars: readonly PbExemplar[];
  readonly min: number | null;
  readonly max: number | null;
  readonly zeroThreshold: number;
}
export interface PbSummaryPoint extends PbPoint {
  readonly count: Int64;
  readonly sum: number;
  readonly quantileValues: readonly (PbMessage & { readonly quantile: number; readonly value: number })[];
}
export interface PbTraceRequest extends PbMessage {
  readonly resourceSpans: readonly (PbResourceItems & {
    readonly scopeSpans: readonly (PbScopeItems & { readonly spans: readonly PbSpan[] })[];
  })[];
}
export interface PbLogsRequest extends PbMessage {
  readonly resourceLogs: readonly (PbResourceItems & {
    readonly scopeLogs: readonly (PbScopeItems & { readonly logRecords: readonly PbLogRecord[] })[];
  })[];
}
export interface PbMetricsRequest extends PbMessage {
  readonly resourceMetrics: readonly (PbResourceItems & {
    readonly scopeMetrics: readonly (PbScopeItems & { readonly metrics: readonly PbMetric[] })[];
  })[];
}

// ---- entry point
