import type pg from 'pg';
import { LOCK_TRACE_SUMMARY } from '../db/locks.js';
import { addTraceSummary } from '../map/traces.js';
import type { ResourceRow, ScopeRow, TraceRows, TraceSummary } from '../map/types.js';
import { copyText, type CopyBuffer } from './copy-text.js';
import { copyIn } from './copy-stream.js';
import { insertDictionaries, type KnownIds } from './dictionaries.js';

const SPAN_COLUMNS = [
  'start_time', 'trace_id', 'span_id', 'parent_span_id', 'trace_state', 'flags', 'name', 'kind',
  'start_time_unix_nano', 'end_time_unix_nano', 'duration_ns', 'status_code', 'status_message',
  'attributes', 'dropped_attributes_count', 'events', 'dropped_events_count', 'links',
  'dropped_links_count', 'service_name', 'resource_id', 'scope_id',
].join(', ');

/** A trace request's rows as the batch writer takes them: its spans already in COPY text. */
export interface EncodedTraces {
  readonly resources: readonly ResourceRow[];
  readonly scopes: readonly ScopeRow[];
  /** COPY text of the spans, one line each. */
  readonly spans: Buffer;
  readonly traces: readonly TraceSummary[];
}

/**
 * Encodes a request's spans as soon as they are mapped, so that while they wait for their batch
 * they are one Buffer outside the JS heap rather than thousands of objects and strings the
 * garbage collector would have to move and mark. Pure.
 */
export function encodeTraces(rows: TraceRows): EncodedTraces {
  return { resources: rows.resources, scopes: rows.scopes, spans: copyText((c) => writeSpans(c, rows)), traces: rows.traces };
}

function writeSpans(c: CopyBuffer, rows: TraceRows): void {
  for (const s of rows.spans) {
    c.timestamptz(s.startTimeUnixNano);
    c.bytea(s.traceId);
    c.bytea(s.spanId);
    c.nullableBytea(s.parentSpanId);
    c.text(s.traceState);
    c.int(s.flags);
    c.text(s.name);
    c.int(s.kind);
    c.int(s.startTimeUnixNano);
    c.int(s.endTimeUnixNano);
    c.int(s.endTimeUnixNano - s.startTimeUnixNano);
    c.int(s.statusCode);
    c.text(s.statusMessage);
    c.json(s.attributes);
    c.int(s.droppedAttributesCount);
    c.json(s.events);
    c.int(s.droppedEventsCount);
    c.json(s.links);
    c.int(s.droppedLinksCount);
    c.text(s.serviceName);
    c.int(s.resourceId);
    c.int(s.scopeId);
    c.endRow();
  }
}

/**
 * Writes one batch of trace requests inside the caller's transaction: new resources and scopes,
 * the spans by COPY, then each trace's `traces` row updated once.
 * Returns the dictionary ids to mark known once the transaction commits.
 */
export async function writeTraceBatch(client: pg.ClientBase, batch: readonly EncodedTraces[], known: KnownIds): Promise<bigint[]> {
  const newIds = await insertDictionaries(client, batch, known);
  const parts = batch.map((r) => r.spans).filter((b) => b.length > 0);
  if (parts.length > 0) await copyIn(client, `COPY trace_spans (${SPAN_COLUMNS}) FROM STDIN`, parts);

  const byTrace = new Map<string, TraceSummary>();
  for (const rows of batch) for (const t of rows.traces) addTraceSummary(byTrace, t);
  if (byTrace.size > 0) await upsertTraces(client, byTrace);
  return newIds;
}

// The `traces` row of a trace changes partition when an earlier span arrives, so no unique key can
// guard it (a unique key on a partitioned table must include the partition column). Instead one
// transaction-scoped advisory lock serialises this step across writers and processes; it is taken
// last, just before COMMIT, so the COPYs still run in parallel.
const UPSERT_TRACES = `
WITH b AS (
  SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::text[], $5::bytea[], $6::text[], $7::text[],
                       $8::integer[], $9::integer[])
    AS b(trace_id, start_ns, end_ns, first_service, root_span_id, root_name, root_service, span_count, error_count)
), upd AS (
  UPDATE traces t SET
    start_time = CASE WHEN b.start_ns < t.start_time_unix_nano
                      THEN timestamptz 'epoch' + (b.start_ns / 1000) * interval '1 microsecond'
                      ELSE t.start_time END,
    start_time_unix_nano = least(t.start_time_unix_nano, b.start_ns),
    end_time_unix_nano = greatest(t.end_time_unix_nano, b.end_ns),
    duration_ns = greatest(t.end_time_unix_nano, b.end_ns) - least(t.start_time_unix_nano, b.start_ns),
    service_name = CASE WHEN t.root_span_id IS NOT NULL THEN t.service_name
                        WHEN b.root_span_id IS NOT NULL THEN b.root_service
                        WHEN b.start_ns < t.start_time_unix_nano THEN b.first_service
                        ELSE t.service_name END,
    root_span_name = CASE WHEN t.root_span_id IS NULL THEN b.root_name ELSE t.root_span_name END,
    root_span_id = coalesce(t.root_span_id, b.root_span_id),
    span_count = t.span_count + b.span_count,
    error_count = t.error_count + b.error_count
  FROM b WHERE t.trace_id = b.trace_id
  RETURNING t.trace_id
)
INSERT INTO traces (start_time, trace_id, start_time_unix_nano, end_time_unix_nano, duration_ns, service_name,
                    root_span_id, root_span_name, span_count, error_count)
SELECT timestamptz 'epoch' + (b.start_ns / 1000) * interval '1 microsecond', b.trace_id, b.start_ns, b.end_ns,
       b.end_ns - b.start_ns, coalesce(b.root_service, b.first_service), b.root_span_id, b.root_name,
       b.span_count, b.error_count
FROM b WHERE NOT EXISTS (SELECT 1 FROM upd WHERE upd.trace_id = b.trace_id)`;

async function upsertTraces(client: pg.ClientBase, byTrace: Map<string, TraceSummary>): Promise<void> {
  const traces = [...byTrace.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
  const buf = (b: Uint8Array | null): Buffer | null => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_TRACE_SUMMARY]);
  await client.query(UPSERT_TRACES, [
    traces.map((t) => buf(t.traceId)),
    traces.map((t) => t.startTimeUnixNano.toString()),
    traces.map((t) => t.endTimeUnixNano.toString()),
    traces.map((t) => t.firstServiceName),
    traces.map((t) => buf(t.rootSpanId)),
    traces.map((t) => t.rootSpanName),
    traces.map((t) => t.rootServiceName),
    traces.map((t) => t.spanCount),
    traces.map((t) => t.errorCount),
  ]);
}

