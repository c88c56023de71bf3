// Every check over the facts, in the order they are shown: the machine the recommendations assume,
// settings, schema, activity. Pure: the same facts and context give the same findings.
import { statementFindings, vacuumFindings } from './check-activity.js';
import { schemaFindings } from './check-schema.js';
import { settingFindings } from './check-settings.js';
import type { DoctorContext, ExpectedSchema, Facts, Finding } from './types.js';

function machineFinding(ctx: DoctorContext): Finding {
  const { memoryBytes, cores } = ctx.machine;
  return {
    check: 'machine',
    verdict: 'info',
    value: `${(memoryBytes / 1024 ** 3).toFixed(1)} GiB memory, ${cores} core${cores === 1 ? '' : 's'}`,
    recommended: null,
    detail: ctx.machineGiven
      ? 'Recommendations are for a database server of this memory and these cores (--memory, --cores).'
      : 'PostgreSQL does not report its machine: recommendations assume it runs on one like this (where otlp-pg doctor runs). If it does not, give its --memory and --cores.',
  };
}

function serverFinding(facts: Facts): Finding {
  const short = /^PostgreSQL \S+/.exec(facts.version)?.[0] ?? facts.version;
  return { check: 'server', verdict: 'info', value: short, recommended: null, detail: facts.version };
}

/** `migrations`: how many migrations this otlp-pg ships. */
export function diagnose(facts: Facts, expected: ExpectedSchema, ctx: DoctorContext, migrations: number): Finding[] {
  return [
    machineFinding(ctx),
    serverFinding(facts),
    ...settingFindings(facts, ctx),
    ...schemaFindings(facts, expected, ctx, migrations),
    ...vacuumFindings(facts, ctx),
    ...statementFindings(facts),
  ];
}

/** 1 when anything failed (or, with --strict, warned); 0 otherwise. */
export function exitCode(findings: readonly Finding[], strict: boolean): number {
  const bad = findings.some((f) => f.verdict === 'fail' || (strict && f.verdict === 'warn'));
  return bad ? 1 : 0;
}
