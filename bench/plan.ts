// What a bench run measures and for how long (full: within 15 minutes on the 2-core machines;
// quick: a few minutes, to see the bench work), and the server settings each scenario runs with.

import { defaultWorkers } from '../src/cli/serve.js';
import { OPTIONS } from '../src/config/options.js';
import type { Signal } from '../src/decode/types.js';
import type { LoadProtocol } from '../src/loadgen/options.js';

export const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];

export interface Plan {
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly sweepWarmupMs: number;
  readonly sweepMeasureMs: number;
  readonly batchSweep: Readonly<Partial<Record<Signal, readonly number[]>>>;
  readonly writerSweep: Readonly<Partial<Record<Signal, readonly number[]>>>;
  readonly workerSweep: Readonly<Partial<Record<Signal, readonly number[]>>>;
  readonly copyVsInsertRows: number;
  readonly queryRows: number;
  readonly queryRuns: number;
  readonly transports: boolean;
  /** Rows each psql binary COPY loads at most (those the end-to-end run stored, if fewer). */
  readonly psqlRows: number;
  /** Traces: how long to wait after the load for the summary backlog to empty. */
  readonly drainBoundMs: number;
  /** Longest wait for a quiet machine before one scenario, and over the whole run. */
  readonly quietMs: number;
  readonly quietTotalMs: number;
  /** Measurements repeated at most, over the run, because other programs disturbed them. */
  readonly maxReruns: number;
  /** Signals whose flat-out run is repeated with the server under `node --cpu-prof`. */
  readonly profile: readonly Signal[];
  /** An unmeasured flat-out run first, so no measurement pays for PostgreSQL's first WAL segments. */
  readonly warmupRunMs: number;
  /** Issue 15's floods: far more senders than the flat-out runs use; `short` names a shape of SCENARIOS. */
  readonly floods: readonly Flood[];
  /** What the report says this mode leaves out, and why. */
  readonly omitted: readonly string[];
}

export interface Flood {
  readonly short: string;
  readonly senders: number;
  readonly protocol: LoadProtocol;
}

// Issue 15's floods go over gRPC; FULL adds one over OTLP/HTTP protobuf, what the issue measured with.
const floods = (shorts: readonly string[], senders: readonly number[]): Flood[] =>
  shorts.flatMap((short) => senders.map((n) => ({ short, senders: n, protocol: 'grpc' as const })));

// Eleven shapes, each end to end (~16 s), psql (~10 s) and raw COPY (~13 s), take ~7 minutes of
// the 15, the nine floods (~16 s each) ~2.5; the sweeps keep the points that earned their time in
// earlier full runs.
export const FULL: Plan = {
  warmupMs: 2000,
  measureMs: 10_000,
  sweepWarmupMs: 2000,
  sweepMeasureMs: 7000,
  batchSweep: { traces: [1000, 2000, 5000, 10_000], logs: [1000, 5000], metrics: [2000, 5000, 10_000] },
  writerSweep: { traces: [1, 2, 4] },
  workerSweep: { traces: [1, 2] },
  copyVsInsertRows: 200_000,
  queryRows: 1_000_000,
  queryRuns: 30,
  transports: true,
  psqlRows: 500_000,
  drainBoundMs: 20_000,
  quietMs: 10_000,
  quietTotalMs: 40_000,
  maxReruns: 6,
  profile: SIGNALS,
  warmupRunMs: 20_000,
  floods: [...floods(['1/trace', '10/trace', 'logs 50/res', 'few series'], [256, 1024]), { short: '1/trace', senders: 256, protocol: 'http/protobuf' }],
  omitted: [
    'Sweep points that were never near the best in earlier full runs: batches of 500 spans, of 2,000, 10,000 and 20,000 log records and of ' +
      '1,000 and 20,000 data points; 8 writers; the writer and worker sweeps of logs and metrics (they peaked at the defaults, as traces did).',
    'The request-digest dedupe comparison (about 3 % of the rows/s in earlier runs): it is in `npm run bench -- --tuning`.',
  ],
};

export const QUICK: Plan = {
  warmupMs: 1000,
  measureMs: 2500,
  sweepWarmupMs: 1000,
  sweepMeasureMs: 2000,
  batchSweep: { traces: [2000, 5000] },
  writerSweep: {},
  workerSweep: {},
  copyVsInsertRows: 30_000,
  queryRows: 100_000,
  queryRuns: 10,
  transports: false,
  psqlRows: 100_000,
  drainBoundMs: 10_000,
  quietMs: 2000,
  quietTotalMs: 6000,
  maxReruns: 1,
  profile: [],
  warmupRunMs: 5000,
  floods: [{ short: '1/trace', senders: 256, protocol: 'grpc' }],
  omitted: [
    'Quick mode: 2.5 s measurements (noisy), one batch size swept, no writer or worker sweep, no transports, no profiles, one flood (1 span per trace, 256 senders), 100,000 rows for the queries.',
  ],
};

export const DEFAULT_BATCH: Readonly<Record<Signal, number>> = {
  traces: Number(OPTIONS.batchSpans.default),
  logs: Number(OPTIONS.batchLogs.default),
  metrics: Number(OPTIONS.batchPoints.default),
};
export const DEFAULT_WRITERS = Number(OPTIONS.writers.default);
// --workers 0 (the default): one receiver process per core, or per two when PostgreSQL shares the
// machine, as the bench's own embedded one does.
export const DEFAULT_WORKERS = Number(OPTIONS.workers.default) || defaultWorkers(process.env.DATABASE_URL ?? '');
const BATCH_FLAG: Readonly<Record<Signal, string>> = { traces: '--batch-spans', logs: '--batch-logs', metrics: '--batch-points' };

export interface Setting {
  readonly batch: number;
  readonly writers: number;
  readonly workers: number;
}

/**
 * Enough requests in flight to keep every writer of every worker busy with a full batch while one
 * more fills, with a quarter to spare. More would only queue: the rate stays, latency and memory grow.
 */
export function flatOutConcurrency(s: Setting, itemsPerRequest: number): number {
  return Math.min(1000, Math.max(32, Math.ceil((1.25 * s.workers * (s.writers + 1) * s.batch) / itemsPerRequest)));
}

/** Node's cluster hands each worker whole connections: enough of them for every worker to get some. */
export const connectionsFor = (s: Setting): number => Math.max(4, 2 * s.workers);

export function serverFlags(signal: Signal, s: Setting): string[] {
  const flags: string[] = [];
  if (s.batch !== DEFAULT_BATCH[signal]) flags.push(BATCH_FLAG[signal], String(s.batch));
  if (s.writers !== DEFAULT_WRITERS) flags.push('--writers', String(s.writers), '--pool-max', String(s.writers + 1));
  if (s.workers !== DEFAULT_WORKERS) flags.push('--workers', String(s.workers));
  return flags;
}
