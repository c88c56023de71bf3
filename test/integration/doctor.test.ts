// Acceptance (issue 8): `otlp-pg doctor --json` names what is wrong with a database given bad
// settings (per database, as a session sees them), a dropped index and a row in a DEFAULT partition;
// against a freshly migrated embedded PostgreSQL, which starts with db/settings.ts's recommendation,
// it finds nothing to warn about.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.js';
import { loadConfig } from '../../src/config/config.js';
import { startEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.js';
import type { Finding } from '../../src/doctor/types.js';
import { prepareSchema } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';

const silent = pino({ level: 'silent' });

/** runDoctor in-process with no environment (so DATABASE_URL of the test run does not leak in). */
async function doctor(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runDoctor(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} });
  return { code, stdout, stderr };
}

async function findings(...argv: string[]): Promise<{ code: number; byCheck: Map<string, Finding>; all: Finding[] }> {
  const { code, stdout } = await doctor('--json', ...argv);
  const all = JSON.parse(stdout) as Finding[];
  return { code, all, byCheck: new Map(all.map((f) => [f.check, f])) };
}

const problems = (all: readonly Finding[]): Finding[] => all.filter((f) => f.verdict === 'warn' || f.verdict === 'fail');

describe('otlp-pg doctor against a database with bad settings, a dropped index and rows in DEFAULT', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    await prepareSchema(db.url, loadConfig({ 'database-url': db.url }, {}), silent);
    const name = new URL(db.url).pathname.slice(1);
    // Per-database settings: no restart, and every new session of this database sees them.
    for (const setting of ["random_page_cost = 4", "work_mem = '1MB'", 'synchronous_commit = off', 'effective_io_concurrency = 1']) {
      await query(db.url, `ALTER DATABASE ${name} SET ${setting}`);
    }
    await query(db.url, 'DROP INDEX traces_errors_idx');
    // 2000-01-01 has no daily partition: the row goes to traces_default.
    await query(
      db.url,
      `INSERT INTO traces (start_time, trace_id, start_time_unix_nano, end_time_unix_nano, duration_ns, service_name, span_count, error_count)
       VALUES ('2000-01-01T00:00:00Z', '\\x0102', 946684800000000000, 946684800000000001, 1, 'checkout', 1, 1)`,
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('reports each problem with its verdict, value and recommendation, and exits 1', async () => {
    const { code, byCheck } = await findings('--database-url', db.url);
    expect(code).toBe(1);
    expect(byCheck.get('setting.random_page_cost')).toMatchObject({ verdict: 'warn', value: '4', recommended: '1.1' });
    expect(byCheck.get('setting.random_page_cost')?.detail).toContain("ALTER DATABASE <db> SET random_page_cost = '1.1'");
    expect(byCheck.get('setting.work_mem')).toMatchObject({ verdict: 'warn', value: '1MB' });
    expect(byCheck.get('setting.synchronous_commit')).toMatchObject({ verdict: 'warn', value: 'off', recommended: 'on' });
    expect(byCheck.get('setting.synchronous_commit')?.detail).toMatch(/crash of the database server loses/);
    expect(byCheck.get('setting.effective_io_concurrency')).toMatchObject({ verdict: 'warn', value: '1' });
    expect(byCheck.get('index.traces_errors_idx')).toMatchObject({ verdict: 'fail', value: 'missing', recommended: 'present' });
    expect(byCheck.get('default_partition.traces')).toMatchObject({ verdict: 'warn', value: '1 row in traces_default', recommended: '0 rows' });
    // traces now has a row and its indexes were never scanned; logs has none, so its are fine.
    expect(byCheck.get('index.traces_service_recent_idx')).toMatchObject({ verdict: 'warn', recommended: 'used' });
    expect(byCheck.get('index.logs_service_recent_idx')?.verdict).toBe('ok');
    expect(byCheck.get('migrations')?.verdict).toBe('ok');
    expect(byCheck.get('partitions.traces')).toMatchObject({ verdict: 'ok', recommended: '3 days ahead' });
    expect(byCheck.get('partitions.traces')?.value).toMatch(/^3 days ahead, \d+ partitions$/);
    expect(byCheck.get('vacuum.traces_default')?.verdict).toBe('ok');
  });

  it('prints a table for people, the reason under each problem', async () => {
    const { code, stdout } = await doctor('--database-url', db.url);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^fail +index\.traces_errors_idx +missing +present$/m);
    expect(stdout).toMatch(/^warn +setting\.random_page_cost +4 +1\.1\n +On SSD or NVMe storage/m);
    expect(stdout).toMatch(/^\d+ fail, \d+ warn, \d+ ok, \d+ info$/m);
    expect(stdout).not.toContain(new URL(db.url).password || '\u0000');
  });

  it('checks max_connections against the pools otlp-pg is configured with', async () => {
    const { byCheck } = await findings('--database-url', db.url, '--workers', '200', '--pool-max', '100');
    const connections = byCheck.get('setting.max_connections');
    expect(connections?.verdict).toBe('fail');
    expect(connections?.detail).toContain('otlp-pg opens up to 20002 connections (200 workers × --pool-max 100 + 2)');
  });

  it('recommends for the machine described by --memory and --cores', async () => {
    const { byCheck } = await findings('--database-url', db.url, '--memory', '1TiB', '--cores', '64');
    expect(byCheck.get('machine')?.value).toBe('1024.0 GiB memory, 64 cores');
    expect(byCheck.get('setting.shared_buffers')?.recommended).toBe('8GB');
    expect(byCheck.get('setting.max_wal_size')?.recommended).toBe('16GB');
  });

  it('reports an unreachable database as a failed finding', async () => {
    const port = await freePort();
    const { code, byCheck } = await findings('--database-url', `postgresql://nobody:secret@127.0.0.1:${port}/none`);
    expect(code).toBe(1);
    expect(byCheck.get('database')).toMatchObject({ verdict: 'fail' });
    expect(byCheck.get('database')?.detail).not.toContain('secret');
  });
});

