// What to export, and its SQL: conditions on the columns the schema indexes and partitions by
// (trace_id, service_name, the timestamptz partition key), so a narrow export reads little.

export interface Selection {
  /** Lowercase hex trace ids (traces, logs); empty: any. */
  readonly traceIds: readonly string[];
  /** service_name values (the resource's service.name); empty: any. */
  readonly services: readonly string[];
  /** Metric names (metrics); empty: any. */
  readonly names: readonly string[];
  /** Inclusive lower bound of the row's timestamptz column. */
  readonly since: Date | undefined;
  /** Exclusive upper bound. */
  readonly until: Date | undefined;
}

/** The columns a signal's row table is filtered on. */
export interface FilterColumns {
  readonly traceId?: string;
  readonly service: string;
  readonly time: string;
  /** For metrics: names select metric ids. */
  readonly metricId?: string;
}

/** A WHERE clause (or '') and its parameters, numbered from $1. */
export interface Where {
  readonly sql: string;
  readonly params: readonly unknown[];
}

export function whereOf(selection: Selection, columns: FilterColumns, extra: readonly string[] = []): Where {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (selection.traceIds.length > 0 && columns.traceId) {
    conditions.push(`${columns.traceId} = ANY(${param(selection.traceIds.map((id) => Buffer.from(id, 'hex')))}::bytea[])`);
  }
  if (selection.services.length > 0) conditions.push(`${columns.service} = ANY(${param(selection.services)}::text[])`);
  if (selection.since) conditions.push(`${columns.time} >= ${param(selection.since.toISOString())}::timestamptz`);
  if (selection.until) conditions.push(`${columns.time} < ${param(selection.until.toISOString())}::timestamptz`);
  // Metric names live in the metrics table: the points' series index (metric_id, time) does the rest.
  if (selection.names.length > 0 && columns.metricId) {
    conditions.push(`${columns.metricId} IN (SELECT metric_id FROM metrics WHERE name = ANY(${param(selection.names)}::text[]))`);
  }
  conditions.push(...extra);
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
}

/** True when the selection bounds time or trace: rows without either (point-less metrics) cannot match. */
export function isNarrowedByTimeOrTrace(selection: Selection): boolean {
  return selection.since !== undefined || selection.until !== undefined || selection.traceIds.length > 0;
}
