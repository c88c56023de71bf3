import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Signal } from '../decode/types.js';
import type { AdmissionLimit, Reason } from '../errors.js';

// otlp-pg's own metrics, named in the OpenTelemetry Collector's vocabulary (receiver_accepted_*,
// receiver_refused_*, exporter_sent_*, exporter_send_failed_*, queue size and capacity) so that
// dashboards and alerts written for the Collector read the same here. Prefix: otlp_pg_.

/** The item each signal counts, as the Collector names them. */
export const ITEM: Readonly<Record<Signal, string>> = { traces: 'spans', logs: 'log_records', metrics: 'metric_points' };

export interface Telemetry {
  readonly registry: Registry;
  requestAnswered(signal: Signal, outcome: 'success' | Reason): void;
  itemsAccepted(signal: Signal, n: number): void;
  itemsRefused(signal: Signal, reason: Reason, n: number): void;
  itemsSent(signal: Signal, n: number): void;
  itemsSendFailed(signal: Signal, reason: Reason, n: number): void;
  batchWritten(signal: Signal, rows: number, seconds: number): void;
  batchSplit(signal: Signal): void;
  duplicateSkipped(signal: Signal): void;
  /** A request refused at admission, by the bound that refused it. */
  admissionRefused(limit: AdmissionLimit): void;
  /** One fold of trace summary parts into `traces`: traces folded, and per part the seconds since its batch committed. */
  summariesFolded(traces: number, lagSeconds: readonly number[]): void;
}

/** Gauges read at scrape time, from the parts that own the numbers. */
export interface Gauges {
  inflightBytes(): number;
  inflightBytesCapacity(): number;
  inflightRequests(): number;
  /** Predicted time for the requests in flight to commit, and the commit rate it is based on. */
  queueDelaySeconds(): number;
  commitBytesPerSecond(): number;
  queueSize(): number;
  queueCapacity(): number;
  pool(): { total: number; idle: number; waiting: number; max: number };
  batchers(): readonly { signal: Signal; rows: number; bytes: number; batchRows: number }[];
}

