// Partition maintenance: daily partitions ahead, retention by dropping whole partitions, and the
// rows that land in the DEFAULT partitions. The SQL it calls is in migrations/0003_retention.sql.
//
// Every step that changes the partition layout runs in its own short transaction under the
// partition advisory lock (the one otlp_pg_ensure_partitions runs under), so several otlp-pg
// processes sharing a database take turns and each re-reads the catalog once it holds the lock:
// the second finds the work done. Table locks are waited for at most `lockTimeoutMs`; a step that
// waits longer is rolled back and reported `deferred`, to be retried by the next run, so that
// maintenance never holds up ingest for long.
import { DatabaseError } from 'pg';
import type pg from 'pg';
import type { Logger } from 'pino';
import { LOCK_PARTITIONS } from './locks.js';
import { ensurePartitions } from './partitions.js';

export type RetentionSignal = 'traces' | 'logs' | 'metrics';

/** The row tables whose partitions each signal's retention drops (`--retention-traces` covers both). */
export const RETENTION_TABLES: Readonly<Record<RetentionSignal, readonly string[]>> = {
  traces: ['trace_spans', 'traces'],
  logs: ['logs'],
  metrics: ['metric_data_points'],
};

const ROW_TABLES = Object.values(RETENTION_TABLES).flat();

export interface MaintenanceOptions {
  /** Daily partitions are kept made from yesterday to this many days ahead. */
  readonly daysAhead: number;
  /** How long each signal's data is kept, in ms; 0 keeps it forever. */
  readonly retentionMs: Readonly<Record<RetentionSignal, number>>;
  /** Longest wait for a table lock before a step is deferred to the next run. */
  readonly lockTimeoutMs?: number;
}

export interface DefaultPartitionRows {
  /** The partitioned table, e.g. `logs`. */
  readonly table: string;
  /** Its DEFAULT partition, e.g. `logs_default`. */
  readonly partition: string;
  /** Rows counted, up to DEFAULT_ROWS_CAP. */
  readonly rows: number;
  /** True when there are more rows than `rows` (the count stops at the cap to stay cheap). */
  readonly capped: boolean;
  readonly oldest: Date | null;
  readonly newest: Date | null;
}

export interface MaintenanceReport {
  /** Partitions created ahead. */
  readonly created: string[];
  /** Partitions made from a day's rows that sat in DEFAULT, which had blocked their creation. */
  readonly moved: { readonly partition: string; readonly rows: number }[];
  /** Partitions still missing because DEFAULT holds rows of their day (their move was deferred). */
  readonly blocked: string[];
  /** Partitions dropped by retention. */
  readonly dropped: string[];
  /** Rows deleted from each DEFAULT partition by retention, by table (only tables with some). */
  readonly deletedFromDefault: Readonly<Record<string, number>>;
  /** Steps that waited longer than the lock timeout, rolled back until the next run. */
  readonly deferred: string[];
  /** What each DEFAULT partition holds after maintenance. */
  readonly defaultRows: DefaultPartitionRows[];
}

const DAY_MS = 86_400_000;
// Writers queue behind a waiting ACCESS EXCLUSIVE request, so this is also the longest stall a
// maintenance step can cause them: well inside the 10 s request timeout.
const DEFAULT_LOCK_TIMEOUT_MS = 2_000;
/** DEFAULT partitions are counted up to this many rows: enough to alert on, cheap to count. */
export const DEFAULT_ROWS_CAP = 100_000;

/**
 * The instant before which a signal's data goes: now − retention, but never later than the start of
 * yesterday (UTC). Yesterday's and today's partitions are the ones otlp_pg_ensure_partitions keeps
 * made; dropping them would only see them made again, empty, on the next run. So a retention shorter
 * than a day keeps data for one to two days. Undefined when the retention is 0 (keep forever).
 */
export function retentionCutoff(retentionMs: number, now: number): Date | undefined {
  if (retentionMs <= 0) return undefined;
  const startOfYesterday = Math.floor(now / DAY_MS) * DAY_MS - DAY_MS;
  return new Date(Math.min(now - retentionMs, startOfYesterday));
}

/** `logs_p20300102` → the table and day of a partition named by otlp_pg_ensure_partitions. */
function parsePartitionName(name: string): { table: string; day: string } | undefined {
  const m = /^(.+)_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? { table: m[1] as string, day: `${m[2]}-${m[3]}-${m[4]}` } : undefined;
}

const DEFERRED = Symbol('deferred');

/**
 * Runs `work` in a transaction holding the partition advisory lock, with table-lock waits bounded.
 * A lock wait past the timeout (55P03), or a deadlock with a reader (40P01), is an expected outcome
 * under load, not a failure: the step is rolled back and DEFERRED is returned.
 */
