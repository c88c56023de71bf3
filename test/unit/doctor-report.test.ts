import { describe, expect, it } from 'vitest';
import { parseMemory, runDoctor } from '../../src/cli/doctor.js';
import { statementFindings, vacuumFinding, vacuumFindings, vacuumTrigger } from '../../src/doctor/check-activity.js';
import { diagnose, exitCode } from '../../src/doctor/diagnose.js';
import { formatAge, formatSize, renderTable, summary } from '../../src/doctor/format.js';
import type { DoctorContext, Facts, Finding, TableActivity } from '../../src/doctor/types.js';

const NOW = Date.parse('2026-03-10T12:00:00Z');
const CTX: DoctorContext = {
  machine: { memoryBytes: 16 * 1024 ** 3, cores: 4, prefetch: true },
  machineGiven: true,
  workers: 4,
  poolMax: 5,
  partitionDaysAhead: 3,
  now: NOW,
};

function facts(over: Partial<Facts> = {}): Facts {
  return {
    version: 'PostgreSQL 18.4 on x86_64-pc-linux-gnu, compiled by gcc',
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

const table = (over: Partial<TableActivity> = {}): TableActivity => ({
  table: 'traces_p20260310',
  liveTuples: 1_000_000,
  deadTuples: 10_000,
  writes: 5_000_000,
  lastVacuum: NOW - 3 * 60_000,
  ...over,
});

const finding = (verdict: Finding['verdict'], check = 'x'): Finding => ({ check, verdict, value: 'v', recommended: 'r', detail: 'why' });

describe('vacuum', () => {
  it("triggers at autovacuum's own threshold, from the server's settings", () => {
    expect(vacuumTrigger(facts(), 1000)).toBe(250);
    const tuned = facts({
      settings: new Map([
        ['autovacuum_vacuum_threshold', { text: '1000', value: 1000, source: 'configuration file' }],
        ['autovacuum_vacuum_scale_factor', { text: '0.01', value: 0.01, source: 'configuration file' }],
        ['autovacuum_vacuum_max_threshold', { text: '5000', value: 5000, source: 'default' }],
      ]),
    });
    expect(vacuumTrigger(tuned, 100_000)).toBe(2000);
    expect(vacuumTrigger(tuned, 10_000_000)).toBe(5000);
  });

  it('warns when dead tuples pass twice the trigger: autovacuum is behind', () => {
    expect(vacuumFinding(table(), facts(), NOW)).toMatchObject({
      check: 'vacuum.traces_p20260310',
      verdict: 'ok',
      value: '10,000 dead / 1,000,000 live (1.0% of live)',
      recommended: 'autovacuum from 200,050 dead',
      detail: "Among otlp-pg's busiest tables; last vacuumed 3 min ago.",
    });
    const behind = vacuumFinding(table({ deadTuples: 450_000, lastVacuum: null }), facts(), NOW);
    expect(behind.verdict).toBe('warn');
    expect(behind.detail).toMatch(/^Autovacuum is behind on this table \(never vacuumed\)/);
  });

  it('says so when nothing was written yet', () => {
    expect(vacuumFindings(facts(), CTX)).toEqual([{ check: 'vacuum', verdict: 'ok', value: 'no writes yet', recommended: null, detail: expect.any(String) }]);
    expect(vacuumFindings(facts({ activity: [table(), table({ table: 'logs_p20260310' })] }), CTX).map((f) => f.check)).toEqual([
      'vacuum.traces_p20260310',
      'vacuum.logs_p20260310',
    ]);
  });
});

describe('statementFindings', () => {
  it('says how to enable pg_stat_statements when it is missing or not loaded', () => {
    expect(statementFindings(facts())).toMatchObject([{ check: 'pg_stat_statements', verdict: 'info', value: 'not installed' }]);
    expect(statementFindings(facts())[0]?.detail).toContain("shared_preload_libraries = 'pg_stat_statements'");
    const notLoaded = statementFindings(facts({ statements: { state: 'not-loaded', message: 'pg_stat_statements must be loaded via "shared_preload_libraries"' } }));
    expect(notLoaded).toMatchObject([{ verdict: 'info', value: 'installed, not loaded' }]);
  });

  it('lists the slowest statements as information', () => {
    const slow = statementFindings(facts({
      statements: {
        state: 'ok',
        slowest: [
          { query: 'SELECT *\n  FROM trace_spans\n WHERE service_name = $1', calls: 12_345, meanMs: 812.25, totalMs: 1e7 },
          { query: 'x'.repeat(400), calls: 1, meanMs: 3, totalMs: 3 },
        ],
      },
    }));
    expect(slow.map((f) => [f.check, f.verdict])).toEqual([['pg_stat_statements', 'ok'], ['slow_statement.1', 'info'], ['slow_statement.2', 'info']]);
    expect(slow[1]).toMatchObject({ value: 'mean 812.3 ms × 12,345 calls', recommended: null, detail: 'SELECT * FROM trace_spans WHERE service_name = $1' });
    expect(slow[2]?.detail).toHaveLength(301);
  });
});

describe('diagnose and exitCode', () => {
  it('puts the machine and server first', () => {
    const all = diagnose(facts(), { indexes: [], partitionedTables: [], tables: [] }, CTX, 4);
    expect(all.slice(0, 2)).toMatchObject([
      { check: 'machine', verdict: 'info', value: '16.0 GiB memory, 4 cores' },
      { check: 'server', verdict: 'info', value: 'PostgreSQL 18.4' },
    ]);
  });

  it('exits 1 on fail, on warn only when strict', () => {
    expect(exitCode([finding('ok'), finding('info')], true)).toBe(0);
    expect(exitCode([finding('ok'), finding('warn')], false)).toBe(0);
    expect(exitCode([finding('ok'), finding('warn')], true)).toBe(1);
    expect(exitCode([finding('fail')], false)).toBe(1);
  });
});

describe('format', () => {
  it('writes sizes and ages for people', () => {
    expect([formatSize(0), formatSize(8192), formatSize(48 * 1024), formatSize(3.5 * 1024 ** 3)]).toEqual(['0 B', '8.0 kB', '48 kB', '3.5 GB']);
    expect([formatAge(5_000), formatAge(600_000), formatAge(5 * 3_600_000), formatAge(4 * 86_400_000)]).toEqual(['5 s', '10 min', '5 h', '4 days']);
  });

  it('renders a table with the reason under what is not ok', () => {
    const text = renderTable([
      { check: 'setting.work_mem', verdict: 'ok', value: '64MB', recommended: '64MB', detail: 'fine' },
      { check: 'index.traces_errors_idx', verdict: 'fail', value: 'missing', recommended: 'present', detail: 'Create it again.' },
      { check: 'vacuum', verdict: 'ok', value: 'no writes yet', recommended: null, detail: '' },
    ]);
    expect(text).toBe(
      [
        'VERDICT CHECK                    VALUE          RECOMMENDED',
        'ok      setting.work_mem         64MB           64MB',
        'fail    index.traces_errors_idx  missing        present',
        '        Create it again.',
        'ok      vacuum                   no writes yet',
        '',
      ].join('\n'),
    );
    expect(summary([finding('ok'), finding('ok'), finding('warn'), finding('info')])).toBe('0 fail, 1 warn, 2 ok, 1 info');
  });
});

describe('runDoctor arguments', () => {
  const run = async (...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    let stdout = '';
    let stderr = '';
    const code = await runDoctor(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} });
    return { code, stdout, stderr };
  };

  it('exits 2 for wrong arguments, naming the flag', async () => {
    expect(await run('--bogus')).toMatchObject({ code: 2 });
    expect((await run('--memory', 'lots')).stderr).toContain('--memory: "lots" must be a size');
    expect((await run('--cores', '0')).stderr).toContain('--cores: "0" must be a whole number from 1 to 4096');
    expect((await run('--workers', '-1')).code).toBe(2);
    expect((await run('--writers', '9', '--pool-max', '4')).stderr).toContain('--writers: 9 is more than --pool-max (4)');
    expect((await run('now')).stderr).toContain('unexpected arguments: now');
  });

  it('prints its help', async () => {
    const { code, stdout } = await run('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: otlp-pg doctor/);
    expect(stdout).toContain('--strict');
  });

  it('reads memory sizes with units', () => {
    expect(parseMemory('64GiB')).toBe(64 * 1024 ** 3);
    expect(parseMemory('512MiB')).toBe(512 * 1024 ** 2);
    expect(parseMemory('32GB')).toBe(32e9);
    expect(() => parseMemory('1MiB')).toThrow('at least 256MiB');
  });
});
