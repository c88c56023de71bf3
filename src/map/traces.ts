import type { ExportTraceServiceRequest, Span, SpanEvent, SpanLink } from '../decode/types.js';
import { FRESH, type Dictionary } from './dictionary.js';
import { fitsInt64, isValidId, Rejections, TIME_RANGE } from './rejections.js';
import type { Mapped, ResourceRow, ScopeRow, SpanRow, TraceRows, TraceSummary } from './types.js';
import { attributesJson, hex, jsonString, storableAttributes, storableString, takeReplaced } from './values.js';

/** Status.code ERROR (opentelemetry/proto/trace/v1/trace.proto). */
const STATUS_CODE_ERROR = 2;

/** Why a span cannot be stored as sent, or undefined when it can. */
function spanProblem(span: Span): string | undefined {
  if (!isValidId(span.traceId, 16)) return 'trace_id must be 16 bytes and not all zero';
  if (!isValidId(span.spanId, 8)) return 'span_id must be 8 bytes and not all zero';
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8) return 'parent_span_id must be empty or 8 bytes';
  // Only the bigint columns limit: an event's time is kept in jsonb as its digits, whatever its value.
  if (!fitsInt64(span.startTimeUnixNano) || !fitsInt64(span.endTimeUnixNano)) return TIME_RANGE;
  return undefined;
}

function eventsJson(events: readonly SpanEvent[]): string {
  if (events.length === 0) return '[]';
  const parts = events.map(
    (e) =>
      `{"time_unix_nano":"${e.timeUnixNano}","name":${jsonString(e.name)},"attributes":${attributesJson(e.attributes)},` +
      `"dropped_attributes_count":${e.droppedAttributesCount}}`,
  );
  return `[${parts.join(',')}]`;
}

function linksJson(links: readonly SpanLink[]): string {
  if (links.length === 0) return '[]';
  const parts = links.map(
    (l) =>
      `{"trace_id":"${hex(l.traceId)}","span_id":"${hex(l.spanId)}","trace_state":${jsonString(l.traceState)},` +
      `"flags":${l.flags},"attributes":${attributesJson(l.attributes)},"dropped_attributes_count":${l.droppedAttributesCount}}`,
  );
  return `[${parts.join(',')}]`;
}

/** Whether root span `candidate` replaces `current` (both may be absent). */
function takesRoot(candidate: Uint8Array | null, current: Uint8Array | null): boolean {
  return candidate !== null && (current === null || Buffer.compare(candidate, current) < 0);
}

/** Whether a span starting at `t` of `service` comes before one at `u` of `other`. */
function earlier(t: bigint, service: string, u: bigint, other: string): boolean {
  return t < u || (t === u && Buffer.compare(Buffer.from(service), Buffer.from(other)) < 0);
}

/** A map key for an id: its bytes as a latin1 string (half the length of hex). */
function idKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
}

type Accumulating = { -readonly [K in keyof TraceSummary]: TraceSummary[K] };

/**
 * Per trace of one request, what its spans say, updated in place span by span. The rules are the
 * fold's (migrations/0005_trace_summary_parts.sql) and do not depend on the order of the spans: the
 * root is the parentless span with the smallest span_id; the first service is the earliest span's,
 * ties to the smaller name in byte order.
 */
class TraceSummaries {
  readonly byTrace = new Map<string, Accumulating>();
  // Spans of one trace tend to come together: the last trace is checked before the map.
  private last: Accumulating | undefined;

  add(row: SpanRow): void {
    const isRoot = row.parentSpanId === null;
    const last = this.last;
    let t = last !== undefined && sameId(last.traceId, row.traceId) ? last : this.byTrace.get(idKey(row.traceId));
    if (t === undefined) {
      t = {
        traceId: row.traceId,
        startTimeUnixNano: row.startTimeUnixNano,
        endTimeUnixNano: row.endTimeUnixNano,
        firstServiceName: row.serviceName,
        rootSpanId: isRoot ? row.spanId : null,
        rootSpanName: isRoot ? row.name : null,
        rootServiceName: isRoot ? row.serviceName : null,
        spanCount: 1,
        errorCount: row.statusCode === STATUS_CODE_ERROR ? 1 : 0,
      };
      this.byTrace.set(idKey(row.traceId), t);
    } else {
      if (earlier(row.startTimeUnixNano, row.serviceName, t.startTimeUnixNano, t.firstServiceName)) {
        t.startTimeUnixNano = row.startTimeUnixNano;
        t.firstServiceName = row.serviceName;
      }
      if (row.endTimeUnixNano > t.endTimeUnixNano) t.endTimeUnixNano = row.endTimeUnixNano;
      if (isRoot && takesRoot(row.spanId, t.rootSpanId)) {
        t.rootSpanId = row.spanId;
        t.rootSpanName = row.name;
        t.rootServiceName = row.serviceName;
      }
      t.spanCount++;
      if (row.statusCode === STATUS_CODE_ERROR) t.errorCount++;
    }
    this.last = t;
  }
}

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ExportTraceServiceRequest → rows for resources, scopes, trace_spans and traces. Pure. */
export function mapTraces(request: ExportTraceServiceRequest, dictionary: Dictionary = FRESH): Mapped<TraceRows> {
  takeReplaced(); // start counting this request's altered strings
  const resources = new Map<bigint, ResourceRow>();
  const scopes = new Map<bigint, ScopeRow>();
  const spans: SpanRow[] = [];
  const traces = new TraceSummaries();
  const rejections = new Rejections();
  let total = 0;

  for (const rs of request.resourceSpans) {
    const resource = dictionary.resource(rs.resource, rs.schemaUrl);
    for (const ss of rs.scopeSpans) {
      const scope = dictionary.scope(ss.scope, ss.schemaUrl);
      for (const span of ss.spans) {
        total++;
        const problem = spanProblem(span);
        if (problem) {
          rejections.add(problem);
          continue;
        }
        resources.set(resource.resourceId, resource);
        scopes.set(scope.scopeId, scope);
        const row: SpanRow = {
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId.length === 0 ? null : span.parentSpanId,
          traceState: storableString(span.traceState),
          flags: span.flags,
          name: storableString(span.name),
          kind: span.kind,
          startTimeUnixNano: span.startTimeUnixNano,
          endTimeUnixNano: span.endTimeUnixNano,
          statusCode: span.status?.code ?? 0,
          statusMessage: storableString(span.status?.message ?? ''),
          attributes: storableAttributes(span.attributes),
          droppedAttributesCount: span.droppedAttributesCount,
          events: eventsJson(span.events),
          droppedEventsCount: span.droppedEventsCount,
          links: linksJson(span.links),
          droppedLinksCount: span.droppedLinksCount,
          serviceName: resource.serviceName,
          resourceId: resource.resourceId,
          scopeId: scope.scopeId,
        };
        spans.push(row);
        traces.add(row);
      }
    }
  }

  return {
    rows: { resources: [...resources.values()], scopes: [...scopes.values()], spans, traces: [...traces.byTrace.values()] },
    accepted: spans.length,
    weight: spans.length,
    rejected: rejections.total,
    message: rejections.message(total, 'spans', takeReplaced()),
  };
}
