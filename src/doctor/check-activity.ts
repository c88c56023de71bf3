// Verdicts on what the database has been doing: dead tuples and autovacuum on otlp-pg's busiest
// tables, and the slowest statements when pg_stat_statements is there to say.
import { formatAge } from './format.js';
import type { DoctorContext, Facts, Finding, TableActivity } from './types.js';

/**
 * How many dead tuples make autovacuum vacuum a table: autovacuum_vacuum_threshold +
 * autovacuum_vacuum_scale_factor × live tuples, at most autovacuum_vacuum_max_threshold (PostgreSQL 18+).
 */
export function vacuumTrigger(facts: Facts, liveTuples: number): number {
  const threshold = facts.settings.get('autovacuum_vacuum_threshold')?.value ?? 50;
  const scale = facts.settings.get('autovacuum_vacuum_scale_factor')?.value ?? 0.2;
  const cap = facts.settings.get('autovacuum_vacuum_max_threshold')?.value ?? -1;
  const trigger = threshold + scale * liveTuples;
  return cap > 0 ? Math.min(trigger, cap) : trigger;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export function vacuumFinding(table: TableActivity, facts: Facts, now: number): Finding {
  const trigger = vacuumTrigger(facts, table.liveTuples);
  const ratio = table.liveTuples > 0 ? ` (${((100 * table.deadTuples) / table.liveTuples).toFixed(1)}% of live)` : '';
  const value = `${count(table.deadTuples)} dead / ${count(table.liveTuples)} live${ratio}`;
  const vacuumed = table.lastVacuum === null ? 'never vacuumed' : `last vacuumed ${formatAge(now - table.lastVacuum)} ago`;
  const recommended = `autovacuum from ${count(trigger)} dead`;
  // Autovacuum vacuums a table once dead tuples pass its trigger; twice that means it is behind
  // (too few workers, a long transaction holding them back, or cost limits too tight).
  if (table.deadTuples > 2 * trigger) {
    return {
      check: `vacuum.${table.table}`,
      verdict: 'warn',
      value,
      recommended,
      detail: `Autovacuum is behind on this table (${vacuumed}): dead tuples are over twice its trigger. A burst of updates or deletes within the last minute shows this until autovacuum's next round (autovacuum_naptime); if it lasts, look for long-running transactions (pg_stat_activity.xact_start) holding them; raise autovacuum_max_workers or autovacuum_vacuum_cost_limit if it is simply busy.`,
    };
  }
  return { check: `vacuum.${table.table}`, verdict: 'ok', value, recommended, detail: `Among otlp-pg's busiest tables; ${vacuumed}.` };
}

export function vacuumFindings(facts: Facts, ctx: DoctorContext): Finding[] {
  if (facts.activity.length === 0) {
    return [{ check: 'vacuum', verdict: 'ok', value: 'no writes yet', recommended: null, detail: "otlp-pg's tables have not been written to since statistics were last reset." }];
  }
  return facts.activity.map((t) => vacuumFinding(t, facts, ctx.now));
}

const ENABLE =
  "To see the slowest statements here: add pg_stat_statements to shared_preload_libraries (ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', keeping any already listed), restart PostgreSQL, then CREATE EXTENSION pg_stat_statements in this database.";
const QUERY_SHOWN = 300;

export function statementFindings(facts: Facts): Finding[] {
  const s = facts.statements;
  if (s.state === 'missing') {
    return [{ check: 'pg_stat_statements', verdict: 'info', value: 'not installed', recommended: 'installed', detail: ENABLE }];
  }
  if (s.state === 'not-loaded') {
    return [{ check: 'pg_stat_statements', verdict: 'info', value: 'installed, not loaded', recommended: 'loaded', detail: `${s.message}. ${ENABLE}` }];
  }
  const head: Finding = { check: 'pg_stat_statements', verdict: 'ok', value: 'installed', recommended: null, detail: `The ${s.slowest.length} slowest statements by mean time follow.` };
  return [
    head,
    ...s.slowest.map((st, i): Finding => {
      const query = st.query.replace(/\s+/g, ' ').trim();
      return {
        check: `slow_statement.${i + 1}`,
        verdict: 'info',
        value: `mean ${st.meanMs.toFixed(1)} ms × ${count(st.calls)} calls`,
        recommended: null,
        detail: query.length > QUERY_SHOWN ? `${query.slice(0, QUERY_SHOWN)}…` : query,
      };
    }),
  ];
}
