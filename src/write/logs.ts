import type pg from 'pg';
import type { LogRows } from '../map/types.js';
import { CopyBuffer } from './copy-text.js';
import { copyIn } from './copy-stream.js';
import { insertDictionaries, type KnownIds } from './dictionaries.js';

const LOG_COLUMNS = [
  '"timestamp"', 'time_unix_nano', 'observed_time_unix_nano', 'severity_number', 'severity_text', 'body',
  'attributes', 'dropped_attributes_count', 'flags', 'trace_id', 'span_id', 'event_name', 'service_name',
  'resource_id', 'scope_id',
].join(', ');

/** Writes one batch of log requests inside the caller's transaction; returns dictionary ids to mark known after COMMIT. */
export async function writeLogBatch(client: pg.ClientBase, batch: readonly LogRows[], known: KnownIds): Promise<bigint[]> {
  const newIds = await insertDictionaries(client, batch, known);
  const payload = logCopyPayload(batch);
  if (payload) await copyIn(client, `COPY logs (${LOG_COLUMNS}) FROM STDIN`, payload);
  return newIds;
}

/** The COPY text of a batch's log records, or undefined when it has none. Pure. */
export function logCopyPayload(batch: readonly LogRows[]): Buffer | undefined {
  const c = new CopyBuffer();
  for (const rows of batch) {
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
  return c.rows > 0 ? c.toBuffer() : undefined;
}
