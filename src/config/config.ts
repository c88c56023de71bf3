import { OPTIONS, type OptionKey, type OptionSpec } from './options.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface Config {
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly embeddedPort: number;
  readonly grpcEndpoint: Endpoint;
  readonly httpEndpoint: Endpoint;
  readonly telemetryEndpoint: Endpoint;
  readonly workers: number;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly tlsClientCa: string;
  readonly authTokens: readonly string[];
  readonly retentionTracesMs: number;
  readonly retentionLogsMs: number;
  readonly retentionMetricsMs: number;
  readonly maxRequestBytes: number;
  readonly maxInflightBytes: number;
  readonly maxInflightRequests: number;
  readonly maxQueueDelayMs: number;
  readonly requestTimeoutMs: number;
  readonly dedupe: boolean;
  readonly dedupeWindowMs: number;
  readonly batchSpans: number;
  readonly batchLogs: number;
  readonly batchPoints: number;
  readonly flushIntervalMs: number;
  readonly summaryIntervalMs: number;
  readonly summaryBatchParts: number;
  readonly writers: number;
  readonly poolMax: number;
  readonly poolMin: number;
  readonly poolAcquireTimeoutMs: number;
  readonly poolIdleTimeoutMs: number;
  readonly poolMaxLifetimeMs: number;
  readonly statementTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly partitionDaysAhead: number;
  readonly logLevel: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly violations: readonly string[]) {
    super(`invalid configuration:\n  ${violations.join('\n  ')}`);
  }
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1e3, mb: 1e6, gb: 1e9 };
const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

type Parsed = string | number | boolean | Endpoint | readonly string[];

/** A value that failed validation, and why. */
interface Invalid {
  readonly problems: readonly string[];
}

const invalid = (...problems: string[]): Invalid => ({ problems });
const isInvalid = (v: Parsed | Invalid): v is Invalid => typeof v === 'object' && v !== null && 'problems' in v;

function parseValue(spec: OptionSpec, raw: string): Parsed | Invalid {
  const inRange = (n: number): number | Invalid => {
    if (spec.min !== undefined && n < spec.min) return invalid(`must be at least ${spec.min}`);
    if (spec.max !== undefined && n > spec.max) return invalid(`must be at most ${spec.max}`);
    return n;
  };
  switch (spec.type) {
    case 'string':
      return raw;
    case 'list':
      return raw === '' ? [] : raw.split(',').map((v) => v.trim()).filter((v) => v !== '');
    case 'boolean': {
      const v = raw.toLowerCase();
      if (['true', '1', 'on', 'yes'].includes(v)) return true;
      if (['false', '0', 'off', 'no'].includes(v)) return false;
      return invalid('must be true or false');
    }
    case 'level':
      return LEVELS.has(raw) ? raw : invalid(`must be one of ${[...LEVELS].join(', ')}`);
    case 'integer': {
      if (!/^\d+$/.test(raw)) return invalid('must be a whole number');
      return inRange(Number(raw));
    }
    case 'bytes': {
      const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
      const unit = m ? BYTE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
      if (!m || unit === undefined) return invalid('must be a size such as 65536, 64MiB or 1GiB');
      return inRange(Math.floor(Number(m[1]) * unit));
    }
    case 'duration': {
      const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(raw);
      const unit = m ? DURATION_UNITS[m[2] ?? ''] : undefined;
      if (!m || unit === undefined) return invalid('must be a duration in ms, or with a unit: 500ms, 5s, 1m, 1h, 7d');
      return inRange(Math.round(Number(m[1]) * unit));
    }
    case 'endpoint': {
      const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(raw);
      const port = m ? Number(m[2]) : NaN;
      if (!m || !(port >= 0 && port <= 65535)) return invalid('must be host:port, e.g. 127.0.0.1:4317');
      return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
    }
  }
}

/** Values from a configuration file, by flag name, and the file they came from. */
export interface FileValues {
  readonly file: string;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * Builds the frozen configuration from flags (highest precedence), then environment, then the
 * configuration file, then defaults. Every violation is reported at once, named by its flag and by
 * where the value came from.
 */
export function loadConfig(flags: Readonly<Record<string, string | undefined>>, env: NodeJS.ProcessEnv, file?: FileValues): Config {
  const violations: string[] = [];
  const out: Record<string, Parsed> = {};
  for (const [key, spec] of Object.entries(OPTIONS) as [OptionKey, OptionSpec][]) {
    const fromFlag = flags[spec.flag];
    const fromEnv = env[spec.env] === '' ? undefined : env[spec.env];
    const fromFile = file?.values[spec.flag];
    const raw = fromFlag ?? fromEnv ?? fromFile ?? spec.default;
    const source =
      fromFlag !== undefined
        ? `--${spec.flag}`
        : fromEnv !== undefined
          ? `${spec.env} (--${spec.flag})`
          : fromFile !== undefined
            ? `${spec.flag} (in ${file?.file})`
            : `--${spec.flag}`;
    const parsed = parseValue(spec, raw.trim());
    if (isInvalid(parsed)) {
      const shown = spec.secret ? '(redacted)' : JSON.stringify(raw);
      violations.push(`${source}: ${shown} ${parsed.problems.join('; ')}`);
    } else {
      out[key] = parsed;
    }
  }
  // Rules across keys, once each key is valid on its own.
  if (violations.length === 0) {
    if ((out.writers as number) > (out.poolMax as number)) {
      violations.push(`--writers: ${out.writers} is more than --pool-max (${out.poolMax}): each writer needs its own connection`);
    }
    if ((out.poolMin as number) > (out.poolMax as number)) {
      violations.push(`--pool-min: ${out.poolMin} is more than --pool-max (${out.poolMax})`);
    }
    if ((out.tlsCert === '') !== (out.tlsKey === '')) violations.push('--tls-cert and --tls-key: give both, or neither');
    if (out.tlsClientCa !== '' && out.tlsCert === '') violations.push('--tls-client-ca: needs --tls-cert and --tls-key');
  }
  if (violations.length > 0) throw new ConfigError(violations);
  return deepFreeze(out) as unknown as Config;
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const v of Object.values(value)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(value);
}

/** The connection URL with its password replaced, safe for logs and terminals. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '*****';
    return u.toString();
  } catch {
    return '(unparseable URL, redacted)';
  }
}

/** `--help` text, generated from the option table. */
export function helpText(): string {
  const lines = [
    'Usage: otlp-pg [serve|migrate] [options]   |   otlp-pg export|doctor|loadgen [their options]',
    '',
    'Commands:',
    '  serve     receive OTLP over gRPC and HTTP and store it in PostgreSQL (default)',
    '  migrate   apply pending database migrations and exit',
    '  export    read stored telemetry back as OTLP/JSON requests (otlp-pg export --help)',
    '  doctor    check a database against what otlp-pg needs (otlp-pg doctor --help)',
    '  loadgen   send OTLP load to any endpoint (otlp-pg loadgen --help)',
    '',
    'Options (each also read from the environment variable shown, and from --config):',
    '  --config <file>  [OTLP_PG_CONFIG]',
    '      YAML file of options by flag name (e.g. "writers: 4"); flags win over the environment, which wins over the file',
  ];
  for (const spec of Object.values(OPTIONS) as OptionSpec[]) {
    const def = spec.secret ? '' : ` (default: ${spec.default === '' ? '""' : spec.default})`;
    lines.push(`  --${spec.flag} <${spec.type}>  [${spec.env}]`, `      ${spec.help}${def}`);
  }
  lines.push('  -h, --help', '      show this help');
  return lines.join('\n');
}
