import type pg from 'pg';
import { LOCK_PARTITIONS } from './locks.js';

export interface PartitionReport {
  readonly created: string[];
  /** Days whose rows already sit in a DEFAULT partition, so their partition could not be made. */
  readonly blocked: string[];
}

const DAY_MS = 86_400_000;

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Makes sure the daily partitions from yesterday to `daysAhead` days from now exist for every row
 * table. Transaction-scoped advisory lock: several processes may call it at once.
 */
export async function ensurePartitions(client: pg.ClientBase, daysAhead: number, now = Date.now()): Promise<PartitionReport> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_PARTITIONS]);
    const { rows } = await client.query<{ partition_name: string; created: boolean }>(
      'SELECT partition_name, created FROM otlp_pg_ensure_partitions($1::date, $2::date)',
      [utcDate(now - DAY_MS), utcDate(now + daysAhead * DAY_MS)],
    );
    await client.query('COMMIT');
    return {
      created: rows.filter((r) => r.created).map((r) => r.partition_name),
      blocked: rows.filter((r) => !r.created).map((r) => r.partition_name),
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
