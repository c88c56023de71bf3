import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { redactUrl } from './config/config.js';
import { startEmbedded, type EmbeddedDatabase } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { ensurePartitions } from './db/partitions.js';
import { Pipeline } from './pipeline/exporter.js';
import { WriterPool } from './pipeline/writer-pool.js';
import { startGrpcReceiver, startHttpReceiver, type Receiver } from './receiver/index.js';
import { signalStages } from './signals.js';

export interface Database {
  readonly url: string;
  /** True when otlp-pg started this PostgreSQL itself (and so may print its password). */
  readonly embedded: boolean;
  stop(): Promise<void>;
}

export interface RunningServer {
  readonly grpc: Receiver;
  readonly http: Receiver;
  readonly database: Database;
  readonly pipeline: Pipeline;
  /** Stops accepting, commits or refuses what is in flight, closes the pool and the embedded database. */
  shutdown(): Promise<void>;
}

const RETRY_AFTER_MS = 5_000;
const PARTITION_CHECK_MS = 3_600_000;

/** Connects to `--database-url`, or starts the embedded PostgreSQL when none is given. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, embedded: false, stop: async () => undefined };
  }
  const db: EmbeddedDatabase = await startEmbedded({ dataDir: config.dataDir, port: config.embeddedPort, logger });
  return { url: db.url, embedded: true, stop: () => db.stop() };
}

/** Applies pending migrations and creates the partitions ahead; safe to run from several processes. */
export async function prepareSchema(url: string, config: Config, logger: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const applied = await migrate(client);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const report = await ensurePartitions(client, config.partitionDaysAhead);
    if (report.created.length > 0) logger.info({ created: report.created.length }, 'partitions created');
    if (report.blocked.length > 0) logger.warn({ blocked: report.blocked }, 'partitions not created: their days already have rows in a DEFAULT partition');
  } finally {
    await client.end();
  }
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const database = await openDatabase(config, logger);
  try {
    logger.info({ database: database.embedded ? 'embedded' : redactUrl(database.url) }, 'database');
    await prepareSchema(database.url, config, logger);
  } catch (err) {
    await database.stop();
    throw err;
  }

  const pool = new pg.Pool({
    connectionString: database.url,
    // One connection per writer, plus one for maintenance.
    max: config.writers + 1,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'otlp-pg',
  });
  // An idle connection whose server went away emits 'error' on the pool; without a listener
  // that would crash the process. The next checkout opens a fresh connection.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle database connection lost'));

  const writers = new WriterPool(pool, {
    concurrency: config.writers,
    statementTimeoutMs: config.writeTimeoutMs,
    retryAfterMs: RETRY_AFTER_MS,
    logger,
  });
  const pipeline = new Pipeline(signalStages(config), writers, {
    flushIntervalMs: config.flushIntervalMs,
    maxInflightBytes: config.maxInflightBytes,
    retryAfterMs: RETRY_AFTER_MS,
  });

  const maintenance = setInterval(() => {
    pool
      .connect()
      .then(async (client) => {
        try {
          await ensurePartitions(client, config.partitionDaysAhead);
        } finally {
          client.release();
        }
      })
      .catch((err: Error) => logger.warn({ err: err.message }, 'partition maintenance failed; will retry'));
  }, PARTITION_CHECK_MS);
  maintenance.unref();

  const receiverOptions = { maxRequestBytes: config.maxRequestBytes, exporter: pipeline, logger };
  let grpc: Receiver | undefined;
  let http: Receiver | undefined;
  try {
    grpc = await startGrpcReceiver({ ...config.grpcEndpoint, ...receiverOptions });
    http = await startHttpReceiver({ ...config.httpEndpoint, ...receiverOptions });
  } catch (err) {
    clearInterval(maintenance);
    await grpc?.shutdown(0);
    await pool.end();
    await database.stop();
    throw err;
  }

  const grpcReceiver = grpc;
  const httpReceiver = http;
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      clearInterval(maintenance);
      const deadline = config.shutdownTimeoutMs;
      const [drained] = await Promise.all([
        pipeline.drain(deadline),
        grpcReceiver.shutdown(deadline),
        httpReceiver.shutdown(deadline),
      ]);
      if (!drained) logger.warn('shutdown deadline passed with batches still being written; they are answered retryable');
      await pool.end();
      await database.stop();
    })());

  return { grpc: grpcReceiver, http: httpReceiver, database, pipeline, shutdown };
}
