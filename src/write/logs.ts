import type pg from 'pg';
import type { LogRows } from '../map/types.js';
import { CopyBuffer, nullableBytea, nullableText, text, timestamptz } from './copy-text.js';
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
  const copy = new CopyBuffer();
  for (const rows of batch) {
    for (const l of rows.logs) {
      copy.add([
        timestamptz(l.timestampUnixNano), l.timeUnixNano.toString(), l.observedTimeUnixNano.toString(),
        String(l.severityNumber), text(l.severityText), nullableText(l.body), text(l.attributes),
        String(l.droppedAttributesCount), String(l.flags), nullableBytea(l.traceId), nullableBytea(l.spanId),
        text(l.eventName), text(l.serviceName), l.resourceId.toString(), l.scopeId.toString(),
      ]);
    }
  }
  return copy.rows > 0 ? copy.toBuffer() : undefined;
}
