import pg from 'pg';
import type { Logger } from 'pino';
import { withPoolClient } from '../db/pool-client.js';
import type { Telemetry } from '../telemetry/metrics.js';

/** What one fold merged into `traces`. */
export interface Fold {
  /** Summary parts folded: one per traces request committed. */
  readonly parts: number;
  /** Traces whose `traces` row was inserted or updated. */
  readonly traces: number;
  /** Per part, seconds from its batch's commit to this fold's commit. */
  readonly lagSeconds: readonly number[];
}

/**
 * Folds up to `maxParts` summary parts into `traces` in one transaction (the SQL function of
 * migrations/0005_trace_summary_parts.sql). Resolves null when another session is folding: one
 * folder at a time across every process and host, and never a wait for it.
 */
export async function foldTraceSummaries(client: pg.ClientBase, maxParts: number): Promise<Fold | null> {
  const started = process.hrtime.bigint();
  // A lone statement is its own transaction: when it resolves, the fold has committed.
  const { rows } = await client.query<{ folded_parts: number; folded_traces: number; lag_seconds: number[] }>(
    'SELECT * FROM otlp_pg_fold_trace_summaries($1)',
    [maxParts],
  );
  const row = rows[0];
  if (row === undefined) return null;
  // The function measures each part's age at the statement's start on the database's clock; the
  // statement's own duration (its commit included) is added on this process's monotonic clock, so
  // no two clocks are compared.
  const took = Number(process.hrtime.bigint() - started) / 1e9;
  return { parts: row.folded_parts, traces: row.folded_traces, lagSeconds: row.lag_seconds.map((s) => s + took) };
}

export interface TraceSummaryFolderOptions {
  readonly databaseUrl: string;
  /** Its one connection closes after this long unused (--pool-idle-timeout). */
  readonly idleTimeoutMs: number;
  /** Pause between folds that found less than a full batch of parts. */
  readonly intervalMs: number;
  readonly maxParts: number;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
}

export interface TraceSummaryFolder {
  /** Stops folding after the fold under way, then folds once more until nothing is left (or a few rounds). */
  stop(): Promise<void>;
}

/** Rounds of catching up at shutdown at most: a large backlog is left to the next start, not waited for. */
const FINAL_ROUNDS = 10;

/**
 * Keeps `traces` caught up with the committed spans, off the acknowledgement path: every
 * `intervalMs`, and at once again while full batches of parts remain, so the backlog stays bounded
 * at any ingest rate the database can fold. Every otlp-pg process runs one; the fold's advisory
 * lock lets one of them work at a time, the others find it taken and wait for their next turn.
 * It has a connection of its own: the writers never wait for a fold, nor a fold for the writers.
 */
export function startTraceSummaryFolder(options: TraceSummaryFolderOptions): TraceSummaryFolder {
  const { intervalMs, maxParts, logger, telemetry } = options;
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: 1,
    idleTimeoutMillis: options.idleTimeoutMs,
    application_name: 'otlp-pg summaries',
  });
  // As for the writers' pool: an idle connection whose server went away must not crash the process.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle trace summary connection lost'));
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let stopped = false;

  /** One fold; resolves whether a backlog remains. */
  const round = async (): Promise<boolean> => {
    const fold = await withPoolClient(pool, (client) => foldTraceSummaries(client, maxParts));
    if (fold === null) return false;
    if (fold.parts > 0) telemetry.summariesFolded(fold.traces, fold.lagSeconds);
    return fold.parts >= maxParts;
  };
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = round().then(
        (backlog) => schedule(backlog ? 0 : intervalMs),
        (err: Error) => {
          logger.warn({ err: err.message }, 'folding trace summaries failed; the parts stay and the next fold takes them');
          schedule(intervalMs);
        },
      );
    }, ms);
  };
  schedule(intervalMs);

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await current;
      try {
        for (let i = 0; i < FINAL_ROUNDS && (await round()); i++);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'last fold of trace summaries failed; the next start folds what is left');
      }
      await pool.end();
    },
  };
}
