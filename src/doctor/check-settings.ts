// Verdicts on the PostgreSQL settings that matter for ingest. The recommendation is db/settings.ts's
// (what the embedded PostgreSQL starts with); a setting is `ok` inside a range around it, since
// several values are right, and `warn` outside it with the reason. The machine is the one the
// doctor runs on unless --memory/--cores describe the database server's.
import {
  CONNECTION_HEADROOM,
  MiB,
  formatBytes,
  formatDuration,
  otlpPgConnections,
  platformPrefetches,
  recommendedSettings,
  type RecommendedSettings,
} from '../db/settings.js';
import type { DoctorContext, Facts, Finding, SettingFact } from './types.js';

const MINUTE = 60_000;
/** Settings PostgreSQL reads only at server start. */
const RESTART = new Set(['shared_buffers', 'wal_buffers', 'max_connections']);

/** How to change a setting, given where its current value comes from (pg_settings.source). */
export function howToSet(name: string, value: string, source: string): string {
  const to = `${name} = '${value}'`;
  switch (source) {
    case 'database':
      return `It is set for this database: ALTER DATABASE <db> SET ${to} (or RESET ${name}).`;
    case 'user':
    case 'database user':
      return `It is set for this role: ALTER ROLE <role> SET ${to} (or RESET ${name}).`;
    case 'client':
    case 'session':
      return `It is set by the connection (options or PGOPTIONS): change it there.`;
    case 'command line':
      return `It is given on the postgres command line (otlp-pg's embedded server takes db/settings.ts's values): change it there.`;
    default:
      return RESTART.has(name)
        ? `ALTER SYSTEM SET ${to}, then restart PostgreSQL.`
        : `ALTER SYSTEM SET ${to}; SELECT pg_reload_conf();`;
  }
}

interface Band {
  readonly min: number;
  readonly max: number;
  /** Why a value below min, or above max, is a problem. */
  readonly low: string;
  readonly high?: string;
}

/** A numeric setting judged against a band around its recommendation. */
function banded(name: string, fact: SettingFact | undefined, recommended: string, band: Band, ok: string): Finding | undefined {
  if (fact?.value === undefined) return undefined;
  const check = `setting.${name}`;
  const v = fact.value;
  if (v >= band.min && v <= band.max) return { check, verdict: 'ok', value: fact.text, recommended, detail: ok };
  const why = v < band.min ? band.low : (band.high ?? '');
  return { check, verdict: 'warn', value: fact.text, recommended, detail: `${why} ${howToSet(name, recommended, fact.source)}` };
}

const pct = (part: number, whole: number): string => `${Math.round((100 * part) / whole)}%`;

function memorySettings(facts: Facts, m: number, rec: RecommendedSettings): (Finding | undefined)[] {
  const s = (name: string): SettingFact | undefined => facts.settings.get(name);
  const maxConnections = s('max_connections')?.value ?? rec.max_connections;
  const sharedBuffers = s('shared_buffers')?.value ?? rec.shared_buffers;
  const perConnection = Math.max(4 * MiB, Math.floor((m - sharedBuffers) / maxConnections));
  return [
    banded('shared_buffers', s('shared_buffers'), formatBytes(rec.shared_buffers), {
      min: rec.shared_buffers / 2,
      max: Math.max(rec.shared_buffers, 0.4 * m),
      low: `Small for this machine: the newest partitions' index pages, which every COPY touches, are evicted and re-read. otlp-pg recommends 25% of RAM, at most 8GB.`,
      high: `Over 40% of RAM: too little is left for the OS page cache (PostgreSQL reads through it), otlp-pg and work_mem.`,
    }, `25% of RAM (at most 8GB) is PostgreSQL's own starting point; this is ${pct(sharedBuffers, m)}.`),
    // 50–75% of RAM, with a little slack either side: it is only a hint, and servers round it.
    banded('effective_cache_size', s('effective_cache_size'), formatBytes(rec.effective_cache_size), {
      min: 0.45 * m,
      max: 0.8 * m,
      low: `The planner assumes little is cached, and prefers scanning whole partitions to index scans (trace by id, logs of a trace). Give it 50% of RAM (75% on a dedicated database server).`,
      high: `More than this machine can cache: the planner picks index scans that then read from disk.`,
    }, `A planner hint (no memory is allocated): 50–75% of RAM.`),
    banded('work_mem', s('work_mem'), formatBytes(rec.work_mem), {
      min: 4 * MiB,
      max: Math.max(rec.work_mem, perConnection),
      low: `Below PostgreSQL's default (4MB): sorts and hashes of queries over telemetry spill to temporary files.`,
      high: `max_connections (${maxConnections}) × work_mem exceeds the RAM left after shared_buffers: every connection sorting at once (each sort or hash may take this much) would exhaust memory.`,
    }, `Per sort or hash, per connection; COPY does not use it.`),
    banded('maintenance_work_mem', s('maintenance_work_mem'), formatBytes(rec.maintenance_work_mem), {
      min: 64 * MiB,
      max: Math.max(rec.maintenance_work_mem, m / 8),
      low: `Below PostgreSQL's default (64MB): vacuuming the updated traces partitions and the pruned request digests takes several passes over every index.`,
      high: `Each autovacuum worker (autovacuum_max_workers, 3 by default) may take this much at once: over 1/8 of RAM each.`,
    }, `Used by autovacuum and index builds.`),
    banded('wal_buffers', s('wal_buffers'), formatBytes(rec.wal_buffers), {
      min: 16 * MiB,
      max: Number.POSITIVE_INFINITY,
      low: `Smaller than one WAL segment (16MB): concurrent COPY writers fill it and then write, and wait for, WAL themselves.`,
    }, `At least one WAL segment, so that concurrent COPY writers rarely write WAL themselves.`),
  ];
}

