import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, pendingMigrations } from '../../src/db/migrate.js';
import { ensurePartitions } from '../../src/db/partitions.js';
import { createTestDatabase, query } from '../helpers/database.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

async function withClient<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  it('apply once even when several processes start together', async () => {
    const results = await Promise.all([1, 2, 3].map(() => withClient((c) => migrate(c))));
    const all = (await loadMigrations()).map((m) => m.name);
    expect(results.flat().sort()).toEqual(all);
    expect(await withClient((c) => pendingMigrations(c))).toEqual([]);
    const recorded = await query<{ name: string }>(db.url, 'SELECT name FROM otlp_pg_migrations ORDER BY name');
    expect(recorded.map((r) => r.name)).toEqual(all);
  });

  it('creates the tables users query, partitioned by day with a DEFAULT partition', async () => {
    const tables = await query<{ relname: string; kind: string }>(
      db.url,
      `SELECT relname, relkind::text AS kind FROM pg_class
        WHERE relname IN ('traces', 'trace_spans', 'logs', 'metrics', 'metric_data_points', 'resources', 'scopes')
        ORDER BY relname`,
    );
    expect(Object.fromEntries(tables.map((t) => [t.relname, t.kind]))).toEqual({
      logs: 'p',
      metric_data_points: 'p',
      metrics: 'r',
      resources: 'r',
      scopes: 'r',
      trace_spans: 'p',
      traces: 'p',
    });
    const defaults = await query(db.url, `SELECT relname FROM pg_class WHERE relname LIKE '%\\_default' AND relispartition`);
    expect(defaults).toHaveLength(4);
  });
});

describe('partitions', () => {
  it('creates daily partitions ahead, concurrently and idempotently', async () => {
    const now = Date.parse('2026-03-10T12:00:00Z');
    const reports = await Promise.all([1, 2].map(() => withClient((c) => ensurePartitions(c, 2, now))));
    const created = reports.flatMap((r) => r.created).sort();
    // Yesterday through two days ahead, for each of the four row tables, made exactly once.
    expect(created).toHaveLength(16);
    expect(created).toContain('trace_spans_p20260309');
    expect(created).toContain('logs_p20260312');
    const again = await withClient((c) => ensurePartitions(c, 2, now));
    expect(again.created).toEqual([]);
    const [bound] = await query<{ bound: string }>(
      db.url,
      `SELECT pg_get_expr(relpartbound, oid) AS bound FROM pg_class WHERE relname = 'traces_p20260310'`,
    );
    expect(bound?.bound).toBe("FOR VALUES FROM ('2026-03-10 00:00:00+00') TO ('2026-03-11 00:00:00+00')");
  });

  it('skips a day whose rows already sit in the DEFAULT partition, and says so', async () => {
    await query(
      db.url,
      `INSERT INTO logs ("timestamp", time_unix_nano, observed_time_unix_nano, attributes, service_name, resource_id, scope_id)
       VALUES ('2030-01-02 03:00:00+00', 0, 0, '{}', 's', 1, 1)`,
    );
    const report = await withClient((c) => ensurePartitions(c, 1, Date.parse('2030-01-02T00:00:00Z')));
    expect(report.blocked).toEqual(['logs_p20300102']);
    expect(report.created).toContain('trace_spans_p20300102');
  });
});

describe('jsonb keeps what the attribute encoding relies on', () => {
  it('keeps a double written with a decimal point apart from an int, and int64 exact', async () => {
    const [row] = await query<{ t: string }>(db.url, `SELECT '{"d": 1.0, "i": 1, "big": 9223372036854775807, "neg": -0.0}'::jsonb::text AS t`);
    // numeric has no negative zero: that is why -0.0 is written as {"$double": "-0"}.
    expect(row?.t).toBe('{"d": 1.0, "i": 1, "big": 9223372036854775807, "neg": 0.0}');
  });
});
