// The doctor's query layer: reads, in one database session, everything the checks judge. Read-only
// (no statement here changes anything); settings are read as this session sees them, so values set
// per database or per role (ALTER DATABASE … SET) count, as they do for otlp-pg's own sessions.
import type pg from 'pg';
import { pendingMigrations } from '../db/migrate.js';
import type { ExpectedSchema, Facts, IndexFact, PartitionFact, SettingFact, StatementsFact, TableActivity } from './types.js';

/** The settings the checks read. */
export const SETTINGS = [
  'shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem', 'wal_buffers', 'max_wal_size',
  'checkpoint_timeout', 'synchronous_commit', 'fsync', 'random_page_cost', 'effective_io_concurrency', 'max_connections',
  'superuser_reserved_connections', 'reserved_connections', 'autovacuum', 'autovacuum_vacuum_threshold',
  'autovacuum_vacuum_scale_factor', 'autovacuum_vacuum_max_threshold',
] as const;

/** DEFAULT partitions are counted up to this many rows: cheap however large one grew. */
export const DEFAULT_ROWS_COUNTED = 100_000;
/** Tables reported for dead tuples and autovacuum, busiest first. */
const BUSIEST = 5;
const SLOWEST = 5;

const UNIT_FACTORS: Readonly<Record<string, number>> = {
  B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4,
  us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000,
};

/** pg_settings' value in its unit (`16384` of `8kB`) in base units: bytes or milliseconds. */
export function settingValue(setting: string, unit: string | null, vartype: string): number | undefined {
  if (vartype !== 'integer' && vartype !== 'real') return undefined;
  const n = Number(setting);
  if (unit === null || unit === '') return n;
  const m = /^(\d*)\s*([a-zA-Z]+)$/.exec(unit);
  const factor = m ? UNIT_FACTORS[m[2] ?? ''] : undefined;
  // A negative value (-1) means "not set" or "computed" whatever the unit: keep it as it is.
  return factor === undefined || n < 0 ? n : n * Number(m?.[1] || 1) * factor;
}

async function settings(client: pg.ClientBase): Promise<Map<string, SettingFact>> {
  const { rows } = await client.query<{ name: string; text: string; setting: string; unit: string | null; vartype: string; source: string }>(
    'SELECT name, current_setting(name) AS text, setting, unit, vartype, source FROM pg_settings WHERE name = ANY($1)',
    [SETTINGS],
  );
  return new Map(rows.map((r) => [r.name, { text: r.text, value: settingValue(r.setting, r.unit, r.vartype), source: r.source }]));
}

async function indexes(client: pg.ClientBase, names: readonly string[]): Promise<Map<string, IndexFact>> {
  // Statistics and storage live on the leaf indexes; a partitioned index has neither of its own.
  // pg_partition_tree lists nothing for an index that is not partitioned: the index itself is added.
  const { rows } = await client.query<{ name: string; table: string; valid: boolean; scans: number; size: number }>(
    `SELECT c.relname AS name, t.relname AS table, i.indisvalid AS valid,
            (SELECT coalesce(sum(s.idx_scan), 0)::float8 FROM pg_stat_all_indexes s WHERE s.indexrelid = ANY (tree.oids)) AS scans,
            (SELECT coalesce(sum(pg_relation_size(o)), 0)::float8 FROM unnest(tree.oids) o) AS size
     FROM pg_class c
     JOIN pg_index i ON i.indexrelid = c.oid
     JOIN pg_class t ON t.oid = i.indrelid
     CROSS JOIN LATERAL (SELECT array_agg(DISTINCT x) AS oids
                         FROM (SELECT c.oid AS x UNION ALL SELECT p.relid FROM pg_partition_tree(c.oid) p) u) tree
     WHERE c.relname = ANY($1) AND c.relkind IN ('i', 'I') AND pg_table_is_visible(c.oid)`,
    [names],
  );
  return new Map(rows.map((r) => [r.name, { table: r.table, valid: r.valid, scans: r.scans, sizeBytes: r.size }]));
}

