// OTLP/protobuf request bodies → the request shape of ./types.ts, in one pass over the bytes with no
// message tree in between: the entry point, and the walks of the trace and log messages. The wire
// reader is ./protobuf-reader.ts; what every walk shares, and how to read one, is in
// ./protobuf-common.ts; the walks of the metric messages are in ./protobuf-metrics.ts.
import type protobuf from 'protobufjs';
import { OtlpError, invalidArgument } from '../errors.js';
import {
  again,
  anyValue,
  embedded,
  envelope,
  keyValue,
  list,
  otel,
  other,
  resource,
  scope,
} from './protobuf-common.js';
import type { HeadMemo } from './head-memo.js';
import { resourceMetrics } from './protobuf-metrics.js';
import { EMPTY_BYTES, Reader } from './protobuf-reader.js';
import type * as otlp from './types.js';
import type { Signal, SignalRequests } from './types.js';
import { AttributeRun } from './wire-attributes.js';

export { PROTO_DIR, lookupType } from './protobuf-common.js';

interface RequestWalk<T> {
  readonly type: protobuf.Type;
  readonly walk: (r: Reader) => T;
}

const TRACES = otel('collector.trace.v1.ExportTraceServiceRequest');
const LOGS = otel('collector.logs.v1.ExportLogsServiceRequest');
const METRICS = otel('collector.metrics.v1.ExportMetricsServiceRequest');

const REQUESTS: { readonly [S in Signal]: RequestWalk<SignalRequests[S]> } = {
  traces: { type: TRACES, walk: (r) => ({ resourceSpans: list(r, r.len, TRACES, resourceSpans, 0) }) },
  logs: { type: LOGS, walk: (r) => ({ resourceLogs: list(r, r.len, LOGS, resourceLogs, 0) }) },
  metrics: { type: METRICS, walk: (r) => ({ resourceMetrics: list(r, r.len, METRICS, resourceMetrics, 0) }) },
};

/**
 * Decodes an OTLP/protobuf Export*ServiceRequest; any undecodable input throws invalidArgument.
 * With a memo, resources and scopes it holds are not walked again (./head-memo.ts). With `wire`,
 * the plain attributes of spans, log records and data points stay bytes in the body (./wire-attributes.ts).
 */
export function decodeProtobufRequest<S extends Signal>(
  signal: S,
  body: Uint8Array,
  memo?: HeadMemo,
  wire = false,
): SignalRequests[S] {
  const request: RequestWalk<SignalRequests[S]> = REQUESTS[signal];
  try {
    return request.walk(new Reader(body, memo, wire));
  } catch (err) {
    if (err instanceof OtlpError) throw err;
    // WireError for malformed input; nothing else (a RangeError …) may reach a receiver as a 500 either.
    const message = err instanceof Error ? err.message : String(err);
    throw invalidArgument(`invalid protobuf ${request.type.name}: ${message}`, err);
  }
}

// ---- traces

const RESOURCE_SPANS = otel('trace.v1.ResourceSpans');
const SCOPE_SPANS = otel('trace.v1.ScopeSpans');
const SPAN = otel('trace.v1.Span');
const EVENT = otel('trace.v1.Span.Event');
const LINK = otel('trace.v1.Span.Link');
const STATUS = otel('trace.v1.Status');

function resourceSpans(r: Reader, end: number): otlp.ResourceSpans {
  const e = envelope(r, end, RESOURCE_SPANS, resource, scopeSpans);
  return { resource: e.head, scopeSpans: e.items, schemaUrl: e.schemaUrl };
}

function scopeSpans(r: Reader, end: number): otlp.ScopeSpans {
  const e = envelope(r, end, SCOPE_SPANS, scope, span);
  return { scope: e.head, spans: e.items, schemaUrl: e.schemaUrl };
}

function span(r: Reader, end: number): otlp.Span {
  let traceId = EMPTY_BYTES;
  let spanId = EMPTY_BYTES;
  let traceState = '';
  let parentSpanId = EMPTY_BYTES;
  let flags = 0;
  let name = '';
  let kind = 0;
  let startTimeUnixNano = 0n;
  let endTimeUnixNano = 0n;
  const attributes = new AttributeRun();
  let droppedAttributesCount = 0;
  const events: otlp.SpanEvent[] = [];
  let droppedEventsCount = 0;
  const links: otlp.SpanLink[] = [];
  let droppedLinksCount = 0;
  let at = -1;
  let atEnd = 0;
  let more: number[] | undefined;
  while (r.pos < end) {
    const tagAt = r.pos;
    const tag = r.tag();
    if (tag === ((9 << 3) | 2)) attributes.add(r, tagAt, end);
    else if (tag === ((1 << 3) | 2)) traceId = r.bytes(end);
    else if (tag === ((2 << 3) | 2)) spanId = r.bytes(end);
    else if (tag === ((3 << 3) | 2)) traceState = r.string(end);
    else if (tag === ((4 << 3) | 2)) parentSpanId = r.bytes(end);
    else if (tag === ((5 << 3) | 2)) name = r.key(end);
    else if (tag === ((6 << 3) | 0)) kind = r.int32();
    else if (tag === ((7 << 3) | 1)) startTimeUnixNano = r.fixed64();
    else if (tag === ((8 << 3) | 1)) endTimeUnixNano = r.fixed64();
    else if (tag === ((10 << 3) | 0)) droppedAttributesCount = r.uint32();
    else if (tag === ((11 << 3) | 2)) events.push(event(r, r.delimited(end)));
    else if (tag === ((12 << 3) | 0)) droppedEventsCount = r.uint32();
    else if (tag === ((13 << 3) | 2)) links.push(link(r, r.delimited(end)));
    else if (tag === ((14 << 3) | 0)) droppedLinksCount = r.uint32();
    else if (tag === ((15 << 3) | 2)) {
      const stop = r.delimited(end);
      more = again(more, at, atEnd, r.pos, stop);
      at = r.pos;
      atEnd = r.pos = stop;
    } else if (tag === ((16 << 3) | 5)) flags = r.fixed32();
    else other(r, tag, end, SPAN);
  }
  r.done(end);
  return {
    traceId,
    spanId,
    traceState,
    parentSpanId,
    flags,
    name,
    kind,
    startTimeUnixNano,
    endTimeUnixNano,
    attributes: attributes.done(),
    droppedAttributesCount,
    events,
    droppedEventsCount,
    links,
    droppedLinksCount,
    status: at < 0 ? undefined : embedded(r, at, atEnd, more, status, 0),
  };
}

