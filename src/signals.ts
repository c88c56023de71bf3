import type { Config } from './config/config.js';
import { mapLogs } from './map/logs.js';
import { mapMetrics } from './map/metrics.js';
import { mapTraces } from './map/traces.js';
import type { LogRows, MetricRows, TraceRows } from './map/types.js';
import { signalStage, type SignalStages } from './pipeline/exporter.js';
import type { BatchWrite } from './pipeline/writer-pool.js';
import { KnownIds } from './write/dictionaries.js';
import { writeLogBatch } from './write/logs.js';
import { writeMetricBatch } from './write/metrics.js';
import { writeTraceBatch } from './write/traces.js';

type IdWriter<R> = (client: Parameters<BatchWrite<R>>[0], rows: readonly R[], known: KnownIds) => Promise<bigint[]>;

/** Dictionary ids a batch created become known only once its transaction has committed. */
function rememberingIds<R>(write: IdWriter<R>, known: KnownIds): BatchWrite<R> {
  return async (client, rows) => {
    const ids = await write(client, rows, known);
    return () => known.addAll(ids);
  };
}

/** The three signals, from decoded request to committed rows, sharing one dictionary cache. */
export function signalStages(config: Config): SignalStages {
  const known = new KnownIds();
  return {
    traces: signalStage<'traces', TraceRows>({ map: mapTraces, write: rememberingIds(writeTraceBatch, known), batchRows: config.batchSpans }),
    logs: signalStage<'logs', LogRows>({ map: mapLogs, write: rememberingIds(writeLogBatch, known), batchRows: config.batchLogs }),
    metrics: signalStage<'metrics', MetricRows>({ map: mapMetrics, write: rememberingIds(writeMetricBatch, known), batchRows: config.batchPoints }),
  };
}
