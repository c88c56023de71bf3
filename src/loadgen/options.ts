import { parseArgs } from 'node:util';
import type { Signal } from '../decode/types.js';
import { fanInProblem, type RequestShape } from './build-requests.js';

export type LoadProtocol = 'grpc' | 'http/protobuf';

export interface LoadgenOptions extends RequestShape {
  readonly protocol: LoadProtocol;
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM of a CA to trust for TLS endpoints, besides the system's. */
  readonly ca: string;
  readonly gzip: boolean;
  /** Relative share of requests per signal. */
  readonly weights: Readonly<Partial<Record<Signal, number>>>;
  readonly concurrency: number;
  readonly connections: number;
  /** Target items per second; 0 is flat out. */
  readonly rate: number;
  readonly durationMs: number;
  readonly requests: number;
  readonly timeoutMs: number;
  /** A request refused as retryable is sent again after the server's hint. */
  readonly backoff: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
  /** How often the live line on stderr is refreshed. */
  readonly progressMs: number;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];
const DEFAULT_ENDPOINT: Readonly<Record<LoadProtocol, string>> = { grpc: '127.0.0.1:4317', 'http/protobuf': 'http://127.0.0.1:4318' };

// The flag table: --help is generated from it, so a flag cannot exist undocumented.
const FLAGS = {
  protocol: { type: 'string', default: 'grpc', help: 'grpc | http/protobuf' },
  endpoint: { type: 'string', default: '', help: 'grpc: host:port (https:// for TLS); http: base URL (default: the local otlp-pg ports)' },
  header: { type: 'string', multiple: true, default: '', help: 'key=value sent with every request (repeatable), e.g. an API key' },
  ca: { type: 'string', default: '', help: 'PEM file of the CA that signed the endpoint\'s certificate (TLS with a private CA)' },
  gzip: { type: 'boolean', default: 'false', help: 'compress requests (gRPC message compression, HTTP Content-Encoding)' },
  signals: { type: 'string', default: 'traces,logs,metrics', help: 'signal mix with optional weights, e.g. traces=3,logs=1' },
  spans: { type: 'string', default: '100', help: 'spans per traces request' },
  'spans-per-trace': { type: 'string', default: '10', help: 'spans per trace (a root SERVER span and its children)' },
  logs: { type: 'string', default: '100', help: 'log records per logs request' },
  'logs-per-resource': { type: 'string', default: '0', help: 'log records under each resource (another instance of the service) of a logs request; 0: all under one' },
  points: { type: 'string', default: '100', help: 'data points per metrics request (histogram, counter, gauge, up-down counter)' },
  'new-series': { type: 'boolean', default: 'false', help: 'every metrics request names metric streams never seen before, one per data point' },
  attributes: { type: 'string', default: '10', help: 'attributes on each span, log record and data point' },
  'attribute-size': { type: 'string', default: '16', help: 'characters in each generated string attribute value' },
  services: { type: 'string', default: '5', help: 'distinct services (resources); one prebuilt request per signal and service' },
  'fan-in': {
    type: 'string',
    default: '0',
    help: 'services each trace spans (0: off); each traces request then holds one service\'s spans of many traces, so a trace arrives in this many requests',
  },
  'error-ratio': { type: 'string', default: '0.02', help: 'share of traces and log records that are errors' },
  seed: { type: 'string', default: '1', help: 'random seed: the same seed builds the same requests' },
  concurrency: { type: 'string', default: '128', help: 'requests in flight at most' },
  connections: { type: 'string', default: '4', help: 'gRPC connections, spread over the endpoint\'s processes (HTTP opens one per request in flight)' },
  rate: { type: 'string', default: '0', help: 'target items (spans + log records + data points) per second, latency counted from each request\'s due time; 0 is flat out' },
  duration: { type: 'string', default: '10s', help: 'how long to send: 500ms, 30s, 5m (a bare number is seconds); 0 with --requests' },
  requests: { type: 'string', default: '0', help: 'stop after this many requests (0: no limit)' },
  timeout: { type: 'string', default: '30s', help: 'deadline of each request' },
  backoff: {
    type: 'boolean',
    default: 'false',
    help: 'a request refused as retryable is sent again after the server\'s hint (Retry-After, RetryInfo; 1 s without one, ±50 %), as SDKs do; each attempt is counted',
  },
  json: { type: 'boolean', default: 'false', help: 'print the final summary as JSON on stdout' },
  quiet: { type: 'boolean', default: 'false', help: 'no live progress line on stderr' },
  help: { type: 'boolean', default: 'false', help: 'show this help' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; default: string; help: string; multiple?: boolean }>;

export function loadgenHelp(): string {
  const lines = [
    'Usage: otlp-pg loadgen [options]',
    '',
    'Sends OTLP requests built with the OpenTelemetry JS SDK to any OTLP endpoint, flat out or at a rate,',
    'with bounded concurrency; live progress on stderr, a summary at the end. Nothing is retried unless --backoff.',
    '',
    'Options:',
  ];
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const def = spec.type === 'boolean' || spec.default === '' ? '' : ` (default: ${spec.default})`;
    lines.push(`  --${flag}${spec.type === 'string' ? ' <value>' : ''}`, `      ${spec.help}${def}`);
  }
  return lines.join('\n');
}