function walSettings(facts: Facts, rec: RecommendedSettings): (Finding | undefined)[] {
  const s = (name: string): SettingFact | undefined => facts.settings.get(name);
  return [
    banded('max_wal_size', s('max_wal_size'), formatBytes(rec.max_wal_size), {
      min: rec.max_wal_size / 2,
      max: Number.POSITIVE_INFINITY,
      low: `Checkpoints will be forced by WAL volume before checkpoint_timeout ("checkpoints are occurring too frequently" in the server log); each restarts full-page writes, which can double the WAL of an ingest. otlp-pg recommends 1GB per core (its writers scale with cores), 2–16GB.`,
    }, `WAL between checkpoints; disk space, not memory. 1GB per core, 2–16GB.`),
    banded('checkpoint_timeout', s('checkpoint_timeout'), formatDuration(rec.checkpoint_timeout), {
      min: 5 * MINUTE,
      max: 30 * MINUTE,
      low: `Frequent checkpoints: more checkpoint I/O and more full-page writes in the WAL.`,
      high: `A crash recovery replays up to this much WAL: restarts after a crash take long.`,
    }, `Fewer checkpoints mean fewer full-page writes; longer means a longer crash recovery.`),
  ];
}

function plannerSettings(facts: Facts, rec: RecommendedSettings): (Finding | undefined)[] {
  const s = (name: string): SettingFact | undefined => facts.settings.get(name);
  const prefetch = rec.effective_io_concurrency > 0;
  return [
    banded('random_page_cost', s('random_page_cost'), String(rec.random_page_cost), {
      min: 1,
      max: 2,
      low: `Below seq_page_cost (1): the planner would think random reads cheaper than sequential ones.`,
      high: `On SSD or NVMe storage a random read costs about a sequential one; a high value (4 is the spinning-disk default) makes the planner scan whole partitions instead of using the trace_id and service indexes. If the database is on spinning disks, keep 4.`,
    }, `Assumes SSD or NVMe storage.`),
    banded('effective_io_concurrency', s('effective_io_concurrency'), String(rec.effective_io_concurrency), {
      min: prefetch ? 100 : 0,
      max: prefetch ? 1000 : 0,
      low: `SSDs serve hundreds of reads at once: bitmap heap scans (errors, a service's recent traces or logs) prefetch only this many pages ahead (the default was 1 before PostgreSQL 18, 16 since).`,
      high: `This server cannot issue read-ahead advice (no posix_fadvise): 0 is the only value it takes.`,
    }, prefetch ? `Assumes SSD or NVMe storage.` : `This server's platform has no read-ahead advice.`),
  ];
}

