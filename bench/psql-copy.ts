// The raw limit as a stock tool measures it: one `psql \copy … FROM file WITH (FORMAT binary)`
// stream of rows otlp-pg stored, into the same table (same columns, indexes and partitions) of a
// fresh database. No otlp-pg code runs in it, so anyone can rerun the printed command.

import { spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freshDatabase, query, type BenchServer } from './database.js';
import { childrenCpuSeconds, delta, snapshot, type CpuDelta } from './proc.js';

/** The client used, PATH's psql unless PSQL names another. */
export const PSQL = process.env.PSQL ?? 'psql';

export interface PsqlExport {
  readonly table: string;
  /** The table's columns in order, quoted as needed: the list both commands name. */
  readonly columns: string;
  readonly rows: number;
  readonly file: string;
  readonly fileBytes: number;
  /** How the file was made, with the database otlp-pg wrote as $SOURCE_URL. */
  readonly command: string;
}

export interface PsqlCopyResult {
  readonly table: string;
  readonly rows: number;
  readonly fileBytes: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** PostgreSQL's CPU; psql's is in `bench`. */
  readonly cpu: CpuDelta;
  /** The timed command, with the fresh database as $DATABASE_URL. */
  readonly command: string;
  readonly exportCommand: string;
}

/** Runs psql with one command in `dir`; resolves its output, rejects with it when psql fails. */
function psql(url: string, command: string, dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PSQL, ['-X', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', command], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${PSQL} exited with ${code}: ${out.trim()}`))));
  });
}

const copied = (out: string): number => Number(/COPY (\d+)/.exec(out)?.[1] ?? 0);
// A command as run, for a POSIX shell, with the database URL as a variable.
const shown = (command: string, url: string): string => `${PSQL} -X -v ON_ERROR_STOP=1 -d "${url}" -c '${command.replace(/'/g, "'\\''")}'`;

/** Writes up to `maxRows` rows of `table` in `sourceUrl` to `file` in PostgreSQL's binary COPY format. */
export async function exportRows(sourceUrl: string, table: string, file: string, maxRows: number): Promise<PsqlExport> {
  const [row] = await query<{ columns: string }>(
    sourceUrl,
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS columns
       FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
  const columns = row?.columns ?? '';
  // The file is named bare, psql running in its directory, so the printed command is the one run.
  const command = `\\copy (SELECT ${columns} FROM ${table} LIMIT ${maxRows}) TO ${path.basename(file)} WITH (FORMAT binary)`;
  const rows = copied(await psql(sourceUrl, command, path.dirname(file)));
  // On disk before the timed load, so the kernel's writeback of it does not compete with the WAL.
  const handle = await open(file, 'r');
  await handle.sync().finally(() => handle.close());
  return { table, columns, rows, file, fileBytes: (await stat(file)).size, command: shown(command, '$SOURCE_URL') };
}

/**
 * Times `psql \copy <table> (<columns>) FROM <file> WITH (FORMAT binary)` into a fresh migrated
 * database, from starting psql to its exit (connecting included: milliseconds of seconds).
 */
export async function timePsqlCopy(server: BenchServer, rows: PsqlExport): Promise<PsqlCopyResult> {
  const db = await freshDatabase(server, `psql_${rows.table}`, true);
  try {
    const command = `\\copy ${rows.table} (${rows.columns}) FROM ${path.basename(rows.file)} WITH (FORMAT binary)`;
    const a = snapshot(undefined, server.postmaster);
    const psqlBefore = childrenCpuSeconds();
    const start = performance.now();
    const stored = copied(await psql(db.url, command, path.dirname(rows.file)));
    const seconds = (performance.now() - start) / 1000;
    const cpu = delta(a, snapshot(undefined, server.postmaster));
    // psql is this process's child: its CPU is the bench side's, not another program's.
    const psqlCpu = childrenCpuSeconds() - psqlBefore;
    return {
      table: rows.table,
      rows: stored,
      fileBytes: rows.fileBytes,
      seconds,
      rowsPerSecond: stored / seconds,
      cpu: { ...cpu, bench: cpu.bench + psqlCpu, other: Math.max(0, cpu.other - psqlCpu) },
      command: shown(command, '$DATABASE_URL'),
      exportCommand: rows.command,
    };
  } finally {
    await db.drop();
  }
}
