// `npm run bench -- --tuning`: what PostgreSQL-side choices cost or save, measured end to end on
// traces with otlp-pg's defaults: synchronous_commit off, the trace_id index dropped, request-digest
// dedupe off; each against a baseline run in the same process. Writes bench/results/tuning.md/.json.

import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import type { EndToEndResult } from './end-to-end.js';

export interface TuningScenario {
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

export const TUNING_SCENARIOS: readonly TuningScenario[] = [
  { label: 'defaults', why: 'the baseline: synchronous_commit on, every index, --dedupe on', serverFlags: [] },
  {
    label: 'synchronous_commit off',
    why: 'commits return before their WAL is flushed: a database crash loses the last acknowledged rows',
    serverFlags: [],
    prepare: (url) =>
      onDatabase(url, async (c) => {
        await c.query(`ALTER DATABASE ${c.escapeIdentifier(c.database ?? '')} SET synchronous_commit = off`);
      }),
  },
  {
    label: 'without trace_spans (trace_id) index',
    why: 'what the one span index costs ingest (trace-by-id queries then scan every partition)',
    serverFlags: [],
    prepare: (url) =>
      onDatabase(url, async (c) => {
        await migrate(c);
        await c.query('DROP INDEX trace_spans_trace_id_idx');
      }),
  },
  { label: '--dedupe false', why: 'no request digest recorded per committed request', serverFlags: ['--dedupe', 'false'] },
];

export interface TuningResult {
  readonly label: string;
  readonly why: string;
  readonly result: EndToEndResult;
}
