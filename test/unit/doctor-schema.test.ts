import { describe, expect, it } from 'vitest';
import { loadMigrations } from '../../src/db/migrate.js';
import { coverage, indexFinding, migrationsFinding, partitionFindings, schemaFindings } from '../../src/doctor/check-schema.js';
import { expectedSchema } from '../../src/doctor/expected.js';
import type { DoctorContext, Facts, IndexFact, PartitionFact } from '../../src/doctor/types.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-10T12:00:00Z');
const TODAY = Date.parse('2026-03-10T00:00:00Z');
const CTX: DoctorContext = {
  machine: { memoryBytes: 16 * 1024 ** 3, cores: 4, prefetch: true },
  machineGiven: false,
  workers: 4,
  poolMax: 5,
  partitionDaysAhead: 3,
  now: NOW,
};

/** Daily partitions of `table` from `first` to `last` days after today, and its DEFAULT. */
function days(table: string, first: number, last: number): PartitionFact[] {
  const parts: PartitionFact[] = [{ name: `${table}_default`, isDefault: true, from: null, to: null }];
  for (let d = first; d <= last; d++) parts.push({ name: `${table}_p${d}`, isDefault: false, from: TODAY + d * DAY, to: TODAY + (d + 1) * DAY });
  return parts;
}

function facts(over: Partial<Facts> = {}): Facts {
  return {
    version: 'PostgreSQL 18.4 on x86_64-pc-linux-gnu',
    settings: new Map(),
    connectionsInUse: 1,
    pendingMigrations: [],
    indexes: new Map(),
    tableHasRows: new Map(),
    partitions: new Map(),
    defaultRows: new Map(),
    activity: [],
    statements: { state: 'missing' },
    ...over,
  };
}

const index = (over: Partial<IndexFact> = {}): IndexFact => ({ table: 'traces', valid: true, scans: 12, sizeBytes: 16384, ...over });

describe('expectedSchema', () => {
  it("lists the migrations' indexes, primary keys included, and the tables partitioned by day", async () => {
    const schema = expectedSchema(await loadMigrations());
    const names = schema.indexes.map((i) => i.name);
    for (const name of [
      'trace_spans_trace_id_idx', 'traces_trace_id_idx', 'traces_service_recent_idx', 'traces_errors_idx', 'logs_trace_id_idx',
      'logs_service_recent_idx', 'metric_data_points_series_idx', 'resources_pkey', 'scopes_pkey', 'metrics_pkey', 'otlp_pg_requests_pkey',
    ]) {
      expect(names).toContain(name);
    }
    expect(schema.indexes.find((i) => i.name === 'metrics_pkey')).toEqual({ name: 'metrics_pkey', table: 'metrics', unique: true });
    expect(schema.indexes.find((i) => i.name === 'traces_errors_idx')).toEqual({ name: 'traces_errors_idx', table: 'traces', unique: false });
    expect(schema.partitionedTables).toEqual(['trace_spans', 'traces', 'logs', 'metric_data_points']);
    // Tables made inside function bodies (partitions) are not the migrations' own.
    expect(schema.tables).not.toContain('part');
  });

  it('follows constraints, later migrations dropping and renaming, and ignores comments and bodies', () => {
    const schema = expectedSchema([
      {
        name: '0001_a.sql',
        sql: `-- it's a comment with an apostrophe; CREATE INDEX fake_idx ON nowhere (x);
          CREATE TABLE "Things" (id bigint PRIMARY KEY, code text UNIQUE, note text DEFAULT 'a;b');
          CREATE TABLE pairs (a int, b int, CONSTRAINT pairs_ab UNIQUE (a, b), UNIQUE (b, a)) ;
          CREATE TABLE events (t timestamptz NOT NULL, x int) PARTITION BY RANGE (t);
          CREATE UNIQUE INDEX IF NOT EXISTS events_x_idx ON ONLY events (x);
          CREATE INDEX old_idx ON pairs (a);
          CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$ BEGIN CREATE TABLE inner_t (id int PRIMARY KEY); END $fn$;`,
      },
      {
        name: '0002_b.sql',
        sql: `ALTER INDEX old_idx RENAME TO new_idx;
          DROP INDEX IF EXISTS events_x_idx;
          CREATE TABLE gone (id int PRIMARY KEY);
          DROP TABLE gone;
          ALTER TABLE events ADD COLUMN k text UNIQUE;
          ALTER TABLE pairs ADD PRIMARY KEY (a);`,
      },
    ]);
    expect(schema.indexes).toEqual([
      { name: 'Things_pkey', table: 'Things', unique: true },
      { name: 'Things_code_key', table: 'Things', unique: true },
      { name: 'pairs_ab', table: 'pairs', unique: true },
      { name: 'pairs_b_a_key', table: 'pairs', unique: true },
      { name: 'new_idx', table: 'pairs', unique: false },
      { name: 'events_k_key', table: 'events', unique: true },
      { name: 'pairs_pkey', table: 'pairs', unique: true },
    ]);
    expect(schema.partitionedTables).toEqual(['events']);
    expect(schema.tables).toEqual(['Things', 'pairs', 'events']);
  });
});