function event(r: Reader, end: number): otlp.SpanEvent {
  let timeUnixNano = 0n;
  let name = '';
  const attributes: otlp.KeyValue[] = [];
  let droppedAttributesCount = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 1)) timeUnixNano = r.fixed64();
    else if (tag === ((2 << 3) | 2)) name = r.key(end);
    else if (tag === ((3 << 3) | 2)) attributes.push(keyValue(r, r.delimited(end), 1));
    else if (tag === ((4 << 3) | 0)) droppedAttributesCount = r.uint32();
    else other(r, tag, end, EVENT);
  }
  r.done(end);
  return { timeUnixNano, name, attributes, droppedAttributesCount };
}

function link(r: Reader, end: number): otlp.SpanLink {
  let traceId = EMPTY_BYTES;
  let spanId = EMPTY_BYTES;
  let traceState = '';
  const attributes: otlp.KeyValue[] = [];
  let droppedAttributesCount = 0;
  let flags = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) traceId = r.bytes(end);
    else if (tag === ((2 << 3) | 2)) spanId = r.bytes(end);
    else if (tag === ((3 << 3) | 2)) traceState = r.string(end);
    else if (tag === ((4 << 3) | 2)) attributes.push(keyValue(r, r.delimited(end), 1));
    else if (tag === ((5 << 3) | 0)) droppedAttributesCount = r.uint32();
    else if (tag === ((6 << 3) | 5)) flags = r.fixed32();
    else other(r, tag, end, LINK);
  }
  r.done(end);
  return { traceId, spanId, traceState, attributes, droppedAttributesCount, flags };
}

function status(r: Reader, end: number): otlp.Status {
  let message = '';
  let code = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((2 << 3) | 2)) message = r.string(end);
    else if (tag === ((3 << 3) | 0)) code = r.int32();
    else other(r, tag, end, STATUS);
  }
  r.done(end);
  return { message, code };
}

// ---- logs

const RESOURCE_LOGS = otel('logs.v1.ResourceLogs');
const SCOPE_LOGS = otel('logs.v1.ScopeLogs');
const LOG_RECORD = otel('logs.v1.LogRecord');

function resourceLogs(r: Reader, end: number): otlp.ResourceLogs {
  const e = envelope(r, end, RESOURCE_LOGS, resource, scopeLogs);
  return { resource: e.head, scopeLogs: e.items, schemaUrl: e.schemaUrl };
}

function scopeLogs(r: Reader, end: number): otlp.ScopeLogs {
  const e = envelope(r, end, SCOPE_LOGS, scope, logRecord);
  return { scope: e.head, logRecords: e.items, schemaUrl: e.schemaUrl };
}

function logRecord(r: Reader, end: number): otlp.LogRecord {
  let timeUnixNano = 0n;
  let observedTimeUnixNano = 0n;
  let severityNumber = 0;
  let severityText = '';
  const attributes = new AttributeRun();
  let droppedAttributesCount = 0;
  let flags = 0;
  let traceId = EMPTY_BYTES;
  let spanId = EMPTY_BYTES;
  let eventName = '';
  let at = -1;
  let atEnd = 0;
  let more: number[] | undefined;
  while (r.pos < end) {
    const tagAt = r.pos;
    const tag = r.tag();
    if (tag === ((6 << 3) | 2)) attributes.add(r, tagAt, end);
    else if (tag === ((1 << 3) | 1)) timeUnixNano = r.fixed64();
    else if (tag === ((11 << 3) | 1)) observedTimeUnixNano = r.fixed64();
    else if (tag === ((2 << 3) | 0)) severityNumber = r.int32();
    else if (tag === ((3 << 3) | 2)) severityText = r.key(end);
    else if (tag === ((5 << 3) | 2)) {
      const stop = r.delimited(end);
      more = again(more, at, atEnd, r.pos, stop);
      at = r.pos;
      atEnd = r.pos = stop;
    } else if (tag === ((7 << 3) | 0)) droppedAttributesCount = r.uint32();
    else if (tag === ((8 << 3) | 5)) flags = r.fixed32();
    else if (tag === ((9 << 3) | 2)) traceId = r.bytes(end);
    else if (tag === ((10 << 3) | 2)) spanId = r.bytes(end);
    else if (tag === ((12 << 3) | 2)) eventName = r.key(end);
    else other(r, tag, end, LOG_RECORD);
  }
  r.done(end);
  return {
    timeUnixNano,
    observedTimeUnixNano,
    severityNumber,
    severityText,
    body: at < 0 ? undefined : embedded(r, at, atEnd, more, anyValue, 1),
    attributes: attributes.done(),
    droppedAttributesCount,
    flags,
    traceId,
    spanId,
    eventName,
  };
}
