import type pg from 'pg';
import type { LogRows, ResourceRow, ScopeRow } from '../map/types.js';
import { copyBinary, type CopyRowWriter } from './copy-binary.js';
import { copyIn } from './copy-stream.js';
import { insertDictionaries, type KnownIds } from './dictionaries.js';

export const LOG_COLUMNS = [
  '"timestamp"', 'time_unix_nano', 'observed_time_unix_nano', 'severity_number', 'severity_text', 'body',
  'attributes', 'dropped_attributes_count', 'flags', 'trace_id', 'span_id', 'event_name', 'service_name',
  'resource_id', 'scope_id',
].join(', ');

/** A log request's rows as the batch writer takes them: its records already as binary COPY rows. */
export interface EncodedLogs {
  readonly resources: readonly ResourceRow[];
  readonly scopes: readonly ScopeRow[];
  /** The log records as binary COPY rows (no header or trailer: copyIn adds them per batch). */
  readonly logs: Buffer;
}

/** Encodes a request's records as soon as they are mapped (see encodeTraces for why). Pure. */
export function encodeLogs(rows: LogRows): EncodedLogs {
  return { resources: rows.resources, scopes: rows.scopes, logs: copyBinary((c) => writeLogs(c, rows)) };
}

/** The records as COPY rows of logs (LOG_COLUMNS), in either format. */
export function writeLogs(c: CopyRowWriter, rows: LogRows): void {
  for (const l of rows.logs) {
    c.timestamptz(l.timestampUnixNano);
    c.int8(l.timeUnixNano);
    c.int8(l.observedTimeUnixNano);
    c.int4(l.severityNumber);
    c.text(l.severityText);
    c.nullableJsonValue(l.body);
    c.attributes(l.attributes);
    c.int8(l.droppedAttributesCount); // uint32: a bigint column (migrations/0006)
    c.int8(l.flags);
    c.nullableBytea(l.traceId);
    c.nullableBytea(l.spanId);
    c.text(l.eventName);
    c.text(l.serviceName);
    c.int8(l.resourceId);
    c.int8(l.scopeId);
    c.endRow();
  }
}

/** Writes one batch of log requests inside the caller's transaction; returns dictionary ids to mark known after COMMIT. */
export async function writeLogBatch(client: pg.ClientBase, batch: readonly EncodedLogs[], known: KnownIds): Promise<bigint[]> {
  const newIds = await insertDictionaries(client, batch, known);
  const parts = batch.map((r) => r.logs).filter((b) => b.length > 0);
  if (parts.length > 0) await copyIn(client, `COPY logs (${LOG_COLUMNS}) FROM STDIN (FORMAT binary)`, parts);
  return newIds;
}
