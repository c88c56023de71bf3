import type { Config } from './config/config.js';
import { DictionaryMemo } from './map/dictionary.js';
import { mapLogs } from './map/logs.js';
import { mapMetrics } from './map/metrics.js';
import { mapTraces } from './map/traces.js';
import type { Mapped } from './map/types.js';
import { signalStage, type SignalStages } from './pipeline/exporter.js';
import type { BatchWrite } from './pipeline/writer-pool.js';
import { KnownIds } from './write/dictionaries.js';
import { encodeLogs, writeLogBatch, type EncodedLogs } from './write/logs.js';
import { encodeMetrics, writeMetricBatch, type EncodedMetrics } from './write/metrics.js';
import { encodeTraces, writeTraceBatch, type EncodedTraces } from './write/traces.js';

type IdWriter<R> = (client: Parameters<BatchWrite<R>>[0], rows: readonly R[], known: KnownIds) => Promise<bigint[]>;

/** Dictionary ids a batch created become known only once its transaction has committed. */
function rememberingIds<R>(write: IdWriter<R>, known: KnownIds): BatchWrite<R> {
  return async (client, rows) => {
    const ids = await write(client, rows, known);
    return () => known.addAll(ids);
  };
}

/** Mapping, then encoding the rows for COPY right away: what waits for a batch is compact. */
function encoded<Q, R, E>(map: (request: Q) => Mapped<R>, encode: (rows: R) => E): (request: Q) => Mapped<E> {
  return (request) => {
    const mapped = map(request);
    return { ...mapped, rows: encode(mapped.rows) };
  };
}

/**
 * The three signals, from decoded request to committed rows, sharing what they know of resources
 * and scopes: the rows made from those decode/ memoized, and the ids already committed.
 */
export function signalStages(config: Config): SignalStages {
  const dictionary = new DictionaryMemo();
  const known = new KnownIds();
  return {
    traces: signalStage<'traces', EncodedTraces>({
      map: encoded((request) => mapTraces(request, dictionary), encodeTraces),
      write: rememberingIds(writeTraceBatch, known),
      batchRows: config.batchSpans,
    }),
    logs: signalStage<'logs', EncodedLogs>({
      map: encoded((request) => mapLogs(request, dictionary), encodeLogs),
      write: rememberingIds(writeLogBatch, known),
      batchRows: config.batchLogs,
    }),
    metrics: signalStage<'metrics', EncodedMetrics>({
      map: encoded((request) => mapMetrics(request, dictionary), encodeMetrics),
      write: rememberingIds(writeMetricBatch, known),
      batchRows: config.batchPoints,
    }),
  };
}
