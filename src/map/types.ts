// Rows as map/ hands them to the pipeline: one interface per table, values already in the form
// the writer needs (jsonb as JSON text, ids as bytes, nanoseconds as bigint).

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
  readonly attributes: string;
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

/** A mapped request: its rows, and the items refused (OTLP partial success) with the reason. */
export interface Mapped<R> {
  readonly rows: R;
  /** Items that will be stored; the unit batch sizes count. */
  readonly accepted: number;
  readonly rejected: number;
  readonly message: string;
}
