// logs rows → OTLP/JSON log records (opentelemetry/proto/logs/v1/logs.proto), fields in proto order.
import type { TextRow } from './cursor.js';
import { itemsWithDictionaries, type SignalReader } from './export.js';
import { int32Of, objectText, optHex, optInt, optInt64, optList, optString } from './json-text.js';
import { whereOf, type Selection } from './selection.js';
import { anyValueText, attributesText, parseStored } from './values.js';

const COLUMNS = `time_unix_nano, observed_time_unix_nano, severity_number, severity_text, body::text AS body,
  attributes::text AS attributes, dropped_attributes_count, flags, encode(trace_id, 'hex') AS trace_id,
  encode(span_id, 'hex') AS span_id, event_name, resource_id, scope_id`;

/** One logs row (selected with COLUMNS) as an OTLP/JSON LogRecord. */
export function logRecordText(row: TextRow): string {
  const body = row.body;
  return objectText({
    timeUnixNano: optInt64(row.time_unix_nano ?? '0'),
    observedTimeUnixNano: optInt64(row.observed_time_unix_nano ?? '0'),
    severityNumber: optInt(int32Of(row.severity_number)),
    severityText: optString(row.severity_text ?? ''),
    // SQL NULL: the record had no body. JSON null: it had an empty AnyValue, written back as {}.
    body: body === null || body === undefined ? undefined : anyValueText(parseStored(body)),
    attributes: optList(attributesText(row.attributes ?? '{}')),
    droppedAttributesCount: optInt(int32Of(row.dropped_attributes_count)),
    flags: optInt(int32Of(row.flags)),
    traceId: optHex(row.trace_id),
    spanId: optHex(row.span_id),
    eventName: optString(row.event_name ?? ''),
  });
}

export function logsReader(): SignalReader {
  const resolve = itemsWithDictionaries(logRecordText);
  return {
    shape: { resourceList: 'resourceLogs', scopeList: 'scopeLogs', itemList: 'logRecords' },
    items: 'log records',
    queries(selection: Selection) {
      const where = whereOf(selection, { traceId: 'trace_id', service: 'service_name', time: '"timestamp"' });
      // "timestamp" is time_unix_nano, or the observed time when that is 0: the order records happened in.
      const sql = `SELECT ${COLUMNS} FROM logs ${where.sql} ORDER BY "timestamp", time_unix_nano, observed_time_unix_nano`;
      return [{ sql, params: where.params, resolve }];
    },
  };
}
