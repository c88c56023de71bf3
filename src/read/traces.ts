// trace_spans rows → OTLP/JSON spans (opentelemetry/proto/trace/v1/trace.proto), fields in proto order.
import type { TextRow } from './cursor.js';
import { itemsWithDictionaries, type SignalReader } from './export.js';
import { int32Of, objectText, optHex, optInt, optInt64, optList, optString } from './json-text.js';
import { whereOf, type Selection } from './selection.js';
import { attributesText, fieldAttributes, fieldDigits, fieldString, storedObjects } from './values.js';

const COLUMNS = `encode(trace_id, 'hex') AS trace_id, encode(span_id, 'hex') AS span_id,
  encode(parent_span_id, 'hex') AS parent_span_id, trace_state, flags, name, kind,
  start_time_unix_nano, end_time_unix_nano, status_code, status_message,
  attributes::text AS attributes, dropped_attributes_count, events::text AS events, dropped_events_count,
  links::text AS links, dropped_links_count, resource_id, scope_id`;

function eventsText(jsonbText: string | null | undefined): string[] {
  return storedObjects(jsonbText).map((e) =>
    objectText({
      timeUnixNano: optInt64(fieldDigits(e, 'time_unix_nano')),
      name: optString(fieldString(e, 'name')),
      attributes: optList(fieldAttributes(e, 'attributes')),
      droppedAttributesCount: optInt(Number(fieldDigits(e, 'dropped_attributes_count'))),
    }),
  );
}

function linksText(jsonbText: string | null | undefined): string[] {
  return storedObjects(jsonbText).map((l) =>
    objectText({
      traceId: optHex(fieldString(l, 'trace_id')),
      spanId: optHex(fieldString(l, 'span_id')),
      traceState: optString(fieldString(l, 'trace_state')),
      attributes: optList(fieldAttributes(l, 'attributes')),
      droppedAttributesCount: optInt(Number(fieldDigits(l, 'dropped_attributes_count'))),
      flags: optInt(Number(fieldDigits(l, 'flags'))),
    }),
  );
}

/** One trace_spans row (selected with COLUMNS) as an OTLP/JSON Span. */
export function spanText(row: TextRow): string {
  return objectText({
    traceId: optHex(row.trace_id),
    spanId: optHex(row.span_id),
    traceState: optString(row.trace_state ?? ''),
    parentSpanId: optHex(row.parent_span_id),
    flags: optInt(int32Of(row.flags)),
    name: optString(row.name ?? ''),
    kind: optInt(int32Of(row.kind)),
    startTimeUnixNano: optInt64(row.start_time_unix_nano ?? '0'),
    endTimeUnixNano: optInt64(row.end_time_unix_nano ?? '0'),
    attributes: optList(attributesText(row.attributes ?? '{}')),
    droppedAttributesCount: optInt(int32Of(row.dropped_attributes_count)),
    events: optList(eventsText(row.events)),
    droppedEventsCount: optInt(int32Of(row.dropped_events_count)),
    links: optList(linksText(row.links)),
    droppedLinksCount: optInt(int32Of(row.dropped_links_count)),
    // Always present, as the Collector writes it: a span's status is part of what it says.
    status: objectText({ message: optString(row.status_message ?? ''), code: optInt(int32Of(row.status_code)) }),
  });
}

export function tracesReader(): SignalReader {
  const resolve = itemsWithDictionaries(spanText);
  return {
    shape: { resourceList: 'resourceSpans', scopeList: 'scopeSpans', itemList: 'spans' },
    items: 'spans',
    queries(selection: Selection) {
      const where = whereOf(selection, { traceId: 'trace_id', service: 'service_name', time: 'start_time' });
      // Start order, as a trace is read; trace and span id make the order total.
      const sql = `SELECT ${COLUMNS} FROM trace_spans ${where.sql} ORDER BY start_time_unix_nano, trace_id, span_id`;
      return [{ sql, params: where.params, resolve }];
    },
  };
}