export function createTelemetry(gauges: Gauges): Telemetry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'otlp_pg_process_' });

  const requests = new Counter({
    name: 'otlp_pg_receiver_requests_total',
    help: 'Export requests answered, by signal and outcome (success or the refusal reason)',
    labelNames: ['signal', 'outcome'],
    registers: [registry],
  });
  const per = <T>(make: (item: string) => T): Record<Signal, T> => ({
    traces: make(ITEM.traces),
    logs: make(ITEM.logs),
    metrics: make(ITEM.metrics),
  });
  const accepted = per(
    (item) => new Counter({ name: `otlp_pg_receiver_accepted_${item}_total`, help: `${item} accepted (committed and answered success)`, registers: [registry] }),
  );
  const refused = per(
    (item) =>
      new Counter({ name: `otlp_pg_receiver_refused_${item}_total`, help: `${item} refused, by reason`, labelNames: ['reason'], registers: [registry] }),
  );
  const sent = per((item) => new Counter({ name: `otlp_pg_exporter_sent_${item}_total`, help: `${item} committed to PostgreSQL`, registers: [registry] }));
  const sendFailed = per(
    (item) =>
      new Counter({
        name: `otlp_pg_exporter_send_failed_${item}_total`,
        help: `${item} whose batch failed to commit, by reason`,
        labelNames: ['reason'],
        registers: [registry],
      }),
  );
  const copySeconds = new Histogram({
    name: 'otlp_pg_exporter_batch_duration_seconds',
    help: 'Time to write and commit one batch (COPY and summaries), by signal',
    labelNames: ['signal'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const batchRows = new Histogram({
    name: 'otlp_pg_exporter_batch_rows',
    help: 'Rows per committed batch, by signal',
    labelNames: ['signal'],
    buckets: [1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000],
    registers: [registry],
  });
  const splits = new Counter({
    name: 'otlp_pg_exporter_batch_splits_total',
    help: 'Batches split after PostgreSQL refused their data, to isolate the request at fault',
    labelNames: ['signal'],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'otlp_pg_exporter_duplicate_requests_total',
    help: 'Requests already committed once (a retry whose answer was lost), acknowledged without writing again',
    labelNames: ['signal'],
    registers: [registry],
  });

  const admissionRefused = new Counter({
    name: 'otlp_pg_admission_refused_total',
    help: 'Requests refused at admission (before their body is read or decoded), by the bound that refused them: requests, bytes or queue_delay',
    labelNames: ['limit'],
    registers: [registry],
  });

  const summaryLag = new Histogram({
    name: 'otlp_pg_trace_summary_lag_seconds',
    help: 'Time from a trace batch\'s commit (its spans acknowledged) to its summaries being committed in `traces`',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const summarized = new Counter({
    name: 'otlp_pg_trace_summaries_folded_total',
    help: 'Trace summaries merged into `traces` (a trace counts once per fold that touched it)',
    registers: [registry],
  });

  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  gauge('otlp_pg_inflight_bytes', 'Decoded request bytes held between receipt and commit', gauges.inflightBytes);
  gauge('otlp_pg_inflight_bytes_capacity', 'Bound on otlp_pg_inflight_bytes (--max-inflight-bytes)', gauges.inflightBytesCapacity);
  gauge('otlp_pg_inflight_requests', 'Requests between receipt and answer', gauges.inflightRequests);
  gauge('otlp_pg_admission_queue_delay_seconds', 'Predicted time for the requests in flight to commit (compared with --max-queue-delay)', gauges.queueDelaySeconds);
  gauge('otlp_pg_admission_commit_bytes_per_second', 'Request bytes the writers are measured to commit per second (the queue delay\'s divisor)', gauges.commitBytesPerSecond);
  gauge('otlp_pg_exporter_queue_size', 'Batches waiting for a writer or being written', gauges.queueSize);
  gauge('otlp_pg_exporter_queue_capacity', 'Writers (--writers): batches written at once', gauges.queueCapacity);
  new Gauge({
    name: 'otlp_pg_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const p = gauges.pool();
      this.set({ state: 'in_use' }, p.total - p.idle);
      this.set({ state: 'idle' }, p.idle);
      this.set({ state: 'waiting' }, p.waiting);
      this.set({ state: 'max' }, p.max);
    },
  });

  const perSignal = (name: string, help: string, read: (b: ReturnType<Gauges['batchers']>[number]) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['signal'],
      registers: [registry],
      collect() {
        for (const b of gauges.batchers()) this.set({ signal: b.signal }, read(b));
      },
    });
  };
  perSignal('otlp_pg_batch_size_rows', 'Configured rows per batch (--batch-spans, --batch-logs, --batch-points)', (b) => b.batchRows);
  perSignal('otlp_pg_batcher_buffered_rows', 'Rows waiting for their batch to fill or its flush interval', (b) => b.rows);
  perSignal('otlp_pg_batcher_buffered_bytes', 'Request bytes waiting for their batch to fill or its flush interval', (b) => b.bytes);

  return {
    registry,
    requestAnswered: (signal, outcome) => requests.inc({ signal, outcome }),
    itemsAccepted: (signal, n) => accepted[signal].inc(n),
    itemsRefused: (signal, reason, n) => refused[signal].inc({ reason }, n),
    itemsSent: (signal, n) => sent[signal].inc(n),
    itemsSendFailed: (signal, reason, n) => sendFailed[signal].inc({ reason }, n),
    batchWritten: (signal, rows, seconds) => {
      copySeconds.observe({ signal }, seconds);
      batchRows.observe({ signal }, rows);
    },
    batchSplit: (signal) => splits.inc({ signal }),
    duplicateSkipped: (signal) => duplicates.inc({ signal }),
    admissionRefused: (limit) => admissionRefused.inc({ limit }),
    summariesFolded: (traces, lagSeconds) => {
      summarized.inc(traces);
      for (const s of lagSeconds) summaryLag.observe(s);
    },
  };
}
