import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { redactUrl } from './config/config.js';
import { startEmbedded } from './db/embedded.js';
import { HeadMemo } from './decode/index.js';
import { migrate } from './db/migrate.js';
import { withPoolClient } from './db/pool-client.js';
import { logMaintenance, maintainPartitions } from './db/retention.js';
import { Pipeline } from './pipeline/exporter.js';
import { WriterPool } from './pipeline/writer-pool.js';
import { startGrpcReceiver, startHttpReceiver, type Receiver } from './receiver/index.js';
import { signalStages } from './signals.js';
import type { Registry } from 'prom-client';
import { createTelemetry } from './telemetry/metrics.js';
import { databaseCheck, startTelemetryServer, type TelemetryServer } from './telemetry/server.js';
import { pruneRequestKeys } from './write/request-keys.js';
import { startTraceSummaryFolder } from './write/trace-summaries.js';

export interface Database {
  readonly url: string;
  /** True when otlp-pg started this PostgreSQL itself (and so may print its password). */
  readonly embedded: boolean;
  stop(): Promise<void>;
}

export interface RunningServer {
  readonly grpc: Receiver;
  readonly http: Receiver;
  /** The /metrics, /healthz, /readyz server; absent in a --workers worker (the primary serves them). */
  readonly telemetry: TelemetryServer | undefined;
  /** This process's metrics (a --workers primary aggregates its workers' registries). */
  readonly registry: Registry;
  readonly database: Database;
  readonly pipeline: Pipeline;
  /** Stops accepting, commits or refuses what is in flight, closes the pool and the embedded database. */
  shutdown(): Promise<void>;
}

const RETRY_AFTER_MS = 5_000;
const MAINTENANCE_MS = 10 * 60_000;
/** /readyz reports saturated past this share of the in-flight bound. */
const SATURATED = 0.9;

/** Connects to `--database-url`, or starts the embedded PostgreSQL when none is given. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, embedded: false, stop: async () => undefined };
  }
  const db = await startEmbedded({ dataDir: config.dataDir, port: config.embeddedPort, logger });
  return { url: db.url, embedded: true, stop: () => db.stop() };
}

/**
 * Applies pending migrations (a failure stops the start), then runs maintenance once (a failure is
 * logged: the DEFAULT partitions take any row meanwhile, and the next run retries). Safe to run from
 * several processes at once.
 */
export async function prepareSchema(url: string, config: Config, logger: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const applied = await migrate(client);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    await maintain(client, config, logger).catch((err: Error) =>
      logger.warn({ err: err.message }, 'maintenance at start failed; it runs again in 10 minutes'),
    );
  } finally {
    await client.end();
  }
}

/**
 * Partitions: created ahead, days blocked by DEFAULT rows unblocked, expired ones dropped
 * (src/db/retention.ts); and request digests past the dedupe window forgotten.
 */
async function maintain(client: pg.ClientBase, config: Config, logger: Logger): Promise<void> {
  const report = await maintainPartitions(client, {
    daysAhead: config.partitionDaysAhead,
    retentionMs: { traces: config.retentionTracesMs, logs: config.retentionLogsMs, metrics: config.retentionMetricsMs },
  });
  logMaintenance(logger, report);
  const pruned = await pruneRequestKeys(client, config.dedupeWindowMs);
  if (pruned > 0) logger.debug({ pruned }, 'request digests past the dedupe window pruned');
}

/** Partitions ahead and digest pruning, every MAINTENANCE_MS, on a pooled connection. */
export function startMaintenance(pool: pg.Pool, config: Config, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    withPoolClient(pool, (client) => maintain(client, config, logger)).catch((err: Error) =>
      logger.warn({ err: err.message }, 'maintenance failed; will retry'),
    );
  }, MAINTENANCE_MS);
  timer.unref();
  return timer;
}

/** How a --workers worker differs from a process serving alone. */
export interface StartOptions {
  /** The database to use, already opened and prepared (by the primary). */
  readonly database?: Database;
  /** Serve /metrics, /healthz, /readyz, and run maintenance (the primary does both for workers). */
  readonly primary?: boolean;
}

