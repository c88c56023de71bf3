// The bench's PostgreSQL: DATABASE_URL when set (the role needs CREATEDB), otherwise an embedded
// one in a temporary directory on a free port, removed at the end. Every scenario gets a fresh
// database of its own.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { startEmbedded } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { ensurePartitions } from '../src/db/partitions.js';
import { findPostmaster } from './proc.js';

export interface BenchServer {
  /** URL of a database on the server with the right to create databases. */
  readonly adminUrl: string;
  readonly embedded: boolean;
  /** The postmaster's pid when it runs on this machine and is known (embedded). */
  readonly postmaster: number | undefined;
  readonly version: string;
  /** PostgreSQL settings that bound write throughput, as the server reports them. */
  readonly settings: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const REPORTED_SETTINGS = ['shared_buffers', 'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'work_mem'];

export async function startBenchServer(): Promise<BenchServer> {
  let adminUrl = process.env.DATABASE_URL ?? '';
  let stop = async (): Promise<void> => undefined;
  let postmaster: number | undefined;
  if (!adminUrl) {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'otlp-pg-bench-'));
    const db = await startEmbedded({ dataDir, port: await freePort(), logger: pino({ level: 'warn' }) });
    adminUrl = db.url;
    postmaster = findPostmaster(path.join(dataDir, 'pg'));
    stop = async () => {
      await db.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const [version] = await query<{ server_version: string }>(adminUrl, 'SHOW server_version');
  const rows = await query<{ name: string; setting: string; unit: string | null }>(
    adminUrl,
    'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)',
    [REPORTED_SETTINGS],
  );
  const settings = Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} × ${r.unit}` : r.setting]));
  return { adminUrl, embedded: !process.env.DATABASE_URL, postmaster, version: version?.server_version ?? 'unknown', settings, stop };
}

export interface FreshDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** CREATE DATABASE for one scenario. With `schema`, also migrations and partitions (else the server makes them). */
export async function freshDatabase(server: BenchServer, label: string, schema: boolean): Promise<FreshDatabase> {
  const name = `otlp_pg_bench_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  await query(server.adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  if (schema) {
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      await migrate(client);
      await ensurePartitions(client, 3);
    } finally {
      await client.end();
    }
  }
  return {
    url: url.toString(),
    drop: async () => {
      await query(server.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Rows stored for one signal: the table the bench counts to check what was acknowledged. */
export const ROW_TABLE = { traces: 'trace_spans', logs: 'logs', metrics: 'metric_data_points' } as const;

export async function countRows(url: string, table: string): Promise<number> {
  const [row] = await query<{ n: string }>(url, `SELECT count(*) AS n FROM ${table}`);
  return Number(row?.n ?? 0);
}