describe('otlp-pg doctor against a freshly migrated embedded PostgreSQL', () => {
  let dataDir: string;
  let embedded: EmbeddedDatabase | undefined;

  const start = async (): Promise<EmbeddedDatabase> => {
    embedded = await startEmbedded({ dataDir, port: await freePort(), logger: silent });
    return embedded;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'otlp-pg-doctor-'));
    await prepareSchema((await start()).url, loadConfig({}, {}), silent);
  });

  afterAll(async () => {
    await embedded?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finds no problem: the embedded settings are the recommendation', async () => {
    const { code, all } = await findings('--strict', '--database-url', embedded?.url ?? '');
    expect(problems(all)).toEqual([]);
    expect(code).toBe(0);
    expect(all.find((f) => f.check === 'pg_stat_statements')).toMatchObject({ verdict: 'info', value: 'not installed' });
  });

  it('finds the embedded PostgreSQL running under --data-dir without a URL', async () => {
    const { code, all } = await findings('--strict', '--data-dir', dataDir);
    expect(problems(all)).toEqual([]);
    expect(code).toBe(0);
  });

  it('lists the slowest statements once pg_stat_statements is loaded', async () => {
    await query(embedded?.url ?? '', "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    await embedded?.stop();
    const url = (await start()).url;
    await query(url, 'CREATE EXTENSION pg_stat_statements');
    // 300 ms at least: among the five slowest even where a loaded machine makes other statements slow.
    await query(url, 'SELECT pg_sleep(0.3)');
    const { code, all, byCheck } = await findings('--strict', '--database-url', url);
    expect(problems(all)).toEqual([]);
    expect(code).toBe(0);
    expect(byCheck.get('pg_stat_statements')).toMatchObject({ verdict: 'ok', value: 'installed' });
    const slow = all.filter((f) => f.check.startsWith('slow_statement.'));
    expect(slow.length).toBeGreaterThan(0);
    expect(slow.length).toBeLessThanOrEqual(5);
    const sleep = slow.find((f) => f.detail === 'SELECT pg_sleep($1)');
    expect(sleep).toMatchObject({ verdict: 'info' });
    expect(Number(/^mean ([\d.]+) ms × 1 calls$/.exec(String(sleep?.value))?.[1])).toBeGreaterThanOrEqual(300);
  });
});

describe('otlp-pg doctor arguments', () => {
  it('exits 1 when there is no database to check, without creating one', async () => {
    const dataDir = path.join(tmpdir(), `otlp-pg-doctor-none-${process.pid}`);
    const { code, stderr } = await doctor('--data-dir', dataDir);
    expect(code).toBe(1);
    expect(stderr).toContain('no database to check');
  });
});
