// `otlp-pg doctor`: checks a database for what makes otlp-pg ingest slow or unsafe (settings, schema,
// partitions, vacuum, slow statements), each finding with a verdict, the current value and what
// otlp-pg recommends for this machine.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { ConfigError, loadConfig, redactUrl, type Config, type FileValues } from '../config/config.js';
import { readConfigFile } from '../config/file.js';
import { OPTIONS, type OptionSpec } from '../config/options.js';
import { loadMigrations } from '../db/migrate.js';
import { thisMachine, type Machine } from '../db/settings.js';
import { diagnose, exitCode } from '../doctor/diagnose.js';
import { expectedSchema } from '../doctor/expected.js';
import { gatherFacts } from '../doctor/facts.js';
import { renderTable, summary } from '../doctor/format.js';
import type { Finding } from '../doctor/types.js';
import { openReadDatabase } from '../read/database.js';
import type { Database } from '../server.js';
import { workerCount } from './serve.js';

export const DOCTOR_HELP = `Usage: otlp-pg doctor [options]

Checks the database otlp-pg writes to and prints one finding per check, with a verdict (ok, warn,
fail; info for what is only worth knowing), the current value and the value otlp-pg recommends:
  settings     shared_buffers, effective_cache_size, work_mem, maintenance_work_mem, wal_buffers,
               max_wal_size, checkpoint_timeout, synchronous_commit, fsync, random_page_cost,
               effective_io_concurrency, autovacuum, and max_connections against otlp-pg's pools
               (--workers × --pool-max), as this database's sessions see them
  schema       migrations applied; the migrations' indexes present, valid and used; daily partitions
               made ahead; rows in the DEFAULT partitions
  activity     dead tuples and autovacuum on the busiest tables; the slowest statements when
               pg_stat_statements is installed

PostgreSQL does not report the machine it runs on: recommendations assume one like this (memory,
cores). For a database server elsewhere, describe it:
  --memory <size>     its memory, e.g. 64GiB
  --cores <n>         its cores

Output and exit code:
  --json              an array of findings {check, verdict, value, recommended, detail}
  --strict            exit 1 on warn too
  Exit 0 when nothing failed, 1 when a check failed (or warned, with --strict), 2 for wrong arguments.

Database and otlp-pg's settings: every option of otlp-pg serve (see otlp-pg --help), from flags, the
environment or --config <file>, so that the pools checked are the ones otlp-pg runs with; the
database is --database-url, else the embedded PostgreSQL under --data-dir (the running one, or
started for the check).
  -h, --help          show this help`;

/** A wrong argument, named by its flag; exit code 2. */
class UsageError extends Error {}

interface DoctorCommand {
  readonly config: Config;
  readonly json: boolean;
  readonly strict: boolean;
  readonly machine: Machine;
  readonly machineGiven: boolean;
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };

export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(bytes >= 256 * 1024 ** 2)) throw new UsageError(`--memory: ${JSON.stringify(text)} must be a size of at least 256MiB, such as 16GiB`);
  return bytes;
}

function parseCommand(argv: string[], env: NodeJS.ProcessEnv): DoctorCommand | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      strict: { type: 'boolean' },
      memory: { type: 'string' },
      cores: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries((Object.values(OPTIONS) as OptionSpec[]).map((o) => [o.flag, { type: 'string' as const }])),
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const here = thisMachine();
  const memoryBytes = values.memory === undefined ? here.memoryBytes : parseMemory(values.memory);
  let cores = here.cores;
  if (values.cores !== undefined) {
    cores = /^\d+$/.test(values.cores) ? Number(values.cores) : NaN;
    if (!(cores >= 1 && cores <= 4096)) throw new UsageError(`--cores: ${JSON.stringify(values.cores)} must be a whole number from 1 to 4096`);
  }
  const given: Readonly<Record<string, unknown>> = values;
  const flags = Object.fromEntries((Object.values(OPTIONS) as OptionSpec[]).map((o) => [o.flag, given[o.flag] as string | undefined]));
  const file = values.config ?? env.OTLP_PG_CONFIG;
  const fromFile: FileValues | undefined = file ? { file, values: readConfigFile(file) } : undefined;
  return {
    config: loadConfig(flags, env, fromFile),
    json: values.json === true,
    strict: values.strict === true,
    machine: { ...here, memoryBytes, cores },
    machineGiven: values.memory !== undefined || values.cores !== undefined,
  };
}

export interface DoctorIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

const PROCESS_IO: DoctorIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

function print(io: DoctorIo, command: DoctorCommand, where: string, findings: readonly Finding[]): void {
  if (command.json) {
    io.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
    return;
  }
  io.stdout.write(`otlp-pg doctor: ${where}\n\n${renderTable(findings)}\n${summary(findings)}\n`);
}

/**
 * Without --database-url and with no PostgreSQL under --data-dir, there is nothing to check: the
 * doctor does not initialise a new cluster (which is what starting the embedded one would do).
 */
function noDatabase(config: Config): string | undefined {
  if (config.databaseUrl || existsSync(path.join(config.dataDir, 'pg', 'PG_VERSION'))) return undefined;
  return `no database to check: no --database-url (DATABASE_URL) and no embedded PostgreSQL under ${path.resolve(config.dataDir)} (--data-dir)`;
}

async function check(command: DoctorCommand, database: Database): Promise<Finding[]> {
  const client = new pg.Client({
    connectionString: database.url,
    application_name: 'otlp-pg doctor',
    connectionTimeoutMillis: 10_000,
    // Read-only catalog queries: bounded, and never queued for long behind DDL's locks.
    statement_timeout: 60_000,
    lock_timeout: 5_000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const migrations = await loadMigrations();
    const expected = expectedSchema(migrations);
    const facts = await gatherFacts(client, expected);
    const { config, machine, machineGiven } = command;
    const ctx = { machine, machineGiven, workers: workerCount(config), poolMax: config.poolMax, partitionDaysAhead: config.partitionDaysAhead, now: Date.now() };
    return diagnose(facts, expected, ctx, migrations.length);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `otlp-pg doctor …`: 0 when nothing failed, 1 when a check failed (or warned, with --strict), 2 for wrong arguments. */
export async function runDoctor(argv: string[], io: DoctorIo = PROCESS_IO): Promise<number> {
  let command: DoctorCommand | 'help';
  try {
    command = parseCommand(argv, io.env);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) throw err;
    io.stderr.write(`otlp-pg doctor: ${(err as Error).message}\n\nRun otlp-pg doctor --help for usage.\n`);
    return 2;
  }
  if (command === 'help') {
    io.stdout.write(`${DOCTOR_HELP}\n`);
    return 0;
  }
  const { config } = command;
  const missing = noDatabase(config);
  if (missing) {
    io.stderr.write(`otlp-pg doctor: ${missing}\n`);
    return 1;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'otlp-pg' } }, pino.destination(2));
  const where = config.databaseUrl ? redactUrl(config.databaseUrl) : `embedded PostgreSQL under ${config.dataDir}`;
  let database: Database | undefined;
  let findings: Finding[];
  try {
    database = await openReadDatabase(config, logger);
    findings = await check(command, database);
  } catch (err) {
    // Unreachable, refusing, or a query the server rejected: a finding too, so --json readers get one.
    const code = (err as { code?: string }).code;
    const value = code === undefined ? 'failed' : `failed (${code})`;
    findings = [{ check: 'database', verdict: 'fail', value, recommended: null, detail: `${where}: ${(err as Error).message}` }];
  } finally {
    await database?.stop();
  }
  print(io, command, where, findings);
  return exitCode(findings, command.strict);
}
