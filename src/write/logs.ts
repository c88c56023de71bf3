import type pg from 'pg';
import type { LogRows, ResourceRow, ScopeRow } from '../map/types.js';
import { copyText, type CopyBuffer } from './copy-text.js';
import { copyIn } from './copy-stream.js';
import { insertDictionaries, type KnownIds } from './dictionaries.js';

const LOG_COLUMNS = [
  '"timestamp"', 'time_unix_nano', 'observed_time_unix_nano', 'severity_number', 'severity_text', 'body',
  'attributes', 'dropped_attributes_count', 'flags', 'trace_id', 'span_id', 'event_name', 'service_name',
  'resource_id', 'scope_id',
].join(', ');

/** A log request's rows as the batch writer takes them: its records already in COPY text. */
export interface EncodedLogs {
  readonly resources: readonly ResourceRow[];
  readonly scopes: readonly ScopeRow[];
  /** COPY text of the log records, one line each. */
  readonly logs: Buffer;
}

/** Encodes a request's records as soon as they are mapped (see encodeTraces for why). Pure. */
export function encodeLogs(rows: LogRows): EncodedLogs {
  return { resources: rows.resources, scopes: rows.scopes, logs: copyText((c) => writeLogs(c, rows)) };
}

function writeLogs(c: CopyBuffer, rows: LogRows): void {
  for (const l of rows.logs) {
    c.timestamptz(l.timestampUnixNano);
    c.int(l.timeUnixNano);
    c.int(l.observedTimeUnixNano);
    c.int(l.severityNumber);
    c.text(l.severityText);
    c.nullableJson(l.body);
    c.json(l.attributes);
    c.int(l.droppedAttributesCount);
    c.int(l.flags);
    c.nullableBytea(l.traceId);
    c.nullableBytea(l.spanId);
    c.text(l.eventName);
    c.text(l.serviceName);
    c.int(l.resourceId);
    c.int(l.scopeId);
    c.endRow();
  }
}

/** Writes one batch of log requests inside the caller's transaction; returns dictionary ids to mark known after COMMIT. */
export async function writeLogBatch(client: pg.ClientBase, batch: readonly EncodedLogs[], known: KnownIds): Promise<bigint[]> {
  const newIds = await insertDictionaries(client, batch, known);
  const parts = batch.map((r) => r.logs).filter((b) => b.length > 0);
  if (parts.length > 0) await copyIn(client, `COPY logs (${LOG_COLUMNS}) FROM STDIN`, parts);
  return newIds;
}
