// `npm run bench -- --tuning`: what PostgreSQL-side choices cost or save, measured end to end with
// otlp-pg's defaults: synchronous_commit off, each index dropped in turn, trace_spans not
// partitioned, request-digest dedupe off; each against a baseline of the same signal run in the
// same process. Writes bench/results/tuning.md/.json.

import pg from 'pg';
import type { Signal } from '../src/decode/types.js';
import { migrate } from '../src/db/migrate.js';
import type { EndToEndResult } from './end-to-end.js';

export interface TuningScenario {
  readonly signal: Signal;
  readonly label: string;
  readonly why: string;
  readonly serverFlags: readonly string[];
  readonly prepare?: (databaseUrl: string) => Promise<void>;
}

async function onDatabase(url: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/** The schema migrated, then `sql` run on it, before otlp-pg starts (it finds its migrations applied). */
function afterMigrating(sql: string): (url: string) => Promise<void> {
  return (url) =>
    onDatabase(url, async (c) => {
      await migrate(c);
      await c.query(sql);
    });
}

function withoutIndex(signal: Signal, index: string, why: string): TuningScenario {
  return { signal, label: `without ${index}`, why, serverFlags: [], prepare: afterMigrating(`DROP INDEX ${index}`) };
}

// The first scenario of each signal is its baseline. traces_trace_id_idx is left out: the fold of
// trace summaries finds each trace's row by it, so without it every fold scans the table.
export const TUNING_SCENARIOS: readonly TuningScenario[] = [
  { signal: 'traces', label: 'defaults', why: 'the baseline: synchronous_commit on, every index, --dedupe on', serverFlags: [] },
  {
    signal: 'traces',
    label: 'synchronous_commit off',
    why: 'commits return before their WAL is flushed: a database crash loses the last acknowledged rows',
    serverFlags: [],
    prepare: (url) =>
      onDatabase(url, async (c) => {
        await c.query(`ALTER DATABASE ${c.escapeIdentifier(c.database ?? '')} SET synchronous_commit = off`);
      }),
  },
  withoutIndex('traces', 'trace_spans_trace_id_idx', 'the one span index (trace-by-id queries then scan every partition)'),
  withoutIndex('traces', 'traces_service_recent_idx', '"last traces of a service" then reads a whole partition'),
  withoutIndex('traces', 'traces_errors_idx', '"recent errors" then reads a whole partition'),
  {
    signal: 'traces',
    label: 'trace_spans not partitioned',
    why: 'one plain table with the same columns and index: what daily partitions cost ingest (retention then needs DELETE)',
    serverFlags: [],
    prepare: (url) =>
      onDatabase(url, async (c) => {
        await migrate(c);
        await c.query(`
          CREATE TABLE trace_spans_plain (LIKE trace_spans INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
          DROP TABLE trace_spans CASCADE;
          ALTER TABLE trace_spans_plain RENAME TO trace_spans;
          CREATE INDEX trace_spans_trace_id_idx ON trace_spans (trace_id);`);
        // The partition maintenance otlp-pg runs at start must leave the plain table alone.
        const { rows } = await c.query<{ def: string }>(
          "SELECT pg_get_functiondef('otlp_pg_ensure_partitions(date, date)'::regprocedure) AS def",
        );
        const def = rows[0]?.def ?? '';
        if (!def.includes("'trace_spans', ")) throw new Error('otlp_pg_ensure_partitions no longer lists trace_spans as expected');
        await c.query(def.replace("'trace_spans', ", ''));
      }),
  },
  { signal: 'traces', label: '--dedupe false', why: 'no request digest recorded per committed request', serverFlags: ['--dedupe', 'false'] },
  { signal: 'logs', label: 'defaults', why: 'the baseline for logs', serverFlags: [] },
  withoutIndex('logs', 'logs_trace_id_idx', '"the logs of one trace" then reads every partition'),
  withoutIndex('logs', 'logs_service_recent_idx', '"errors of a service in the last hour" then reads a whole partition'),
  { signal: 'metrics', label: 'defaults', why: 'the baseline for metrics', serverFlags: [] },
  withoutIndex('metrics', 'metric_data_points_series_idx', '"one series over time" then reads a whole partition'),
];

export interface TuningResult {
  readonly signal: Signal;
  readonly label: string;
  readonly why: string;
  readonly result: EndToEndResult;
}
