// Verdicts on otlp-pg's schema: migrations applied, the migrations' indexes present, valid and used,
// daily partitions made ahead, and nothing left in the DEFAULT partitions.
import { DEFAULT_ROWS_COUNTED } from './facts.js';
import { formatSize } from './format.js';
import type { DoctorContext, ExpectedIndex, ExpectedSchema, Facts, Finding, PartitionFact } from './types.js';

const DAY_MS = 86_400_000;

export function migrationsFinding(facts: Facts, total: number): Finding {
  const pending = facts.pendingMigrations;
  const recommended = `all ${total} applied`;
  if (pending === null) {
    return { check: 'migrations', verdict: 'fail', value: 'no otlp-pg schema', recommended, detail: 'This database was never migrated: run otlp-pg migrate (otlp-pg serve also migrates at start).' };
  }
  if (pending.length > 0) {
    return { check: 'migrations', verdict: 'fail', value: `${pending.length} pending: ${pending.join(', ')}`, recommended, detail: 'The schema is behind this otlp-pg: run otlp-pg migrate, or restart otlp-pg serve, which migrates at start.' };
  }
  return { check: 'migrations', verdict: 'ok', value: `${total} applied`, recommended, detail: 'The schema is current.' };
}

export function indexFinding(expected: ExpectedIndex, facts: Facts): Finding {
  const check = `index.${expected.name}`;
  const found = facts.indexes.get(expected.name);
  if (!found) {
    const without = expected.unique
      ? 'writes that rely on its unique key (INSERT … ON CONFLICT) fail without it'
      : 'the queries it serves scan whole partitions without it';
    return { check, verdict: 'fail', value: 'missing', recommended: 'present', detail: `otlp-pg's migrations create it on ${expected.table}: ${without}. Create it again with its statement from migrations/.` };
  }
  const usage = `${formatSize(found.sizeBytes)}, ${found.scans} scan${found.scans === 1 ? '' : 's'}`;
  if (!found.valid) {
    return { check, verdict: 'fail', value: `invalid (${usage})`, recommended: 'present', detail: 'Not valid: a partition lacks it or its build failed, so queries do not use it. REINDEX it, or drop it and create it again.' };
  }
  if (expected.unique) {
    return { check, verdict: 'ok', value: usage, recommended: 'present', detail: `Enforces a unique key on ${expected.table}.` };
  }
  if (found.scans === 0 && facts.tableHasRows.get(found.table) === true) {
    return {
      check,
      verdict: 'warn',
      value: usage,
      recommended: 'used',
      detail: `No scans since statistics were last reset, though ${found.table} has rows: the queries it serves (by trace id, a service's recent rows, errors, a metric's series) have not run here, and it costs every COPY. Expected on a database only written to so far.`,
    };
  }
  return { check, verdict: 'ok', value: usage, recommended: 'present', detail: found.scans === 0 ? `${found.table} is empty.` : `Used by queries on ${found.table}.` };
}

/** Days after today (UTC) covered without a gap by daily partitions, and whether today is. */
export function coverage(parts: readonly PartitionFact[], now: number): { today: boolean; daysAhead: number } {
  const ranges = parts.filter((p) => !p.isDefault && p.from !== null && p.to !== null) as { from: number; to: number }[];
  let end = now;
  for (;;) {
    const next = ranges.find((r) => r.from <= end && end < r.to);
    if (!next) break;
    end = next.to;
  }
  const tomorrow = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
  return { today: end > now, daysAhead: Math.max(0, Math.floor((end - tomorrow) / DAY_MS)) };
}

export function partitionFindings(table: string, facts: Facts, ctx: DoctorContext): Finding[] {
  const parts = facts.partitions.get(table);
  const recommended = `${ctx.partitionDaysAhead} days ahead`;
  if (parts === undefined) {
    return [{ check: `partitions.${table}`, verdict: 'fail', value: 'table missing', recommended, detail: `${table} is not a partitioned table here, though otlp-pg's migrations make it one.` }];
  }
  const daily = parts.filter((p) => !p.isDefault);
  const { today, daysAhead } = coverage(parts, ctx.now);
  const value = `${daysAhead} day${daysAhead === 1 ? '' : 's'} ahead, ${daily.length} partitions`;
  const maintenance = 'otlp-pg serve creates them at start and every 10 minutes (--partition-days-ahead): is one running against this database?';
  let finding: Finding;
  if (!today) {
    finding = { check: `partitions.${table}`, verdict: 'fail', value, recommended, detail: `Today (UTC) has no partition: today's rows go to the DEFAULT partition. ${maintenance}` };
  } else if (daysAhead < 1) {
    finding = { check: `partitions.${table}`, verdict: 'fail', value, recommended, detail: `Tomorrow (UTC) has no partition: from midnight rows go to the DEFAULT partition. ${maintenance}` };
  } else if (daysAhead < ctx.partitionDaysAhead - 1) {
    finding = { check: `partitions.${table}`, verdict: 'warn', value, recommended, detail: `Fewer days ahead than configured. ${maintenance}` };
  } else {
    finding = { check: `partitions.${table}`, verdict: 'ok', value, recommended, detail: 'Daily partitions exist for today and the days ahead.' };
  }
  return [finding, defaultFinding(table, parts, facts)];
}

function defaultFinding(table: string, parts: readonly PartitionFact[], facts: Facts): Finding {
  const def = parts.find((p) => p.isDefault);
  const check = `default_partition.${table}`;
  if (!def) {
    return { check, verdict: 'fail', value: 'missing', recommended: '0 rows', detail: `${table} has no DEFAULT partition: a row whose day has no partition fails its whole batch.` };
  }
  const rows = facts.defaultRows.get(def.name) ?? 0;
  const value = `${rows}${rows >= DEFAULT_ROWS_COUNTED ? '+' : ''} row${rows === 1 ? '' : 's'} in ${def.name}`;
  if (rows === 0) return { check, verdict: 'ok', value, recommended: '0 rows', detail: 'Every row went to its daily partition.' };
  return {
    check,
    verdict: 'warn',
    value,
    recommended: '0 rows',
    detail: `Rows whose time had no daily partition when they arrived (clock skew, late or future data, partitions run out). Every query whose time range reaches DEFAULT scans them, and while they are there their day's partition cannot be created.`,
  };
}

export function schemaFindings(facts: Facts, expected: ExpectedSchema, ctx: DoctorContext, migrations: number): Finding[] {
  const migrated = migrationsFinding(facts, migrations);
  // Without otlp-pg's schema every other schema check would fail: one finding says it all.
  if (facts.pendingMigrations === null) return [migrated];
  return [
    migrated,
    ...expected.indexes.map((i) => indexFinding(i, facts)),
    ...expected.partitionedTables.flatMap((t) => partitionFindings(t, facts, ctx)),
  ];
}
