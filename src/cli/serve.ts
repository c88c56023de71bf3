import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { redactUrl, type Config, type Endpoint } from '../config/config.js';
import { openDatabase, prepareSchema, startMaintenance, startServer, type Database } from '../server.js';
import { databaseCheck, startTelemetryServer } from '../telemetry/server.js';

// `otlp-pg serve`: one process, or with --workers N a primary and N receiver processes sharing the
// OTLP ports (node:cluster), each with its own writers and pool. The primary owns what must exist
// once: the embedded PostgreSQL, migrations, maintenance, and /metrics aggregated over the workers.

/** Where a receiver listens, and whether it speaks TLS. */
interface Listening extends Endpoint {
  readonly scheme: 'http' | 'https';
}

/** Worker → primary: serving, on these addresses. */
interface ReadyMessage {
  readonly type: 'otlp-pg:ready';
  readonly grpc: Listening;
  readonly http: Listening;
}

const WORKER_DATABASE_URL = 'OTLP_PG_WORKER_DATABASE_URL';
/** How long a signal that comes during start-up waits for it to finish before the process exits anyway. */
const STARTUP_GRACE_MS = 10_000;
/** A worker dying sooner than this after its start is restarted after a pause, not at once. */
const CRASH_LOOP_MS = 5_000;

function banner(grpc: Listening, http: Listening, telemetry: Endpoint | undefined, database: Database, workers: number): string {
  const grpcAt = `${grpc.host}:${grpc.port}`;
  const httpAt = `${http.scheme}://${http.host}:${http.port}`;
  const url = database.embedded ? database.url : redactUrl(database.url);
  return [
    '',
    `otlp-pg is receiving OpenTelemetry data${workers > 1 ? ` (${workers} workers)` : ''}`,
    `  OTLP/gRPC  ${grpcAt}`,
    `  OTLP/HTTP  ${httpAt}  (POST /v1/traces, /v1/logs, /v1/metrics; protobuf or JSON)`,
    ...(telemetry ? [`  metrics    http://${telemetry.host}:${telemetry.port}/metrics  (and /healthz, /readyz)`] : []),
    '',
    'Point an OpenTelemetry SDK at it:',
    `  export OTEL_EXPORTER_OTLP_ENDPOINT=${httpAt}   OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`,
    `  (or for gRPC: OTEL_EXPORTER_OTLP_ENDPOINT=${grpc.scheme}://${grpcAt}  OTEL_EXPORTER_OTLP_PROTOCOL=grpc)`,
    '',
    'Query the data:',
    `  psql '${url}'`,
    '',
  ].join('\n');
}

/**
 * Takes SIGINT/SIGTERM before anything starts, so that a signal during start-up (say, while the
 * embedded PostgreSQL boots) does not kill the process by default and leave that database running,
 * and a signal just after the banner finds the handler in place. Call the returned function with
 * the way to stop once start-up is done: it stops at once if a signal has already come, then exits
 * with the outcome. It returns whether the process is still serving.
 */
