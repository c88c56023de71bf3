// Every setting otlp-pg has, in one table: its flag, its environment twin, its default and why.
// `--help`, parsing and validation are all generated from this table, so a setting cannot exist in
// one place and be missing from another (cf. node-postgres lib/defaults.js).

export type OptionType = 'string' | 'endpoint' | 'integer' | 'bytes' | 'duration' | 'level' | 'boolean' | 'list';

export interface OptionSpec {
  readonly flag: string;
  readonly env: string;
  readonly type: OptionType;
  readonly default: string;
  readonly help: string;
  /** Inclusive bounds for numeric types. */
  readonly min?: number;
  readonly max?: number;
  /** Values are never printed (logs, errors, --help shows only whether it is set). */
  readonly secret?: boolean;
}

const MiB = 1024 * 1024;

export const OPTIONS = {
  databaseUrl: {
    flag: 'database-url',
    env: 'DATABASE_URL',
    type: 'string',
    default: '',
    secret: true,
    help: 'PostgreSQL connection URL; empty runs an embedded PostgreSQL under --data-dir',
  },
  dataDir: {
    flag: 'data-dir',
    env: 'OTLP_PG_DATA_DIR',
    type: 'string',
    default: '.data',
    help: 'where the embedded PostgreSQL keeps its files',
  },
  embeddedPort: {
    flag: 'embedded-port',
    env: 'OTLP_PG_EMBEDDED_PORT',
    type: 'integer',
    default: '55432',
    min: 1,
    max: 65535,
    help: 'port of the embedded PostgreSQL (loopback only)',
  },
  grpcEndpoint: {
    flag: 'grpc-endpoint',
    env: 'OTLP_PG_GRPC_ENDPOINT',
    type: 'endpoint',
    default: '127.0.0.1:4317',
    help: 'host:port for OTLP/gRPC',
  },
  httpEndpoint: {
    flag: 'http-endpoint',
    env: 'OTLP_PG_HTTP_ENDPOINT',
    type: 'endpoint',
    default: '127.0.0.1:4318',
    help: 'host:port for OTLP/HTTP (protobuf and JSON)',
  },
  telemetryEndpoint: {
    flag: 'telemetry-endpoint',
    env: 'OTLP_PG_TELEMETRY_ENDPOINT',
    type: 'endpoint',
    default: '127.0.0.1:8888',
    help: 'host:port for /metrics (Prometheus), /healthz and /readyz',
  },
  workers: {
    flag: 'workers',
    env: 'OTLP_PG_WORKERS',
    type: 'integer',
    default: '0',
    min: 0,
    max: 256,
    help: 'receiver processes sharing the OTLP ports, each with its own writers and pool (0: one per core; one per two cores when PostgreSQL runs on this machine)',
  },
  tlsCert: {
    flag: 'tls-cert',
    env: 'OTLP_PG_TLS_CERT',
    type: 'string',
    default: '',
    help: 'PEM certificate chain file: serve OTLP over TLS (gRPC and HTTP); needs --tls-key',
  },
  tlsKey: {
    flag: 'tls-key',
    env: 'OTLP_PG_TLS_KEY',
    type: 'string',
    default: '',
    help: 'PEM private key file for --tls-cert',
  },
  tlsClientCa: {
    flag: 'tls-client-ca',
    env: 'OTLP_PG_TLS_CLIENT_CA',
    type: 'string',
    default: '',
    help: 'PEM CA file: require client certificates signed by it (mutual TLS)',
  },
  authTokens: {
    flag: 'auth-token',
    env: 'OTLP_PG_AUTH_TOKEN',
    type: 'list',
    default: '',
    secret: true,
    help: 'comma-separated bearer tokens: OTLP requests must send "Authorization: Bearer <token>" (empty: no authentication)',
  },
  retentionTracesMs: {
    flag: 'retention-traces',
    env: 'OTLP_PG_RETENTION_TRACES',
    type: 'duration',
    default: '0',
    min: 0,
    help: 'drop trace partitions older than this, e.g. 7d (0: keep forever)',
  },
  retentionLogsMs: {
    flag: 'retention-logs',
    env: 'OTLP_PG_RETENTION_LOGS',
    type: 'duration',
    default: '0',
    min: 0,
    help: 'drop log partitions older than this, e.g. 7d (0: keep forever)',
  },
  retentionMetricsMs: {
    flag: 'retention-metrics',
    env: 'OTLP_PG_RETENTION_METRICS',
    type: 'duration',
    default: '0',
    min: 0,
    help: 'drop metric data point partitions older than this, e.g. 30d (0: keep forever)',
  },
  maxRequestBytes: {
    flag: 'max-request-bytes',
    env: 'OTLP_PG_MAX_REQUEST_BYTES',
    type: 'bytes',
    default: String(64 * MiB),
    min: 1024,
    max: 1024 * MiB,
    help: 'largest request accepted, checked while reading and after decompression (HTTP 413, gRPC RESOURCE_EXHAUSTED)',
  },
  maxInflightBytes: {
    flag: 'max-inflight-bytes',
    env: 'OTLP_PG_MAX_INFLIGHT_BYTES',
    type: 'bytes',
    default: String(64 * MiB),
    min: 1024,
    help: 'request bytes held between receipt and commit; beyond it requests are refused as retryable',
  },
  maxInflightRequests: {
    flag: 'max-inflight-requests',
    env: 'OTLP_PG_MAX_INFLIGHT_REQUESTS',
    type: 'integer',
    default: '10000',
    min: 1,
    help: 'requests held between receipt and commit; beyond it requests are refused as retryable',
  },
  requestTimeoutMs: {
    flag: 'request-timeout',
    env: 'OTLP_PG_REQUEST_TIMEOUT',
    type: 'duration',
    default: '10000',
    min: 10,
    help: 'a request not committed by then is answered retryable, in ms (its rows may still commit; see --dedupe)',
  },
  dedupe: {
    flag: 'dedupe',
    env: 'OTLP_PG_DEDUPE',
    type: 'boolean',
    default: 'true',
    help: 'record each committed request\'s digest so that a retry of it (answer lost) is not stored twice',
  },
  dedupeWindowMs: {
    flag: 'dedupe-window',
    env: 'OTLP_PG_DEDUPE_WINDOW',
    type: 'duration',
    default: '1h',
    min: 1000,
    help: 'how long request digests are kept: a retry arriving later is stored again',
  },
  batchSpans: {
    flag: 'batch-spans',
    env: 'OTLP_PG_BATCH_SPANS',
    type: 'integer',
    default: '2000',
    min: 1,
    max: 1_000_000,
    help: 'spans per COPY batch (a batch flushes when it reaches this or the flush interval)',
  },
  batchLogs: {
    flag: 'batch-logs',
    env: 'OTLP_PG_BATCH_LOGS',
    type: 'integer',
    default: '1000',
    min: 1,
    max: 1_000_000,
    help: 'log records per COPY batch',
  },
  batchPoints: {
    flag: 'batch-points',
    env: 'OTLP_PG_BATCH_POINTS',
    type: 'integer',
    default: '5000',
    min: 1,
    max: 1_000_000,
    help: 'metric data points per COPY batch',
  },
  flushIntervalMs: {
    flag: 'flush-interval',
    env: 'OTLP_PG_FLUSH_INTERVAL',
    type: 'duration',
    default: '200',
    min: 1,
    max: 60_000,
    help: 'longest a request waits for its batch to fill, in ms',
  },
  writers: {
    flag: 'writers',
    env: 'OTLP_PG_WRITERS',
    type: 'integer',
    default: '2',
    min: 1,
    max: 256,
    help: 'concurrent COPY writers, each on its own pool connection (at most --pool-max)',
  },
  poolMax: {
    flag: 'pool-max',
    env: 'OTLP_PG_POOL_MAX',
    type: 'integer',
    default: '5',
    min: 1,
    max: 1000,
    help: 'most database connections (writers, plus maintenance and readiness checks)',
  },
  poolMin: {
    flag: 'pool-min',
    env: 'OTLP_PG_POOL_MIN',
    type: 'integer',
    default: '0',
    min: 0,
    max: 1000,
    help: 'idle connections the pool keeps open instead of closing them after --pool-idle-timeout',
  },
  poolAcquireTimeoutMs: {
    flag: 'pool-acquire-timeout',
    env: 'OTLP_PG_POOL_ACQUIRE_TIMEOUT',
    type: 'duration',
    default: '10000',
    min: 10,
    help: 'longest wait for a connection (opening one included), in ms; past it the batch is answered retryable',
  },
  poolIdleTimeoutMs: {
    flag: 'pool-idle-timeout',
    env: 'OTLP_PG_POOL_IDLE_TIMEOUT',
    type: 'duration',
    default: '30000',
    min: 0,
    help: 'an idle connection is closed after this, in ms (0: never)',
  },
  poolMaxLifetimeMs: {
    flag: 'pool-max-lifetime',
    env: 'OTLP_PG_POOL_MAX_LIFETIME',
    type: 'duration',
    default: '30m',
    min: 0,
    help: 'a connection is replaced after this long, in ms (0: never); spreads load after a failover',
  },
  statementTimeoutMs: {
    flag: 'statement-timeout',
    env: 'OTLP_PG_STATEMENT_TIMEOUT',
    type: 'duration',
    default: '30000',
    min: 100,
    help: 'statement timeout inside a batch transaction, in ms; past it the batch is answered retryable',
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout',
    env: 'OTLP_PG_SHUTDOWN_TIMEOUT',
    type: 'duration',
    default: '15000',
    min: 0,
    help: 'on SIGTERM/SIGINT, how long in-flight requests get to commit before they are refused, in ms',
  },
  partitionDaysAhead: {
    flag: 'partition-days-ahead',
    env: 'OTLP_PG_PARTITION_DAYS_AHEAD',
    type: 'integer',
    default: '3',
    min: 1,
    max: 366,
    help: 'daily partitions created ahead of today (checked at start and every 10 minutes)',
  },
  logLevel: {
    flag: 'log-level',
    env: 'OTLP_PG_LOG_LEVEL',
    type: 'level',
    default: 'info',
    help: 'fatal | error | warn | info | debug | trace | silent',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;
