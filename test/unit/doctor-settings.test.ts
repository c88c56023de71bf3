import { describe, expect, it } from 'vitest';
import {
  GiB,
  MiB,
  defaultOtlpPgConnections,
  formatBytes,
  formatDuration,
  otlpPgConnections,
  recommendedSettings,
  settingsText,
  type Machine,
} from '../../src/db/settings.js';
import { howToSet, serverPlatform, settingFindings } from '../../src/doctor/check-settings.js';
import { settingValue } from '../../src/doctor/facts.js';
import type { DoctorContext, Facts, Finding, SettingFact } from '../../src/doctor/types.js';

const MACHINE: Machine = { memoryBytes: 16 * GiB, cores: 4, prefetch: true };
const CTX: DoctorContext = { machine: MACHINE, machineGiven: false, workers: 4, poolMax: 5, partitionDaysAhead: 3, now: Date.parse('2026-03-10T12:00:00Z') };
const LINUX = 'PostgreSQL 18.4 on x86_64-pc-linux-gnu, compiled by gcc 7.5.0, 64-bit';

const setting = (text: string, value?: number, source = 'configuration file'): SettingFact => ({ text, value, source });

/** The settings of a server started with the recommendation for MACHINE, with some replaced. */
function facts(replace: Record<string, SettingFact> = {}, version = LINUX): Facts {
  const rec = recommendedSettings(MACHINE, otlpPgConnections(CTX.workers, CTX.poolMax));
  const text = settingsText(rec);
  const settings = new Map<string, SettingFact>();
  for (const [name, value] of Object.entries(rec)) settings.set(name, setting(text[name as keyof typeof text], value));
  for (const [name, text] of Object.entries({ synchronous_commit: 'on', fsync: 'on', autovacuum: 'on' })) settings.set(name, setting(text));
  settings.set('superuser_reserved_connections', setting('3', 3));
  settings.set('reserved_connections', setting('0', 0));
  for (const [name, fact] of Object.entries(replace)) settings.set(name, fact);
  return {
    version,
    settings,
    connectionsInUse: 7,
    pendingMigrations: [],
    indexes: new Map(),
    tableHasRows: new Map(),
    partitions: new Map(),
    defaultRows: new Map(),
    activity: [],
    statements: { state: 'missing' },
  };
}

const byCheck = (findings: Finding[]): Map<string, Finding> => new Map(findings.map((f) => [f.check, f]));
const verdicts = (findings: Finding[]): Record<string, string> => Object.fromEntries(findings.map((f) => [f.check, f.verdict]));

describe('recommendedSettings', () => {
  it('scales memory settings with RAM and WAL with cores', () => {
    const rec = settingsText(recommendedSettings({ memoryBytes: 24 * GiB, cores: 2, prefetch: true }, defaultOtlpPgConnections(2)));
    expect(rec).toEqual({
      shared_buffers: '6GB',
      effective_cache_size: '12GB',
      work_mem: '46MB',
      maintenance_work_mem: '768MB',
      wal_buffers: '16MB',
      max_wal_size: '2GB',
      checkpoint_timeout: '10min',
      random_page_cost: '1.1',
      effective_io_concurrency: '200',
      max_connections: '100',
      max_worker_processes: '8',
    });
  });

  it('caps what stops paying off on a large server, and sizes max_connections to the default pools', () => {
    const rec = recommendedSettings({ memoryBytes: 1024 * GiB, cores: 64, prefetch: true }, defaultOtlpPgConnections(64));
    expect(rec.shared_buffers).toBe(8 * GiB);
    expect(rec.work_mem).toBe(64 * MiB);
    expect(rec.maintenance_work_mem).toBe(GiB);
    expect(rec.max_wal_size).toBe(16 * GiB);
    // 64 workers × pool-max 5 + primary's 2, plus 10 headroom and 3 reserved for superusers.
    expect(defaultOtlpPgConnections(64)).toBe(322);
    expect(rec.max_connections).toBe(335);
    expect(rec.max_worker_processes).toBe(64);
  });

  it('keeps PostgreSQL floors on a small machine, and no prefetch where the platform has none', () => {
    const rec = recommendedSettings({ memoryBytes: GiB, cores: 1, prefetch: false }, defaultOtlpPgConnections(1));
    expect(settingsText(rec)).toMatchObject({ shared_buffers: '256MB', work_mem: '4MB', maintenance_work_mem: '64MB', effective_io_concurrency: '0' });
    expect(otlpPgConnections(1, 5)).toBe(6);
  });

  it('writes values as PostgreSQL does', () => {
    expect([formatBytes(16 * MiB), formatBytes(2 * GiB), formatBytes(1536 * MiB), formatBytes(8192), formatBytes(100)]).toEqual(['16MB', '2GB', '1536MB', '8kB', '100B']);
    expect([formatDuration(600_000), formatDuration(30_000), formatDuration(3_600_000), formatDuration(250)]).toEqual(['10min', '30s', '1h', '250ms']);
  });
});

