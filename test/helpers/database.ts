import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { until } from './poll.js';

/**
 * A fresh, empty database on the test server, for one test file; dropped by the returned `drop`.
 * Migrations are not applied: otlp-pg applies them on start, which is part of what is tested.
 */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = inject('adminDatabaseUrl');
  const name = `otlp_pg_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs one query on `url` with a short-lived connection. */
export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export { until };

/**
 * Waits until the server's folder has merged every committed trace summary part into `traces`.
 * Spans acknowledged before the call have their part committed, so once none is left, `traces`
 * holds their summaries.
 */
export async function summariesFolded(url: string): Promise<void> {
  await until(async () => {
    const [row] = await query<{ n: string }>(url, 'SELECT count(*) AS n FROM trace_summary_parts');
    return row?.n === '0';
  }, 'trace summary parts folded into traces');
}