/** Milliseconds from 500ms, 30s, 5m or a bare number of seconds. */
export function parseDuration(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(raw.trim());
  if (!m) return undefined;
  const unit = m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000;
  return Math.round(Number(m[1]) * unit);
}

/** traces,logs or traces=3,logs=1 → weights per signal. */
export function parseSignalMix(raw: string): Partial<Record<Signal, number>> | string {
  const out: Partial<Record<Signal, number>> = {};
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name = '', weight = '1'] = part.split('=');
    if (!(SIGNALS as readonly string[]).includes(name)) return `unknown signal "${name}"; expected ${SIGNALS.join(', ')}`;
    const w = Number(weight);
    if (!Number.isFinite(w) || w < 0) return `weight of ${name} must be a number ≥ 0`;
    out[name as Signal] = w;
  }
  if (!Object.values(out).some((w) => w > 0)) return 'at least one signal needs a weight above 0';
  return out;
}

/**
 * Parses `otlp-pg loadgen` arguments. Returns undefined for --help; throws UsageError listing
 * every violation at once.
 */
export function parseLoadgenArgs(argv: readonly string[]): LoadgenOptions | undefined {
  const options = Object.fromEntries(
    Object.entries(FLAGS).map(([flag, spec]) => [flag, { type: spec.type, ...('multiple' in spec ? { multiple: true } : {}) }]),
  ) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return undefined;

  const problems: string[] = [];
  const str = (flag: keyof typeof FLAGS): string => {
    const v = values[flag];
    return typeof v === 'string' ? v : FLAGS[flag].default;
  };
  const num = (flag: keyof typeof FLAGS, min: number, max: number, integer = true): number => {
    const n = Number(str(flag));
    if (str(flag).trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      problems.push(`--${flag}: "${str(flag)}" must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
      return min;
    }
    return n;
  };
  const duration = (flag: 'duration' | 'timeout', min: number): number => {
    const ms = parseDuration(str(flag));
    if (ms === undefined || ms < min) {
      problems.push(`--${flag}: "${str(flag)}" must be a duration such as 500ms, 30s or 5m${min > 0 ? ' above 0' : ''}`);
      return min;
    }
    return ms;
  };

  const protocolRaw = str('protocol');
  const protocol: LoadProtocol | undefined = protocolRaw === 'grpc' ? 'grpc' : protocolRaw === 'http/protobuf' || protocolRaw === 'http' ? 'http/protobuf' : undefined;
  if (!protocol) problems.push(`--protocol: "${protocolRaw}" must be grpc or http/protobuf`);
  const endpoint = str('endpoint') || DEFAULT_ENDPOINT[protocol ?? 'grpc'];
  if (protocol === 'http/protobuf' && !/^https?:\/\//.test(endpoint)) problems.push(`--endpoint: "${endpoint}" must be an http:// or https:// URL for http/protobuf`);

  const headers: Record<string, string> = {};
  const headerValues = values.header;
  for (const h of Array.isArray(headerValues) ? headerValues : []) {
    const at = String(h).indexOf('=');
    if (at <= 0) problems.push(`--header: "${String(h)}" must be key=value`);
    else headers[String(h).slice(0, at).trim().toLowerCase()] = String(h).slice(at + 1).trim();
  }

  const mix = parseSignalMix(str('signals'));
  if (typeof mix === 'string') problems.push(`--signals: ${mix}`);

  const parsed = {
    protocol: protocol ?? 'grpc',
    endpoint,
    headers,
    ca: str('ca'),
    gzip: values.gzip === true,
    weights: typeof mix === 'string' ? {} : mix,
    spansPerRequest: num('spans', 1, 100_000),
    spansPerTrace: num('spans-per-trace', 1, 10_000),
    logsPerRequest: num('logs', 1, 100_000),
    logsPerResource: num('logs-per-resource', 0, 100_000),
    pointsPerRequest: num('points', 1, 100_000),
    newSeries: values['new-series'] === true,
    attributes: num('attributes', 0, 1000),
    attributeSize: num('attribute-size', 0, 100_000),
    services: num('services', 1, 1000),
    fanIn: num('fan-in', 0, 1000),
    errorRatio: num('error-ratio', 0, 1, false),
    seed: num('seed', 0, 2 ** 32 - 1),
    concurrency: num('concurrency', 1, 100_000),
    connections: num('connections', 1, 1000),
    rate: num('rate', 0, 1e9, false),
    durationMs: duration('duration', 0),
    requests: num('requests', 0, Number.MAX_SAFE_INTEGER),
    timeoutMs: duration('timeout', 1),
    backoff: values.backoff === true,
    json: values.json === true,
    quiet: values.quiet === true,
    progressMs: 1000,
  } satisfies LoadgenOptions;
  if (parsed.durationMs === 0 && parsed.requests === 0) problems.push('--duration 0 needs --requests, or the run would never stop');
  const fanIn = fanInProblem(parsed);
  if (fanIn) problems.push(`--fan-in: ${fanIn} (--services, --spans-per-trace)`);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return parsed;
}

/** The options a run gets when nothing is given: what `otlp-pg loadgen` alone does. */
export function defaultLoadgenOptions(overrides: Partial<LoadgenOptions> = {}): LoadgenOptions {
  return { ...(parseLoadgenArgs([]) as LoadgenOptions), ...overrides };
}
