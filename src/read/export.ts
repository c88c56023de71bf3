// The export loop shared by the three signals: rows through a cursor, a chunk at a time, each chunk
// joined to its resources and scopes, items into requests of at most `batch`, each request written as
// one line before the next is built. Memory holds one chunk and one request, whatever the export's size.
import type pg from 'pg';
import { fetchChunks, inSnapshot, type TextRow } from './cursor.js';
import { resourceCache, scopeCache } from './dictionary.js';
import { NO_GROUP, RequestBuilder, type Entry, type RequestShape } from './request-builder.js';
import type { Selection } from './selection.js';

/** One query of an export and how its rows become entries of a request. */
export interface ReadQuery {
  readonly sql: string;
  readonly params: readonly unknown[];
  resolve(client: pg.Client, rows: readonly TextRow[]): Promise<Entry[]>;
}

export interface SignalReader {
  readonly shape: RequestShape;
  /** What the items are called in summaries: spans, log records, data points. */
  readonly items: string;
  /** The queries to run, in order (metrics: points, then metrics that have none). */
  queries(selection: Selection): readonly ReadQuery[];
}

export interface ExportOptions {
  /** Most items (spans, log records, data points) per request. */
  readonly batch: number;
  /** Rows per FETCH. */
  readonly fetchSize: number;
}

export interface ExportSummary {
  readonly requests: number;
  readonly items: number;
}

/** Runs `reader`'s queries in one snapshot and hands each request's OTLP/JSON text to `write`, in order. */
export async function exportSignal(
  client: pg.Client,
  reader: SignalReader,
  selection: Selection,
  options: ExportOptions,
  write: (request: string) => Promise<void>,
): Promise<ExportSummary> {
  const builder = new RequestBuilder(reader.shape);
  let requests = 0;
  let items = 0;
  const flush = async (): Promise<void> => {
    const request = builder.take();
    if (request === undefined) return;
    requests++;
    await write(request);
  };
  await inSnapshot(client, async () => {
    for (const query of reader.queries(selection)) {
      for await (const rows of fetchChunks(client, query.sql, query.params, options.fetchSize)) {
        for (const entry of await query.resolve(client, rows)) {
          builder.add(entry);
          if (entry.item !== undefined) items++;
          if (builder.size >= options.batch) await flush();
        }
      }
    }
    await flush();
  });
  return { requests, items };
}

/**
 * resolve() for tables whose rows carry resource_id and scope_id and are one item each (spans, logs).
 * Each reader keeps its own caches: resources and scopes are read once per export.
 */
export function itemsWithDictionaries(render: (row: TextRow) => string): ReadQuery['resolve'] {
  const resources = resourceCache();
  const scopes = scopeCache();
  return async (client, rows) => {
    const resource = await resources.lookup(client, rows.map((row) => row.resource_id ?? null));
    const scope = await scopes.lookup(client, rows.map((row) => row.scope_id ?? null));
    return rows.map((row) => ({ resource: resource(row.resource_id ?? null), scope: scope(row.scope_id ?? null), group: NO_GROUP, item: render(row) }));
  };
}
