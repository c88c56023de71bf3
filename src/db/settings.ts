// The PostgreSQL settings otlp-pg recommends for a machine of given memory and cores: what the
// embedded PostgreSQL starts with (db/embedded.ts) and what `otlp-pg doctor` checks a database
// against, so that the two cannot disagree. Values are in base units (bytes, milliseconds).
import { availableParallelism, platform, totalmem } from 'node:os';
import { OPTIONS } from '../config/options.js';

export interface Machine {
  readonly memoryBytes: number;
  readonly cores: number;
  /**
   * PostgreSQL can issue read-ahead advice (posix_fadvise): not on macOS or Windows, where any
   * effective_io_concurrency but 0 is refused at start.
   */
  readonly prefetch: boolean;
}

export interface RecommendedSettings {
  readonly shared_buffers: number;
  readonly effective_cache_size: number;
  readonly work_mem: number;
  readonly maintenance_work_mem: number;
  readonly wal_buffers: number;
  readonly max_wal_size: number;
  readonly checkpoint_timeout: number;
  readonly random_page_cost: number;
  readonly effective_io_concurrency: number;
  readonly max_connections: number;
  readonly max_worker_processes: number;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
const MINUTE = 60_000;

/** Connections kept free for psql, `otlp-pg export`, `otlp-pg doctor` and migrations. */
export const CONNECTION_HEADROOM = 10;
/** PostgreSQL's default superuser_reserved_connections: slots ordinary users never get. */
const DEFAULT_RESERVED = 3;
/** The least max_connections recommended: PostgreSQL's default, room for other clients. */
const MIN_MAX_CONNECTIONS = 100;

/** This machine: memory (the cgroup limit when lower, as in a container) and cores. */
export function thisMachine(): Machine {
  const constrained = process.constrainedMemory?.() ?? 0;
  const memoryBytes = constrained > 0 ? Math.min(totalmem(), constrained) : totalmem();
  return { memoryBytes, cores: availableParallelism(), prefetch: platformPrefetches(platform()) };
}

export function platformPrefetches(os: string): boolean {
  return os !== 'darwin' && os !== 'win32';
}

/**
 * The most connections otlp-pg opens: each receiver process its pool, plus the readiness check's
 * own connection, plus with --workers the primary's maintenance connection (cli/serve.ts).
 */
export function otlpPgConnections(workers: number, poolMax: number): number {
  return workers * poolMax + (workers > 1 ? 2 : 1);
}

/** otlp-pg's defaults on a machine of `cores` cores: --workers 0 is one worker per core. */
export function defaultOtlpPgConnections(cores: number): number {
  return otlpPgConnections(cores, Number(OPTIONS.poolMax.default));
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
const floorMiB = (bytes: number): number => Math.floor(bytes / MiB) * MiB;

/** `otlpConnections`: what otlp-pg itself opens (otlpPgConnections). */
export function recommendedSettings(machine: Machine, otlpConnections: number): RecommendedSettings {
  const m = machine.memoryBytes;
  // 25% of RAM is PostgreSQL's own starting point; the OS page cache holds the rest of the working
  // set. Capped: an ingest's hot set is the newest partitions' heap tails and right-most index
  // pages, and past ~8 GB larger buffers mostly double-cache and lengthen checkpoints.
  const sharedBuffers = clamp(floorMiB(m / 4), 128 * MiB, 8 * GiB);
  const maxConnections = Math.max(MIN_MAX_CONNECTIONS, otlpConnections + CONNECTION_HEADROOM + DEFAULT_RESERVED);
  return {
    shared_buffers: sharedBuffers,
    // A planner hint, not an allocation: shared_buffers plus the page cache PostgreSQL can expect.
    // Half of RAM when otlp-pg shares the machine; up to 3/4 on a dedicated database server.
    effective_cache_size: floorMiB(m / 2),
    // Per sort or hash node per connection: what is left after shared_buffers, shared by every
    // connection at ~4 nodes each (pgtune's reasoning); ingest (COPY) itself does not sort.
    work_mem: clamp(floorMiB((m - sharedBuffers) / (maxConnections * 4)), 4 * MiB, 64 * MiB),
    // Each autovacuum worker (3) may take this much: the updated `traces` partitions and the pruned
    // request digests need vacuuming in one pass; beyond 1 GB vacuum before PostgreSQL 17 cannot use it.
    maintenance_work_mem: clamp(floorMiB(m / 32), 64 * MiB, GiB),
    // One WAL segment: concurrent COPY writers fill a smaller buffer and then write WAL themselves.
    wal_buffers: 16 * MiB,
    // WAL between checkpoints grows with the writers (one worker per core by default); a checkpoint
    // forced early by WAL volume restarts full-page writes, which can double the WAL of an ingest.
    max_wal_size: clamp(machine.cores * GiB, 2 * GiB, 16 * GiB),
    // Fewer checkpoints (fewer full-page writes) at the cost of a longer crash recovery.
    checkpoint_timeout: 10 * MINUTE,
    // SSD/NVMe: a random read costs about a sequential one, so trace-by-id and logs-by-trace use
    // their indexes instead of scanning whole partitions (4 is the spinning-disk default).
    random_page_cost: 1.1,
    // SSDs serve hundreds of concurrent reads: prefetch for bitmap heap scans and read streams.
    effective_io_concurrency: machine.prefetch ? 200 : 0,
    max_connections: maxConnections,
    max_worker_processes: Math.max(8, machine.cores),
  };
}

/** Bytes as PostgreSQL writes a memory setting: the largest unit that divides it (16MB, 2GB). */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['TB', 1024 * GiB], ['GB', GiB], ['MB', MiB], ['kB', 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

/** Milliseconds as PostgreSQL writes a time setting (10min, 30s). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', MINUTE], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The settings as postgres command-line values (`-c name=value`). */
export function settingsText(s: RecommendedSettings): Record<keyof RecommendedSettings, string> {
  return {
    shared_buffers: formatBytes(s.shared_buffers),
    effective_cache_size: formatBytes(s.effective_cache_size),
    work_mem: formatBytes(s.work_mem),
    maintenance_work_mem: formatBytes(s.maintenance_work_mem),
    wal_buffers: formatBytes(s.wal_buffers),
    max_wal_size: formatBytes(s.max_wal_size),
    checkpoint_timeout: formatDuration(s.checkpoint_timeout),
    random_page_cost: String(s.random_page_cost),
    effective_io_concurrency: String(s.effective_io_concurrency),
    max_connections: String(s.max_connections),
    max_worker_processes: String(s.max_worker_processes),
  };
}