describe('migrationsFinding', () => {
  it('fails a database never migrated or behind, passes a current one', () => {
    expect(migrationsFinding(facts({ pendingMigrations: null }), 4)).toMatchObject({ verdict: 'fail', value: 'no otlp-pg schema' });
    expect(migrationsFinding(facts({ pendingMigrations: ['0004_x.sql'] }), 4)).toMatchObject({ verdict: 'fail', value: '1 pending: 0004_x.sql' });
    expect(migrationsFinding(facts(), 4)).toMatchObject({ verdict: 'ok', value: '4 applied', recommended: 'all 4 applied' });
  });

  it('reports only the missing schema, not every index and partition missing with it', () => {
    const expected = { indexes: [{ name: 'a_idx', table: 'a', unique: false }], partitionedTables: ['a'], tables: ['a'] };
    expect(schemaFindings(facts({ pendingMigrations: null }), expected, CTX, 4).map((f) => f.check)).toEqual(['migrations']);
    expect(schemaFindings(facts(), expected, CTX, 4).map((f) => f.check)).toEqual(['migrations', 'index.a_idx', 'partitions.a']);
  });
});

describe('indexFinding', () => {
  const expected = { name: 'traces_errors_idx', table: 'traces', unique: false };

  it('fails a missing or invalid index', () => {
    expect(indexFinding(expected, facts())).toMatchObject({ verdict: 'fail', value: 'missing', recommended: 'present' });
    expect(indexFinding({ ...expected, unique: true }, facts()).detail).toContain('INSERT … ON CONFLICT');
    const invalid = facts({ indexes: new Map([['traces_errors_idx', index({ valid: false })]]) });
    expect(indexFinding(expected, invalid)).toMatchObject({ verdict: 'fail', value: 'invalid (16 kB, 12 scans)' });
  });

  it('warns about an index never scanned on a table with rows, not on an empty one', () => {
    const unused = new Map([['traces_errors_idx', index({ scans: 0 })]]);
    expect(indexFinding(expected, facts({ indexes: unused, tableHasRows: new Map([['traces', true]]) }))).toMatchObject({ verdict: 'warn', recommended: 'used' });
    expect(indexFinding(expected, facts({ indexes: unused, tableHasRows: new Map([['traces', false]]) }))).toMatchObject({ verdict: 'ok', detail: 'traces is empty.' });
    // A unique index enforces its key: unscanned says nothing.
    expect(indexFinding({ ...expected, unique: true }, facts({ indexes: unused, tableHasRows: new Map([['traces', true]]) })).verdict).toBe('ok');
    expect(indexFinding(expected, facts({ indexes: new Map([['traces_errors_idx', index({ scans: 1, sizeBytes: 3 * 1024 ** 3 })]]) }))).toMatchObject({
      verdict: 'ok',
      value: '3.0 GB, 1 scan',
    });
  });
});

describe('partitions', () => {
  it('counts the days after today covered without a gap', () => {
    expect(coverage(days('t', -1, 3), NOW)).toEqual({ today: true, daysAhead: 3 });
    expect(coverage(days('t', 0, 0), NOW)).toEqual({ today: true, daysAhead: 0 });
    expect(coverage(days('t', 1, 3), NOW)).toEqual({ today: false, daysAhead: 0 });
    expect(coverage([...days('t', -1, 1), ...days('u', 3, 5).slice(1)], NOW)).toEqual({ today: true, daysAhead: 1 });
  });

  const verdict = (parts: PartitionFact[], rows = 0): [string | undefined, string | undefined] => {
    const found = partitionFindings('logs', facts({ partitions: new Map([['logs', parts]]), defaultRows: new Map([['logs_default', rows]]) }), CTX);
    return [found[0]?.verdict, found[1]?.verdict];
  };

  it('fails without a partition for today or tomorrow, warns when fewer days ahead than configured', () => {
    expect(verdict(days('logs', -1, 3))).toEqual(['ok', 'ok']);
    expect(verdict(days('logs', -1, 2))).toEqual(['ok', 'ok']);
    expect(verdict(days('logs', -1, 1))).toEqual(['warn', 'ok']);
    expect(verdict(days('logs', -1, 0))).toEqual(['fail', 'ok']);
    expect(verdict(days('logs', -5, -1))).toEqual(['fail', 'ok']);
    const [first] = partitionFindings('logs', facts({ partitions: new Map([['logs', days('logs', -1, 3)]]) }), CTX);
    expect(first).toMatchObject({ check: 'partitions.logs', value: '3 days ahead, 5 partitions', recommended: '3 days ahead' });
  });

  it('warns about rows in DEFAULT, fails without DEFAULT or without the table', () => {
    expect(verdict(days('logs', -1, 3), 2)).toEqual(['ok', 'warn']);
    const found = partitionFindings('logs', facts({ partitions: new Map([['logs', days('logs', -1, 3)]]), defaultRows: new Map([['logs_default', 100_000]]) }), CTX);
    expect(found[1]).toMatchObject({ check: 'default_partition.logs', value: '100000+ rows in logs_default', recommended: '0 rows' });
    expect(verdict(days('logs', -1, 3).slice(1))).toEqual(['ok', 'fail']);
    expect(partitionFindings('logs', facts(), CTX)).toMatchObject([{ verdict: 'fail', value: 'table missing' }]);
  });
});