/** Exact and cheap: the first row found ends the scan. */
async function tableHasRows(client: pg.ClientBase, tables: readonly string[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const table of tables) {
    const { rows } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
    if (!rows[0]?.present) continue;
    const has = await client.query<{ has: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${client.escapeIdentifier(table)}) AS has`);
    out.set(table, has.rows[0]?.has ?? false);
  }
  return out;
}

async function partitions(client: pg.ClientBase, parents: readonly string[]): Promise<Map<string, PartitionFact[]>> {
  // Bounds are printed by pg_get_expr in the session's time zone, with their offset: cast back exactly.
  const { rows } = await client.query<{ parent: string; name: string; is_default: boolean; from_ms: number | null; to_ms: number | null }>(
    `SELECT parent.relname AS parent, c.relname AS name, b.expr = 'DEFAULT' AS is_default,
            extract(epoch FROM (regexp_match(b.expr, $re$FROM \\('([^']*)'\\)$re$))[1]::timestamptz)::float8 * 1000 AS from_ms,
            extract(epoch FROM (regexp_match(b.expr, $re$TO \\('([^']*)'\\)$re$))[1]::timestamptz)::float8 * 1000 AS to_ms
     FROM pg_class parent
     JOIN pg_inherits i ON i.inhparent = parent.oid
     JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
     WHERE parent.relname = ANY($1) AND parent.relkind = 'p' AND pg_table_is_visible(parent.oid)
     ORDER BY 1, 2`,
    [parents],
  );
  const out = new Map<string, PartitionFact[]>(parents.map((p) => [p, []]));
  for (const r of rows) out.get(r.parent)?.push({ name: r.name, isDefault: r.is_default, from: r.from_ms, to: r.to_ms });
  // A parent that does not exist (never migrated, dropped) has no entry.
  const { rows: present } = await client.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class WHERE relname = ANY($1) AND relkind = 'p' AND pg_table_is_visible(oid)`,
    [parents],
  );
  const exists = new Set(present.map((r) => r.name));
  for (const p of parents) if (!exists.has(p)) out.delete(p);
  return out;
}

async function defaultRows(client: pg.ClientBase, parts: ReadonlyMap<string, readonly PartitionFact[]>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const p of [...parts.values()].flat().filter((p) => p.isDefault)) {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM ONLY ${client.escapeIdentifier(p.name)} LIMIT $1) s`,
      [DEFAULT_ROWS_COUNTED],
    );
    out.set(p.name, rows[0]?.n ?? 0);
  }
  return out;
}

async function activity(client: pg.ClientBase, tables: readonly string[]): Promise<TableActivity[]> {
  const { rows } = await client.query<{ table: string; live: number; dead: number; writes: number; vacuumed_ms: number | null }>(
    `WITH roots AS (SELECT DISTINCT to_regclass(t) AS oid FROM unnest($1::text[]) t WHERE to_regclass(t) IS NOT NULL),
          leaves AS (SELECT oid AS relid FROM roots
                     UNION SELECT p.relid FROM roots r CROSS JOIN LATERAL pg_partition_tree(r.oid) p)
     SELECT s.relname AS table, s.n_live_tup::float8 AS live, s.n_dead_tup::float8 AS dead,
            (s.n_tup_ins + s.n_tup_upd + s.n_tup_del)::float8 AS writes,
            extract(epoch FROM greatest(s.last_autovacuum, s.last_vacuum))::float8 * 1000 AS vacuumed_ms
     FROM pg_stat_all_tables s JOIN leaves l ON l.relid = s.relid
     WHERE s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 0
     ORDER BY writes DESC, s.relname
     LIMIT ${BUSIEST}`,
    [tables],
  );
  return rows.map((r) => ({ table: r.table, liveTuples: r.live, deadTuples: r.dead, writes: r.writes, lastVacuum: r.vacuumed_ms }));
}

async function statements(client: pg.ClientBase): Promise<StatementsFact> {
  const { rows } = await client.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`,
  );
  const schema = rows[0]?.schema;
  if (schema === undefined) return { state: 'missing' };
  try {
    const { rows: slowest } = await client.query<{ query: string | null; calls: number; mean: number; total: number }>(
      `SELECT query, calls::float8 AS calls, mean_exec_time AS mean, total_exec_time AS total
       FROM ${client.escapeIdentifier(schema)}.pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY mean_exec_time DESC
       LIMIT ${SLOWEST}`,
    );
    return {
      state: 'ok',
      slowest: slowest.map((r) => ({ query: r.query ?? '<insufficient privilege>', calls: r.calls, meanMs: r.mean, totalMs: r.total })),
    };
  } catch (err) {
    // 55000: "pg_stat_statements must be loaded via shared_preload_libraries".
    if ((err as { code?: string }).code === '55000') return { state: 'not-loaded', message: (err as Error).message };
    throw err;
  }
}

export async function gatherFacts(client: pg.ClientBase, expected: ExpectedSchema): Promise<Facts> {
  const version = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? '';
  const migrated = (await client.query<{ ok: boolean }>(`SELECT to_regclass('otlp_pg_migrations') IS NOT NULL AS ok`)).rows[0]?.ok;
  const parts = await partitions(client, expected.partitionedTables);
  const inUse = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'`);
  return {
    version,
    settings: await settings(client),
    connectionsInUse: inUse.rows[0]?.n ?? 0,
    pendingMigrations: migrated ? await pendingMigrations(client) : null,
    indexes: await indexes(client, expected.indexes.map((i) => i.name)),
    tableHasRows: await tableHasRows(client, [...new Set(expected.indexes.map((i) => i.table))]),
    partitions: parts,
    defaultRows: await defaultRows(client, parts),
    activity: await activity(client, expected.tables),
    statements: await statements(client),
  };
}