describe('settingValue', () => {
  it('turns pg_settings units into bytes and milliseconds', () => {
    expect(settingValue('771328', '8kB', 'integer')).toBe(771328 * 8192);
    expect(settingValue('46080', 'kB', 'integer')).toBe(45 * MiB);
    expect(settingValue('2048', 'MB', 'integer')).toBe(2 * GiB);
    expect(settingValue('600', 's', 'integer')).toBe(600_000);
    expect(settingValue('1.1', null, 'real')).toBe(1.1);
    expect(settingValue('-1', 'kB', 'integer')).toBe(-1);
    expect(settingValue('on', null, 'bool')).toBeUndefined();
  });
});

describe('settingFindings', () => {
  it('finds nothing wrong with the recommendation itself', () => {
    const findings = settingFindings(facts(), CTX);
    expect(findings.filter((f) => f.verdict !== 'ok')).toEqual([]);
    expect(findings.map((f) => f.check)).toEqual([
      'setting.shared_buffers', 'setting.effective_cache_size', 'setting.work_mem', 'setting.maintenance_work_mem', 'setting.wal_buffers',
      'setting.max_wal_size', 'setting.checkpoint_timeout', 'setting.random_page_cost', 'setting.effective_io_concurrency',
      'setting.synchronous_commit', 'setting.fsync', 'setting.autovacuum', 'setting.max_connections',
    ]);
  });

  it("warns about PostgreSQL's stock settings on a 16 GB machine", () => {
    const stock = facts({
      shared_buffers: setting('128MB', 128 * MiB),
      effective_cache_size: setting('4GB', 4 * GiB),
      maintenance_work_mem: setting('64MB', 64 * MiB),
      wal_buffers: setting('4MB', 4 * MiB),
      max_wal_size: setting('1GB', GiB),
      checkpoint_timeout: setting('5min', 300_000),
      random_page_cost: setting('4', 4),
      effective_io_concurrency: setting('16', 16),
      work_mem: setting('4MB', 4 * MiB),
    });
    expect(verdicts(settingFindings(stock, CTX))).toMatchObject({
      'setting.shared_buffers': 'warn',
      'setting.effective_cache_size': 'warn',
      'setting.work_mem': 'ok',
      'setting.maintenance_work_mem': 'ok',
      'setting.wal_buffers': 'warn',
      'setting.max_wal_size': 'warn',
      'setting.checkpoint_timeout': 'ok',
      'setting.random_page_cost': 'warn',
      'setting.effective_io_concurrency': 'warn',
    });
    const shared = byCheck(settingFindings(stock, CTX)).get('setting.shared_buffers');
    expect(shared).toMatchObject({ value: '128MB', recommended: '4GB' });
    expect(shared?.detail).toContain("ALTER SYSTEM SET shared_buffers = '4GB', then restart PostgreSQL.");
  });

  it('warns about too much as well as too little', () => {
    const found = byCheck(settingFindings(facts({
      shared_buffers: setting('8GB', 8 * GiB),
      work_mem: setting('1GB', GiB),
      maintenance_work_mem: setting('4GB', 4 * GiB),
      checkpoint_timeout: setting('1h', 3_600_000),
      random_page_cost: setting('0.5', 0.5),
      effective_cache_size: setting('16GB', 16 * GiB),
    }), CTX));
    for (const name of ['shared_buffers', 'work_mem', 'maintenance_work_mem', 'checkpoint_timeout', 'random_page_cost', 'effective_cache_size']) {
      expect(found.get(`setting.${name}`)?.verdict, name).toBe('warn');
    }
    expect(found.get('setting.work_mem')?.detail).toMatch(/^max_connections \(100\) × work_mem exceeds the RAM/);
  });

  it('warns about synchronous_commit off with the loss window, fsync off and autovacuum off', () => {
    const found = byCheck(settingFindings(facts({ synchronous_commit: setting('off', undefined, 'database'), fsync: setting('off'), autovacuum: setting('off') }), CTX));
    expect(found.get('setting.synchronous_commit')).toMatchObject({ verdict: 'warn', value: 'off', recommended: 'on' });
    expect(found.get('setting.synchronous_commit')?.detail).toMatch(/loses the last acknowledged rows \(up to 3 × wal_writer_delay/);
    expect(found.get('setting.synchronous_commit')?.detail).toContain("ALTER DATABASE <db> SET synchronous_commit = 'on'");
    expect(found.get('setting.fsync')?.verdict).toBe('warn');
    expect(found.get('setting.autovacuum')?.verdict).toBe('warn');
    expect(byCheck(settingFindings(facts({ synchronous_commit: setting('local') }), CTX)).get('setting.synchronous_commit')?.verdict).toBe('ok');
  });

  it('fails max_connections below the pools, warns without headroom', () => {
    const connections = (max: number, ctx: Partial<DoctorContext> = {}): Finding | undefined =>
      byCheck(settingFindings(facts({ max_connections: setting(String(max), max) }), { ...CTX, ...ctx })).get('setting.max_connections');
    // 4 workers × 5 + 2 = 22 connections, 3 reserved.
    expect(connections(24)).toMatchObject({ verdict: 'fail', recommended: '100' });
    expect(connections(24)?.detail).toContain('otlp-pg opens up to 22 connections (4 workers × --pool-max 5 + 2); 21 of 24 are open to ordinary roles (3 reserved)');
    expect(connections(30)?.verdict).toBe('warn');
    expect(connections(35)?.verdict).toBe('ok');
    expect(connections(100, { workers: 1, poolMax: 5 })?.detail).toContain('(1 worker × --pool-max 5 + 1)');
    expect(connections(100, { workers: 40, poolMax: 5 })).toMatchObject({ verdict: 'fail', recommended: '215' });
  });

  it("takes effective_io_concurrency 0 where the server's platform cannot prefetch", () => {
    const mac = 'PostgreSQL 18.4 on aarch64-apple-darwin23.6.0, compiled by Apple clang version 15.0.0, 64-bit';
    expect(serverPlatform(mac)).toBe('darwin');
    expect(serverPlatform(LINUX)).toBe('linux');
    const found = byCheck(settingFindings(facts({ effective_io_concurrency: setting('0', 0) }, mac), CTX));
    expect(found.get('setting.effective_io_concurrency')).toMatchObject({ verdict: 'ok', recommended: '0' });
  });

  it('says how to change a setting where its value comes from', () => {
    expect(howToSet('work_mem', '64MB', 'configuration file')).toBe("ALTER SYSTEM SET work_mem = '64MB'; SELECT pg_reload_conf();");
    expect(howToSet('work_mem', '64MB', 'user')).toContain('ALTER ROLE <role> SET');
    expect(howToSet('shared_buffers', '4GB', 'command line')).toContain('postgres command line');
  });
});
