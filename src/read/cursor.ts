// Reading large results in bounded memory: a server-side cursor (DECLARE … CURSOR, FETCH n) inside one
// read-only transaction. REPEATABLE READ gives every query of the export (rows, and the resources,
// scopes and metrics they refer to) the same snapshot, so rows written meanwhile cannot half-appear.
import pg from 'pg';

/** A row as PostgreSQL's text: every column a string, or null. */
export type TextRow = Readonly<Record<string, string | null>>;

/**
 * Type parsers that keep every value as PostgreSQL's text. The export converts each column itself
 * (bigint to decimal strings, float8 words to doubles), so no process-wide pg.types setting can
 * round an int64 or a double on the way.
 */
const TEXT_TYPES: pg.CustomTypesConfig = {
  getTypeParser: () => (value: string) => value,
} as pg.CustomTypesConfig;

export function textClient(connectionString: string): pg.Client {
  return new pg.Client({ connectionString, types: TEXT_TYPES, application_name: 'otlp-pg export' });
}

/** Runs `body` in a read-only REPEATABLE READ transaction, rolled back afterwards (nothing is written). */
export async function inSnapshot<T>(client: pg.Client, body: () => Promise<T>): Promise<T> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // float8 text with the shortest digits that read back as the same double (PostgreSQL 12+), or
    // 17 significant digits before that; a server or role default of 0 would round to 15.
    await client.query('SET LOCAL extra_float_digits = 3');
    return await body();
  } finally {
    // Also after an error: the connection stays usable. A failed ROLLBACK means it is gone anyway.
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

let cursors = 0;

/** The rows of `sql`, `size` at a time, through a cursor; call inside inSnapshot(). */
export async function* fetchChunks(client: pg.Client, sql: string, params: readonly unknown[], size: number): AsyncGenerator<TextRow[]> {
  const name = `otlp_pg_export_${++cursors}`;
  await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, [...params]);
  try {
    for (;;) {
      const { rows } = await client.query<TextRow>(`FETCH ${size} FROM ${name}`);
      if (rows.length > 0) yield rows;
      if (rows.length < size) return;
    }
  } finally {
    await client.query(`CLOSE ${name}`).catch(() => undefined);
  }
}