export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const primary = options.primary ?? true;
  const database = options.database ?? (await openDatabase(config, logger));
  if (!options.database) {
    try {
      logger.info({ database: database.embedded ? 'embedded' : redactUrl(database.url) }, 'database');
      await prepareSchema(database.url, config, logger);
    } catch (err) {
      await database.stop();
      throw err;
    }
  }

  const pool = new pg.Pool({
    connectionString: database.url,
    max: config.poolMax,
    min: config.poolMin,
    connectionTimeoutMillis: config.poolAcquireTimeoutMs,
    idleTimeoutMillis: config.poolIdleTimeoutMs,
    maxLifetimeSeconds: Math.ceil(config.poolMaxLifetimeMs / 1000),
    application_name: 'otlp-pg',
  });
  // An idle connection whose server went away emits 'error' on the pool; without a listener
  // that would crash the process. The next checkout opens a fresh connection.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle database connection lost'));

  // Gauges read at scrape time; `pipeline` and `writers` exist by the time anything scrapes.
  let pipeline: Pipeline | undefined;
  let writers: WriterPool | undefined;
  const telemetry = createTelemetry({
    inflightBytes: () => pipeline?.admission.bytesInFlight ?? 0,
    inflightBytesCapacity: () => config.maxInflightBytes,
    inflightRequests: () => pipeline?.admission.requestsInFlight ?? 0,
    queueDelaySeconds: () => (pipeline?.admission.queueDelayMs() ?? 0) / 1000,
    commitBytesPerSecond: () => pipeline?.admission.commitBytesPerSecond ?? 0,
    queueSize: () => writers?.busy ?? 0,
    queueCapacity: () => config.writers,
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: config.poolMax }),
    batchers: () => pipeline?.buffered() ?? [],
  });
  writers = new WriterPool(pool, {
    concurrency: config.writers,
    statementTimeoutMs: config.statementTimeoutMs,
    retryAfterMs: RETRY_AFTER_MS,
    logger,
    telemetry,
    onCommitted: (bytes, seconds, saturated) => pipeline?.admission.committed(bytes, seconds, saturated),
  });
  const running = new Pipeline(
    signalStages(config),
    writers,
    {
      flushIntervalMs: config.flushIntervalMs,
      maxInflightBytes: config.maxInflightBytes,
      maxInflightRequests: config.maxInflightRequests,
      maxQueueDelayMs: config.maxQueueDelayMs,
      writers: config.writers,
      requestTimeoutMs: config.requestTimeoutMs,
      dedupe: config.dedupe,
      retryAfterMs: RETRY_AFTER_MS,
    },
    telemetry,
    telemetry.admissionRefused,
  );
  pipeline = running;

  const maintenance = primary ? startMaintenance(pool, config, logger) : undefined;
  // In every serving process, workers included: the fold's lock keeps it to one at a time.
  const folder = startTraceSummaryFolder({
    databaseUrl: database.url,
    idleTimeoutMs: config.poolIdleTimeoutMs,
    intervalMs: config.summaryIntervalMs,
    maxParts: config.summaryBatchParts,
    logger,
    telemetry,
  });

  const db = databaseCheck(database.url);
  const receiverOptions = { heads: new HeadMemo(), maxRequestBytes: config.maxRequestBytes, exporter: running, logger, onAnswer: telemetry.requestAnswered, authTokens: config.authTokens, tls: config.tlsCert === '' ? undefined : { certFile: config.tlsCert, keyFile: config.tlsKey, clientCaFile: config.tlsClientCa === '' ? undefined : config.tlsClientCa } };
  const started: { grpc?: Receiver; http?: Receiver; telemetry?: TelemetryServer } = {};
  try {
    if (primary) started.telemetry = await startTelemetryServer({
      ...config.telemetryEndpoint,
      metrics: async () => ({ contentType: telemetry.registry.contentType, text: await telemetry.registry.metrics() }),
      logger,
      readiness: {
        database: db.check,
        migrations: db.migrations,
        capacity: async () =>
          running.admission.bytesInFlight > SATURATED * config.maxInflightBytes ? 'saturated: in-flight bytes near --max-inflight-bytes' : undefined,
      },
    });
    started.grpc = await startGrpcReceiver({ ...config.grpcEndpoint, ...receiverOptions });
    started.http = await startHttpReceiver({ ...config.httpEndpoint, ...receiverOptions });
  } catch (err) {
    clearInterval(maintenance);
    await folder.stop();
    await started.grpc?.shutdown(0);
    await started.telemetry?.close();
    await db.close();
    await pool.end();
    await database.stop();
    throw err;
  }

  const { grpc, http, telemetry: telemetryServer } = started as Required<Pick<typeof started, 'grpc' | 'http'>> & typeof started;
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      clearInterval(maintenance);
      const deadline = config.shutdownTimeoutMs;
      // Receivers stop accepting at once and wait for their requests' answers, which come when the
      // pipeline has committed or refused them; the extra second lets those answers go out.
      const [drained] = await Promise.all([running.drain(deadline), grpc.shutdown(deadline + 1000), http.shutdown(deadline + 1000)]);
      if (!drained) logger.warn('shutdown deadline passed: requests not yet committed were answered retryable');
      // What the drained batches committed is folded before the pool closes.
      await folder.stop();
      await telemetryServer?.close();
      await db.close();
      await pool.end();
      await database.stop();
    })());

  return { grpc, http, telemetry: telemetryServer, registry: telemetry.registry, database, pipeline: running, shutdown };
}