async function underPartitionLock<T>(client: pg.ClientBase, lockTimeoutMs: number, work: () => Promise<T>): Promise<T | typeof DEFERRED> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_PARTITIONS]);
    // Set after the advisory lock: waiting for another process's maintenance is fine.
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.max(1, Math.floor(lockTimeoutMs))}ms`]);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof DatabaseError && (err.code === '55P03' || err.code === '40P01')) return DEFERRED;
    throw err;
  }
}

/**
 * One maintenance run: partitions ahead, DEFAULT rows that block a partition moved into it,
 * retention, and a count of what DEFAULT still holds. Safe to run from several processes at once.
 * `now` is for tests.
 */
export async function maintainPartitions(client: pg.ClientBase, options: MaintenanceOptions, now = Date.now()): Promise<MaintenanceReport> {
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const ensured = await ensurePartitions(client, options.daysAhead, now);

  // A day inside the window whose partition could not be made: every row of that day would land
  // in DEFAULT until its rows move out, so they are moved now.
  const moved: MaintenanceReport['moved'] = [];
  const blocked: string[] = [];
  const deferred: string[] = [];
  for (const name of ensured.blocked) {
    const parsed = parsePartitionName(name);
    if (!parsed) {
      blocked.push(name);
      continue;
    }
    const result = await underPartitionLock(client, lockTimeoutMs, async () => {
      const { rows } = await client.query<{ moved: string | null }>('SELECT otlp_pg_move_default_rows($1::regclass, $2::date) AS moved', [
        parsed.table,
        parsed.day,
      ]);
      return rows[0]?.moved ?? null;
    });
    if (result === DEFERRED) {
      blocked.push(name);
      deferred.push(`move ${name}`);
    } else if (result !== null) {
      // null: another process made it meanwhile.
      moved.push({ partition: name, rows: Number(result) });
    }
  }

  const dropped: string[] = [];
  const deletedFromDefault: Record<string, number> = {};
  for (const [signal, tables] of Object.entries(RETENTION_TABLES) as [RetentionSignal, readonly string[]][]) {
    const cutoff = retentionCutoff(options.retentionMs[signal], now);
    if (!cutoff) continue;
    for (const table of tables) {
      // One transaction per table: a busy table defers alone. The DELETE from DEFAULT goes first:
      // it runs beside writers, whereas the drops hold the table's exclusive lock until COMMIT.
      const result = await underPartitionLock(client, lockTimeoutMs, async () => {
        const deletes = await client.query<{ n: string }>('SELECT otlp_pg_delete_default_rows_before($1::regclass, $2) AS n', [table, cutoff]);
        const drops = await client.query<{ name: string }>('SELECT otlp_pg_drop_partitions_before($1::regclass, $2) AS name', [table, cutoff]);
        return { names: drops.rows.map((r) => r.name), deleted: Number(deletes.rows[0]?.n ?? 0) };
      });
      if (result === DEFERRED) {
        deferred.push(`retention ${table}`);
        continue;
      }
      dropped.push(...result.names);
      if (result.deleted > 0) deletedFromDefault[table] = result.deleted;
    }
  }

  return { created: ensured.created, moved, blocked, dropped, deletedFromDefault, deferred, defaultRows: await countDefaultRows(client) };
}

/** What each row table's DEFAULT partition holds: a bounded count and its time span. */
export async function countDefaultRows(client: pg.ClientBase): Promise<DefaultPartitionRows[]> {
  const out: DefaultPartitionRows[] = [];
  for (const table of ROW_TABLES) {
    const { rows } = await client.query<{ partition_name: string; rows: string; oldest: Date | null; newest: Date | null }>(
      'SELECT partition_name, rows, oldest, newest FROM otlp_pg_default_rows($1::regclass, $2)',
      [table, DEFAULT_ROWS_CAP + 1],
    );
    const row = rows[0];
    if (!row) continue;
    const count = Number(row.rows);
    out.push({
      table,
      partition: row.partition_name,
      rows: Math.min(count, DEFAULT_ROWS_CAP),
      capped: count > DEFAULT_ROWS_CAP,
      oldest: row.oldest,
      newest: row.newest,
    });
  }
  return out;
}

/** Logs a maintenance run: changes at info, what needs an operator's eye at warn. */
export function logMaintenance(logger: Logger, report: MaintenanceReport): void {
  if (report.created.length > 0) logger.info({ created: report.created.length }, 'partitions created');
  if (report.moved.length > 0) {
    logger.info({ moved: report.moved }, 'partitions made from rows that sat in DEFAULT partitions');
  }
  if (report.dropped.length > 0) logger.info({ dropped: report.dropped }, 'partitions past retention dropped');
  if (Object.keys(report.deletedFromDefault).length > 0) {
    logger.info({ deleted: report.deletedFromDefault }, 'rows past retention deleted from DEFAULT partitions');
  }
  if (report.deferred.length > 0) {
    logger.warn({ deferred: report.deferred }, 'partition maintenance waited too long for a table lock; will retry');
  }
  if (report.blocked.length > 0) {
    logger.warn({ blocked: report.blocked }, 'partitions not created: their days already have rows in a DEFAULT partition');
  }
  const holding = report.defaultRows.filter((d) => d.rows > 0);
  if (holding.length > 0) {
    logger.warn(
      {
        defaultRows: holding.map((d) => ({
          partition: d.partition,
          rows: d.capped ? `>${d.rows}` : d.rows,
          oldest: d.oldest?.toISOString(),
          newest: d.newest?.toISOString(),
        })),
      },
      'rows outside the daily partitions (clock skew or late data) sit in DEFAULT partitions',
    );
  }
}
