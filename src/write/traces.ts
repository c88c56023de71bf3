import type pg from 'pg';
import { addTraceSummary } from '../map/traces.js';
import type { ResourceRow, ScopeRow, TraceRows, TraceSummary } from '../map/types.js';
import { copyBinary, type CopyRowWriter } from './copy-binary.js';
import { copyIn } from './copy-stream.js';
import { insertDictionaries, type KnownIds } from './dictionaries.js';

export const SPAN_COLUMNS = [
  'start_time', 'trace_id', 'span_id', 'parent_span_id', 'trace_state', 'flags', 'name', 'kind',
  'start_time_unix_nano', 'end_time_unix_nano', 'duration_ns', 'status_code', 'status_message',
  'attributes', 'dropped_attributes_count', 'events', 'dropped_events_count', 'links',
  'dropped_links_count', 'service_name', 'resource_id', 'scope_id',
].join(', ');

/** A trace request's rows as the batch writer takes them: its spans already as binary COPY rows. */
export interface EncodedTraces {
  readonly resources: readonly ResourceRow[];
  readonly scopes: readonly ScopeRow[];
  /** The spans as binary COPY rows (no header or trailer: copyIn adds them per batch). */
  readonly spans: Buffer;
  readonly traces: readonly TraceSummary[];
}

/**
 * Encodes a request's spans as soon as they are mapped, so that while they wait for their batch
 * they are one Buffer outside the JS heap rather than thousands of objects and strings the
 * garbage collector would have to move and mark. Pure.
 */
export function encodeTraces(rows: TraceRows): EncodedTraces {
  return { resources: rows.resources, scopes: rows.scopes, spans: copyBinary((c) => writeSpans(c, rows)), traces: rows.traces };
}

/** The spans as COPY rows of trace_spans (SPAN_COLUMNS), in either format. */
export function writeSpans(c: CopyRowWriter, rows: TraceRows): void {
  for (const s of rows.spans) {
    c.timestamptz(s.startTimeUnixNano);
    c.bytea(s.traceId);
    c.bytea(s.spanId);
    c.nullableBytea(s.parentSpanId);
    c.text(s.traceState);
    c.int8(s.flags);
    c.text(s.name);
    c.int4(s.kind);
    c.int8(s.startTimeUnixNano);
    c.int8(s.endTimeUnixNano);
    c.int8(s.endTimeUnixNano - s.startTimeUnixNano);
    c.int4(s.statusCode);
    c.text(s.statusMessage);
    c.json(s.attributes);
    c.int4(s.droppedAttributesCount);
    c.json(s.events);
    c.int4(s.droppedEventsCount);
    c.json(s.links);
    c.int4(s.droppedLinksCount);
    c.text(s.serviceName);
    c.int8(s.resourceId);
    c.int8(s.scopeId);
    c.endRow();
  }
}

/**
 * Writes one batch of trace requests inside the caller's transaction: new resources and scopes, the
 * spans by COPY, and one row of per-trace summary parts that the folder merges into `traces` later
 * (write/trace-summaries.ts). Append-only: nothing here waits for another writer.
 * Returns the dictionary ids to mark known once the transaction commits.
 */
export async function writeTraceBatch(client: pg.ClientBase, batch: readonly EncodedTraces[], known: KnownIds): Promise<bigint[]> {
  const newIds = await insertDictionaries(client, batch, known);
  const parts = batch.map((r) => r.spans).filter((b) => b.length > 0);
  if (parts.length > 0) await copyIn(client, `COPY trace_spans (${SPAN_COLUMNS}) FROM STDIN (FORMAT binary)`, parts);

  const byTrace = new Map<string, TraceSummary>();
  for (const rows of batch) for (const t of rows.traces) addTraceSummary(byTrace, t);
  if (byTrace.size > 0) await insertSummaryPart(client, [...byTrace.values()]);
  return newIds;
}

// The part's arrays go as parameters: node-postgres writes each as one array literal, and
// PostgreSQL parses it with no row per trace (see migrations/0005_trace_summary_parts.sql).
const INSERT_PART = `INSERT INTO trace_summary_parts (trace_ids, start_ns, end_ns, first_services, root_span_ids, root_names,
  root_services, span_counts, error_counts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

async function insertSummaryPart(client: pg.ClientBase, traces: readonly TraceSummary[]): Promise<void> {
  const buf = (b: Uint8Array | null): Buffer | null => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  await client.query(INSERT_PART, [
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
