import type pg from 'pg';
import type { ResourceRow, ScopeRow, TraceRows, TraceSummary } from '../map/types.js';
import { copyBinary, type BinaryCopyBuffer, type CopyRowWriter } from './copy-binary.js';
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
  /** Its traces' summaries as one binary COPY row of trace_summary_parts (empty: no spans). */
  readonly summaries: Buffer;
}

/**
 * Encodes a request's spans as soon as they are mapped, so that while they wait for their batch
 * they are one Buffer outside the JS heap rather than thousands of objects and strings the
 * garbage collector would have to move and mark. Pure.
 */
export function encodeTraces(rows: TraceRows): EncodedTraces {
  return {
    resources: rows.resources,
    scopes: rows.scopes,
    spans: copyBinary((c) => writeSpans(c, rows)),
    summaries: copyBinary((c) => writeSummaryPart(c, rows.traces)),
  };
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
    c.attributes(s.attributes);
    // uint32 counts: bigint columns (migrations/0006), so binary COPY sends them as int8.
    c.int8(s.droppedAttributesCount);
    c.json(s.events);
    c.int8(s.droppedEventsCount);
    c.json(s.links);
    c.int8(s.droppedLinksCount);
    c.text(s.serviceName);
    c.int8(s.resourceId);
    c.int8(s.scopeId);
    c.endRow();
  }
}

const SUMMARY_COLUMNS = ['trace_ids', 'start_ns', 'end_ns', 'first_keys', 'root_keys', 'span_counts', 'error_counts'].join(', ');

/** Characters as PostgreSQL counts them (code points), which the fold's substr() works in. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** The keys of migrations/0005_trace_summary_parts.sql whose minimum is the earliest span's service, and the root. */
const firstKey = (t: TraceSummary): string => `${t.startTimeUnixNano.toString().padStart(19, '0')}${t.firstServiceName}`;
function rootKey(t: TraceSummary): string | null {
  if (t.rootSpanId === null) return null;
  const id = Buffer.from(t.rootSpanId.buffer, t.rootSpanId.byteOffset, t.rootSpanId.byteLength).toString('hex');
  const name = t.rootSpanName ?? '';
  return `${id}${String(codePoints(name)).padStart(10, '0')}${name}${t.rootServiceName ?? ''}`;
}

/**
 * A request's per-trace summaries as ONE binary COPY row of trace_summary_parts: parallel arrays,
 * which PostgreSQL reads element by element with nothing to parse (node-postgres' text array
 * literals cost more CPU per trace than the span rows themselves).
 */
function writeSummaryPart(c: BinaryCopyBuffer, traces: readonly TraceSummary[]): void {
  if (traces.length === 0) return;
  c.byteaArray(traces.map((t) => t.traceId));
  c.int8Array(traces.map((t) => t.startTimeUnixNano));
  c.int8Array(traces.map((t) => t.endTimeUnixNano));
  c.textArray(traces.map(firstKey));
  c.textArray(traces.map(rootKey));
  c.int4Array(traces.map((t) => t.spanCount));
  c.int4Array(traces.map((t) => t.errorCount));
  c.endRow();
}

/**
 * Writes one batch of trace requests inside the caller's transaction: new resources and scopes, the
 * spans, and each request's row of summary parts that the folder merges into `traces` later
 * (write/trace-summaries.ts), all by COPY. Append-only: nothing here waits for another writer.
 * Returns the dictionary ids to mark known once the transaction commits.
 */
export async function writeTraceBatch(client: pg.ClientBase, batch: readonly EncodedTraces[], known: KnownIds): Promise<bigint[]> {
  const newIds = await insertDictionaries(client, batch, known);
  const spans = batch.map((r) => r.spans).filter((b) => b.length > 0);
  if (spans.length > 0) await copyIn(client, `COPY trace_spans (${SPAN_COLUMNS}) FROM STDIN (FORMAT binary)`, spans);
  const summaries = batch.map((r) => r.summaries).filter((b) => b.length > 0);
  if (summaries.length > 0) await copyIn(client, `COPY trace_summary_parts (${SUMMARY_COLUMNS}) FROM STDIN (FORMAT binary)`, summaries);
  return newIds;
}
