import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { packageRoot } from '../package-root.js';
import { LOCK_MIGRATE } from './locks.js';

export interface Migration {
  readonly name: string;
  readonly sql: string;
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** The migrations shipped with otlp-pg, in the order they apply (NNNN_name.sql, forward only). */
export async function loadMigrations(dir = path.join(packageRoot, 'migrations')): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f)).sort();
  return Promise.all(files.map(async (name) => ({ name, sql: await readFile(path.join(dir, name), 'utf8') })));
}

/**
 * Applies every migration not yet recorded in otlp_pg_migrations, each in its own transaction.
 * A session advisory lock makes concurrent starts (several otlp-pg processes, one database) safe:
 * the second waits, then finds nothing left to do. Returns the names it applied.
 */
export async function migrate(client: pg.ClientBase, migrations?: readonly Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_MIGRATE]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS otlp_pg_migrations (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ name: string }>('SELECT name FROM otlp_pg_migrations');
    const done = new Set(rows.map((r) => r.name));
    const applied: string[] = [];
    for (const m of all) {
      if (done.has(m.name)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO otlp_pg_migrations (name) VALUES ($1)', [m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.name);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_MIGRATE]);
  }
}

/** Names of shipped migrations the database has not applied (empty when current). */
export async function pendingMigrations(client: pg.ClientBase): Promise<string[]> {
  const all = await loadMigrations();
  const exists = await client.query(`SELECT to_regclass('otlp_pg_migrations') IS NOT NULL AS ok`);
  if (!exists.rows[0]?.ok) return all.map((m) => m.name);
  const { rows } = await client.query<{ name: string }>('SELECT name FROM otlp_pg_migrations');
  const done = new Set(rows.map((r) => r.name));
  return all.filter((m) => !done.has(m.name)).map((m) => m.name);
}