function switches(facts: Facts): Finding[] {
  const out: Finding[] = [];
  const sync = facts.settings.get('synchronous_commit');
  if (sync) {
    const off = sync.text === 'off';
    out.push({
      check: 'setting.synchronous_commit',
      verdict: off ? 'warn' : 'ok',
      value: sync.text,
      recommended: 'on',
      detail: off
        ? `otlp-pg answers a request success once its rows commit; with synchronous_commit off a commit returns before its WAL is on disk, so a crash of the database server loses the last acknowledged rows (up to 3 × wal_writer_delay, about 600 ms by default), which clients will not send again. The database stays consistent. Faster commits at that price: a choice to make knowingly. ${howToSet('synchronous_commit', 'on', sync.source)}`
        : `A commit, and so otlp-pg's success answer, waits for its WAL to be on disk.`,
    });
  }
  const fsync = facts.settings.get('fsync');
  if (fsync) {
    out.push({
      check: 'setting.fsync',
      verdict: fsync.text === 'off' ? 'warn' : 'ok',
      value: fsync.text,
      recommended: 'on',
      detail:
        fsync.text === 'off'
          ? `An OS crash or power loss can corrupt the whole database, not only lose recent commits: for throwaway databases only. ${howToSet('fsync', 'on', fsync.source)}`
          : 'Writes reach the disk before PostgreSQL relies on them.',
    });
  }
  const autovacuum = facts.settings.get('autovacuum');
  if (autovacuum) {
    out.push({
      check: 'setting.autovacuum',
      verdict: autovacuum.text === 'off' ? 'warn' : 'ok',
      value: autovacuum.text,
      recommended: 'on',
      detail:
        autovacuum.text === 'off'
          ? `Dead rows (the trace summary folder updates traces rows and deletes the parts it folded; request digests are pruned) are never reclaimed and tables bloat. ${howToSet('autovacuum', 'on', autovacuum.source)}`
          : 'Reclaims the dead rows that the trace summary folder (updated traces rows, deleted parts) and pruning of request digests leave.',
    });
  }
  return out;
}

/** max_connections against what otlp-pg's pools open (connections are refused past it). */
export function connectionsFinding(facts: Facts, ctx: DoctorContext, rec: RecommendedSettings): Finding | undefined {
  const max = facts.settings.get('max_connections');
  if (max?.value === undefined) return undefined;
  const reserved = (facts.settings.get('superuser_reserved_connections')?.value ?? 0) + (facts.settings.get('reserved_connections')?.value ?? 0);
  const usable = max.value - reserved;
  const otlp = otlpPgConnections(ctx.workers, ctx.poolMax);
  const pools = `${ctx.workers} worker${ctx.workers === 1 ? '' : 's'} × --pool-max ${ctx.poolMax} + ${otlp - ctx.workers * ctx.poolMax}`;
  const base = `otlp-pg opens up to ${otlp} connections (${pools}); ${usable} of ${max.value} are open to ordinary roles (${reserved} reserved); ${facts.connectionsInUse} in use now. Several otlp-pg hosts on one database each need as many.`;
  const recommended = String(Math.max(rec.max_connections, otlp + CONNECTION_HEADROOM + reserved));
  const check = 'setting.max_connections';
  if (usable < otlp) {
    return { check, verdict: 'fail', value: max.text, recommended, detail: `${base} Its writers would be refused ("too many clients already") and batches answered retryable. Lower --workers or --pool-max, or ${howToSet('max_connections', recommended, max.source)}` };
  }
  if (usable < otlp + CONNECTION_HEADROOM) {
    return { check, verdict: 'warn', value: max.text, recommended, detail: `${base} Fewer than ${CONNECTION_HEADROOM} are left for psql, otlp-pg export and migrations. ${howToSet('max_connections', recommended, max.source)}` };
  }
  return { check, verdict: 'ok', value: max.text, recommended, detail: base };
}

export function settingFindings(facts: Facts, ctx: DoctorContext): Finding[] {
  // The server's own platform decides whether it can prefetch; the rest assumes ctx.machine.
  const machine = { ...ctx.machine, prefetch: platformPrefetches(serverPlatform(facts.version)) };
  const rec = recommendedSettings(machine, otlpPgConnections(ctx.workers, ctx.poolMax));
  const m = machine.memoryBytes;
  return [
    ...memorySettings(facts, m, rec),
    ...walSettings(facts, rec),
    ...plannerSettings(facts, rec),
    ...switches(facts),
    connectionsFinding(facts, ctx, rec),
  ].filter((f): f is Finding => f !== undefined);
}

/** The platform version() names (`… on x86_64-pc-linux-gnu`, `… aarch64-apple-darwin23 …`), as os.platform() would. */
export function serverPlatform(version: string): string {
  if (/darwin|apple/i.test(version)) return 'darwin';
  if (/windows|mingw|msvc|cygwin/i.test(version)) return 'win32';
  return /linux/i.test(version) ? 'linux' : 'other';
}