function stopOnSignals(logger: Logger): (stop: () => Promise<void>) => boolean {
  let signalled: NodeJS.Signals | undefined;
  let stopServing: (() => Promise<void>) | undefined;
  let startupGrace: NodeJS.Timeout | undefined;
  const run = (stop: () => Promise<void>): void => {
    logger.info({ signal: signalled }, 'shutting down: no new requests, finishing those in flight');
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const handle = (signal: NodeJS.Signals): void => {
    // `npm start` forwards the terminal's SIGINT to us, which has sent it too: a repeated signal
    // must not cut the drain short. Shutdown is bounded by --shutdown-timeout anyway.
    if (signalled) return;
    signalled = signal;
    if (stopServing) {
      run(stopServing);
      return;
    }
    logger.info({ signal }, 'stopping once start-up is done');
    // A start-up that hangs (a database host that never answers) must not leave the signal
    // unanswered; exiting runs the exit hook that stops an embedded PostgreSQL.
    startupGrace = setTimeout(() => {
      logger.error(`start-up did not finish within ${STARTUP_GRACE_MS / 1000} s of the signal; exiting`);
      process.exit(1);
    }, STARTUP_GRACE_MS).unref();
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  return (stop) => {
    stopServing = stop;
    clearTimeout(startupGrace);
    if (signalled) run(stop);
    return signalled === undefined;
  };
}

/**
 * --workers 0: one receiver per core, or per two cores when PostgreSQL runs on this machine too
 * (embedded, or reached over loopback or a Unix socket). There it needs about as much CPU per row
 * as otlp-pg, and on 2 cores one worker stored 85–99 % of the rows/s of two, at 40–45 % of the
 * memory and half the p99 (bench, workers sweep, two full runs).
 */
export function workerCount(config: Config, cores = availableParallelism()): number {
  return config.workers !== 0 ? config.workers : defaultWorkers(config.databaseUrl, cores);
}

export function defaultWorkers(databaseUrl: string, cores = availableParallelism()): number {
  return databaseOnThisMachine(databaseUrl) ? Math.max(1, Math.floor(cores / 2)) : cores;
}

/** Whether the database URL (empty: the embedded one) points at this machine. */
export function databaseOnThisMachine(databaseUrl: string): boolean {
  if (!databaseUrl) return true;
  // ?host=/path is a Unix socket (and `postgresql://u@/db` is no WHATWG URL).
  const socket = /[?&]host=([^&]*)/.exec(databaseUrl)?.[1];
  if (socket !== undefined) return decodeURIComponent(socket).startsWith('/');
  let host: string;
  try {
    host = new URL(databaseUrl).hostname.replace(/^\[|\]$/g, '');
  } catch {
    // A keyword/value connection string: its host is not worth parsing for a default.
    return false;
  }
  return host === '' || host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function serve(config: Config, logger: Logger): Promise<void> {
  const started = stopOnSignals(logger);
  if (cluster.isWorker) return serveWorker(config, logger, started);
  const workers = workerCount(config);
  if (workers <= 1) return serveAlone(config, logger, started);
  return servePrimary(config, logger, workers, started);
}

type Started = ReturnType<typeof stopOnSignals>;

async function serveAlone(config: Config, logger: Logger, started: Started): Promise<void> {
  const server = await startServer(config, logger);
  if (started(() => server.shutdown())) process.stdout.write(banner(server.grpc, server.http, server.telemetry, server.database, 1));
}

async function serveWorker(config: Config, logger: Logger, started: Started): Promise<void> {
  const url = process.env[WORKER_DATABASE_URL];
  if (!url) throw new Error(`a --workers worker needs ${WORKER_DATABASE_URL} from its primary`);
  const server = await startServer(config, logger.child({ worker: cluster.worker?.id }), {
    database: { url, embedded: false, stop: async () => undefined },
    primary: false,
  });
  // The primary's /metrics asks each worker for this registry and adds them up; constructing an
  // AggregatorRegistry is what installs prom-client's listener for those requests in a worker.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([server.registry]);
  const ready: ReadyMessage = {
    type: 'otlp-pg:ready',
    grpc: { host: server.grpc.host, port: server.grpc.port, scheme: server.grpc.scheme },
    http: { host: server.http.host, port: server.http.port, scheme: server.http.scheme },
  };
  // Ready goes out even when a signal came during start-up: the primary, signalled too, then stops
  // the workers as stopping ones rather than replacing them as crashed.
  process.send?.(ready);
  started(() => server.shutdown());
}

async function servePrimary(config: Config, logger: Logger, count: number, serving: Started): Promise<void> {
  const database = await openDatabase(config, logger);
  try {
    logger.info({ database: database.embedded ? 'embedded' : redactUrl(database.url), workers: count }, 'database');
    await prepareSchema(database.url, config, logger);
  } catch (err) {
    await database.stop();
    throw err;
  }
  const pool = new pg.Pool({ connectionString: database.url, max: 1, application_name: 'otlp-pg maintenance' });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle maintenance connection lost'));
  const maintenance = startMaintenance(pool, config, logger);

  let stopping = false;
  const started = new Map<Worker, number>();
  const fork = (): void => {
    const worker = cluster.fork({ [WORKER_DATABASE_URL]: database.url });
    started.set(worker, Date.now());
  };
  // Supervision: a worker that dies is replaced; one that keeps dying at start is retried slowly.
  cluster.on('exit', (worker, code, signal) => {
    const bornAt = started.get(worker) ?? 0;
    started.delete(worker);
    if (stopping) return;
    const crashLoop = Date.now() - bornAt < CRASH_LOOP_MS;
    logger.error({ worker: worker.id, code, signal }, `worker died; starting another${crashLoop ? ' in 5 s' : ''}`);
    setTimeout(fork, crashLoop ? CRASH_LOOP_MS : 0);
  });

  const ready = new Promise<ReadyMessage>((resolve, reject) => {
    let first: ReadyMessage | undefined;
    let seen = 0;
    cluster.on('message', (_worker, message: ReadyMessage) => {
      if (message?.type !== 'otlp-pg:ready') return;
      first ??= message;
      if (++seen === count) resolve(first);
    });
    cluster.once('exit', (worker, code) => {
      if (seen < count) reject(new Error(`worker ${worker.id} exited with code ${code} before serving; see its log above`));
    });
  });
  for (let i = 0; i < count; i++) fork();

  const db = databaseCheck(database.url);
  const aggregator = new AggregatorRegistry();
  const telemetry = await startTelemetryServer({
    ...config.telemetryEndpoint,
    logger,
    metrics: async () => ({ contentType: aggregator.contentType, text: await aggregator.clusterMetrics() }),
    readiness: {
      database: db.check,
      workers: async () => (started.size < count ? `${started.size} of ${count} workers running` : undefined),
    },
  });

  const stopAll = async (): Promise<void> => {
    stopping = true;
    clearInterval(maintenance);
    const exits = [...started.keys()].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of started.keys()) w.process.kill('SIGTERM');
    // Each worker drains within --shutdown-timeout; past that and a grace second, it is killed.
    const kill = setTimeout(() => {
      for (const w of started.keys()) if (!w.isDead()) w.process.kill('SIGKILL');
    }, config.shutdownTimeoutMs + 2_000);
    await Promise.all(exits);
    clearTimeout(kill);
    await telemetry.close();
    await db.close();
    await pool.end();
    await database.stop();
  };

  let first: ReadyMessage;
  try {
    first = await ready;
  } catch (err) {
    await stopAll();
    throw err;
  }
  if (serving(stopAll)) process.stdout.write(banner(first.grpc, first.http, telemetry, database, count));
}
