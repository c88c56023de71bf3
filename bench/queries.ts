// The README's example queries (its ```sql blocks, read at run time so the bench times what the
// README shows), run against a database holding the requested number of spans, log records and
// data points, written by the project's write/ functions.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { packageRoot } from '../src/package-root.js';

export interface ReadmeQuery {
  /** The query's first comment line. */
  readonly title: string;
  readonly sql: string;
}

/** The trace id the README's examples use; replaced by ids that exist in the bench data. */
const EXAMPLE_TRACE_ID = '5b8efff798038103d269b633813fc60c';

export function readmeQueries(readme = path.join(packageRoot, 'README.md')): ReadmeQuery[] {
  const text = readFileSync(readme, 'utf8');
  const out: ReadmeQuery[] = [];
  for (const m of text.matchAll(/```sql\n([\s\S]*?)```/g)) {
    const sql = (m[1] ?? '').trim();
    const title = /^--\s*(.+)$/m.exec(sql)?.[1]?.trim() ?? sql.slice(0, 60);
    out.push({ title, sql });
  }
  return out;
}

export interface QueryTiming {
  readonly title: string;
  readonly runs: number;
  readonly rows: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** What the bench changed in the query before running it. */
  readonly note: string;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))] as number;
}

/** Existing trace ids, for the queries that look one up: a different one on each run. */
async function sampleTraceIds(client: pg.Client, table: 'traces' | 'logs', n: number): Promise<string[]> {
  const sample = (from: string) =>
    client.query<{ id: string }>(`SELECT encode(trace_id, 'hex') AS id FROM ${from} WHERE trace_id IS NOT NULL LIMIT $1`, [n]);
  // A 1 % sample of pages spreads the ids over the table; a small table may have no page in it.
  let { rows } = await sample(`${table} TABLESAMPLE SYSTEM (1)`);
  if (rows.length < n) ({ rows } = await sample(table));
  return rows.length > 0 ? rows.map((r) => r.id) : [EXAMPLE_TRACE_ID];
}

/**
 * Runs each query `warmup` times untimed, then `runs` times timed (client side, loopback), one at
 * a time on one connection. Queries naming the README's example trace id get a different existing
 * id on every run, from the table they read.
 */
export async function timeQueries(url: string, queries: readonly ReadmeQuery[], runs: number, warmup: number): Promise<QueryTiming[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const spanIds = await sampleTraceIds(client, 'traces', runs + warmup);
    const logIds = await sampleTraceIds(client, 'logs', runs + warmup);
    const out: QueryTiming[] = [];
    for (const q of queries) {
      const usesId = q.sql.includes(EXAMPLE_TRACE_ID);
      const ids = /FROM\s+logs\b/i.test(q.sql) ? logIds : spanIds;
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < warmup + runs; i++) {
        const sql = usesId ? q.sql.replaceAll(EXAMPLE_TRACE_ID, ids[i % ids.length] as string) : q.sql;
        const start = performance.now();
        const result = await client.query(sql);
        const ms = performance.now() - start;
        if (i >= warmup) {
          times.push(ms);
          rows += result.rowCount ?? 0;
        }
      }
      times.sort((a, b) => a - b);
      out.push({
        title: q.title,
        runs,
        rows: Math.round(rows / runs),
        p50Ms: percentile(times, 50),
        p95Ms: percentile(times, 95),
        maxMs: times[times.length - 1] ?? 0,
        note: usesId ? `example trace id replaced by ${ids.length} existing ones, one per run` : '',
      });
    }
    return out;
  } finally {
    await client.end();
  }
}
