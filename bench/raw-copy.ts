// The physical limit: the same rows the server writes, through the project's own write/ functions
// (COPY, dictionaries, trace summaries), in batches of the same size, on the same number of
// concurrent connections, in one transaction per batch, but with no OTLP, decoding, mapping or
// pipeline in front. What the database on this machine can commit at most.

import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Signal } from '../src/decode/types.js';
import { KnownIds } from '../src/write/dictionaries.js';
import { encodeLogs, writeLogBatch } from '../src/write/logs.js';
import { encodeMetrics, writeMetricBatch } from '../src/write/metrics.js';
import { encodeTraces, writeTraceBatch } from '../src/write/traces.js';
import type { RowSource, SignalRows } from './rows.js';

type BatchWriter<S extends Signal> = (client: pg.ClientBase, batch: readonly SignalRows[S][], known: KnownIds) => Promise<bigint[]>;

const WRITERS: { readonly [S in Signal]: BatchWriter<S> } = {
  // The rows are encoded for COPY here, on the bench's side, as the server encodes them on its side.
  traces: (client, batch, known) => writeTraceBatch(client, batch.map(encodeTraces), known),
  logs: (client, batch, known) => writeLogBatch(client, batch.map(encodeLogs), known),
  metrics: (client, batch, known) => writeMetricBatch(client, batch.map(encodeMetrics), known),
};

export interface RawCopyOptions<S extends Signal> {
  readonly url: string;
  readonly source: RowSource<S>;
  /** Concurrent connections, each writing one batch at a time (the server's --writers). */
  readonly writers: number;
  /** Items per batch (the server's --batch-spans / --batch-logs / --batch-points). */
  readonly batchItems: number;
  /** Stop starting batches after this long (0: no limit). */
  readonly durationMs: number;
  /** Stop after this many items (0: no limit). */
  readonly maxItems: number;
}

export interface RawCopyResult {
  readonly items: number;
  readonly batches: number;
  readonly elapsedMs: number;
}

/**
 * Writes batches until the duration or item count is reached, `writers` at a time, and returns
 * what was committed. Batches are whole requests, like the server's batcher makes them.
 */
export async function rawCopy<S extends Signal>(options: RawCopyOptions<S>): Promise<RawCopyResult> {
  const write = WRITERS[options.source.signal] as BatchWriter<S>;
  const known = new KnownIds();
  const perBatch = Math.max(1, Math.ceil(options.batchItems / Math.max(options.source.itemsPerRequest, 1)));
  const pool = new pg.Pool({ connectionString: options.url, max: options.writers, application_name: 'otlp-pg-bench' });
  let items = 0;
  let claimed = 0;
  let batches = 0;
  const start = performance.now();
  const more = (): boolean =>
    (options.durationMs === 0 || performance.now() - start < options.durationMs) && (options.maxItems === 0 || claimed < options.maxItems);

  const worker = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      while (more()) {
        const batch: SignalRows[S][] = [];
        for (let i = 0; i < perBatch; i++) batch.push(options.source.next());
        const n = perBatch * options.source.itemsPerRequest;
        claimed += n;
        await client.query('BEGIN');
        try {
          const ids = await write(client, batch, known);
          await client.query('COMMIT');
          known.addAll(ids);
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        items += n;
        batches++;
      }
    } finally {
      client.release();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.writers }, worker));
  } finally {
    await pool.end();
  }
  return { items, batches, elapsedMs: performance.now() - start };
}
