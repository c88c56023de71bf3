// `otlp-pg export`: stored telemetry back out as OTLP/JSON requests, one per line (JSON Lines), to move,
// replay (each line is a valid body for POST /v1/<signal>) or share it.
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import pino from 'pino';
import { ConfigError, loadConfig, redactUrl, type Config } from '../config/config.js';
import { OPTIONS, type OptionSpec } from '../config/options.js';
import { textClient } from '../read/cursor.js';
import { openReadDatabase } from '../read/database.js';
import { exportSignal, type SignalReader } from '../read/export.js';
import { logsReader } from '../read/logs.js';
import { metricsReader } from '../read/metrics.js';
import type { Selection } from '../read/selection.js';
import { tracesReader } from '../read/traces.js';
import type { Database } from '../server.js';

const READERS: Readonly<Record<string, () => SignalReader>> = { traces: tracesReader, logs: logsReader, metrics: metricsReader };

const DEFAULT_BATCH = 1000;
const MAX_BATCH = 1_000_000;
/** Rows per FETCH: one chunk of rows is what the export holds besides the request being built. */
const FETCH_SIZE = 1000;

/** The server options the export shares (database and its logging); the rest do not apply. */
const SHARED: readonly OptionSpec[] = [OPTIONS.databaseUrl, OPTIONS.dataDir, OPTIONS.embeddedPort, OPTIONS.logLevel];

export const EXPORT_HELP = `Usage: otlp-pg export <traces|logs|metrics> [options]

Writes stored telemetry as OTLP/JSON export requests, one per line (JSON Lines): each line is an
ExportTraceServiceRequest, ExportLogsServiceRequest or ExportMetricsServiceRequest, a valid body for
POST /v1/traces, /v1/logs or /v1/metrics of any OTLP/HTTP receiver.

Selection (all given must match; repeatable ones match any of their values):
  --trace-id <hex>        the spans or log records of this trace (32 hex digits); repeatable; traces, logs
  --service <name>        rows of this service (the resource's service.name); repeatable
  --name <metric>         this metric; repeatable; metrics
  --since <time>          from this time on (inclusive): ISO 8601 such as 2024-05-01T12:00:00Z or
                          2024-05-01 (no zone: UTC), or a span back from now: 90s, 15m, 1h, 7d, 2w
  --until <time>          before this time (exclusive), same forms
Time is the span's start, the log record's time (its observed time when that is 0), the data point's
time. Metrics stored without data points are exported only when no time is given.

Output:
  -o, --output <file>     write to this file (replaced) instead of standard output
  --batch <n>             at most n spans, log records or data points per request (default: ${DEFAULT_BATCH})

Database (as for serve; while otlp-pg serve runs its embedded PostgreSQL on --data-dir, the export
reads from that one):
${SHARED.map((o) => `  --${o.flag} <${o.type}>  [${o.env}]\n      ${o.help}${o.secret ? '' : ` (default: ${o.default})`}`).join('\n')}
  -h, --help              show this help

Examples:
  otlp-pg export traces --trace-id 5b8efff798038103d269b633813fc60c
  otlp-pg export logs --service checkout --since 1h -o checkout-logs.jsonl
  otlp-pg export metrics --name http.server.duration --since 2024-05-01 --until 2024-05-02`;

/** A wrong argument, named by its flag; exit code 2. */
class UsageError extends Error {}

const TRACE_ID = /^[0-9a-f]{32}$/i;
const RELATIVE = /^(\d+)(s|m|h|d|w)$/;
const RELATIVE_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
// Date.parse accepts much that is not a time ("1", "May"); only ISO 8601 dates and date-times are taken.
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

export function parseTime(flag: string, text: string, now: number): Date {
  const relative = RELATIVE.exec(text);
  if (relative) return new Date(now - Number(relative[1]) * (RELATIVE_MS[relative[2] ?? ''] ?? 0));
  const iso = ISO.exec(text);
  // Without a zone, UTC (as the stored times are), for dates and date-times alike.
  const ms = iso ? Date.parse(`${iso[1]}T${iso[2] ?? '00:00'}${iso[3] ?? 'Z'}`) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--${flag}: ${JSON.stringify(text)} is not an ISO 8601 time (2024-05-01T12:00:00Z) or a span back from now (15m, 1h, 7d)`);
  return new Date(ms);
}

interface ExportCommand {
  readonly signal: string;
  readonly selection: Selection;
  readonly batch: number;
  readonly output: string | undefined;
  readonly config: Config;
}

function parseCommand(argv: string[], env: NodeJS.ProcessEnv): ExportCommand | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'trace-id': { type: 'string', multiple: true },
      service: { type: 'string', multiple: true },
      name: { type: 'string', multiple: true },
      since: { type: 'string' },
      until: { type: 'string' },
      output: { type: 'string', short: 'o' },
      batch: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(SHARED.map((o) => [o.flag, { type: 'string' as const }])),
    },
  });
  if (values.help) return 'help';
  const [signal, ...rest] = positionals;
  if (signal === undefined || !(signal in READERS)) {
    throw new UsageError(`expected what to export: traces, logs or metrics${signal === undefined ? '' : `, got ${JSON.stringify(signal)}`}`);
  }
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);

  const traceIds = values['trace-id'] ?? [];
  const names = values.name ?? [];
  if (traceIds.length > 0 && signal === 'metrics') throw new UsageError('--trace-id selects traces or logs, not metrics');
  if (names.length > 0 && signal !== 'metrics') throw new UsageError(`--name selects metrics, not ${signal}`);
  for (const id of traceIds) {
    if (!TRACE_ID.test(id)) throw new UsageError(`--trace-id: ${JSON.stringify(id)} is not a trace id (32 hex digits)`);
  }
  const now = Date.now();
  const since = values.since === undefined ? undefined : parseTime('since', values.since, now);
  const until = values.until === undefined ? undefined : parseTime('until', values.until, now);
  if (since && until && since >= until) throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);

  let batch = DEFAULT_BATCH;
  if (values.batch !== undefined) {
    batch = /^\d+$/.test(values.batch) ? Number(values.batch) : NaN;
    if (!(batch >= 1 && batch <= MAX_BATCH)) throw new UsageError(`--batch: ${JSON.stringify(values.batch)} must be a whole number from 1 to ${MAX_BATCH}`);
  }
  if (values.output === '') throw new UsageError('--output: a file name is needed');

  const given: Readonly<Record<string, unknown>> = values;
  const flags = Object.fromEntries(SHARED.map((o) => [o.flag, given[o.flag] as string | undefined]));
  return {
    signal,
    selection: { traceIds: traceIds.map((id) => id.toLowerCase()), services: values.service ?? [], names, since, until },
    batch,
    output: values.output,
    config: loadConfig(flags, env),
  };
}

/** Lines to a stream, waiting for 'drain' when it is full so memory stays bounded. */
class LineSink {
  private failure: Error | undefined;

  constructor(private readonly stream: Writable) {
    stream.on('error', (err: Error) => (this.failure ??= err));
  }

  async write(line: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(`${line}\n`)) await once(this.stream, 'drain');
  }
}

/** undefined_table: a database otlp-pg never migrated. */
const UNDEFINED_TABLE = '42P01';

function failureMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if ((err as { code?: string } | undefined)?.code === UNDEFINED_TABLE) {
    return `${message}: this database has no otlp-pg schema yet (otlp-pg serve or otlp-pg migrate create it)`;
  }
  return message;
}

function isBrokenPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/** `otlp-pg export …`: 0 when done, 1 when the export failed, 2 for wrong arguments. */
export async function runExport(argv: string[]): Promise<number> {
  let command: ExportCommand | 'help';
  try {
    command = parseCommand(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) throw err;
    process.stderr.write(`otlp-pg export: ${(err as Error).message}\n\nRun otlp-pg export --help for usage.\n`);
    return 2;
  }
  if (command === 'help') {
    process.stdout.write(`${EXPORT_HELP}\n`);
    return 0;
  }

  const { signal, selection, batch, output, config } = command;
  const reader = (READERS[signal] as () => SignalReader)();
  const logger = pino({ level: config.logLevel, base: { service: 'otlp-pg' } }, pino.destination(2));
  const file = output === undefined ? undefined : await open(output, 'w').catch((err: Error) => err);
  if (file instanceof Error) {
    process.stderr.write(`otlp-pg export: --output: ${file.message}\n`);
    return 2;
  }
  const stream = file ? file.createWriteStream() : process.stdout;
  const sink = new LineSink(stream);

  let database: Database | undefined;
  let client: pg.Client | undefined;
  let interrupted = false;
  // Ctrl-C ends the connection, which fails the export's query; an embedded PostgreSQL started here
  // is then stopped below (it runs in its own process group, so the terminal's signal misses it).
  const interrupt = (): void => {
    interrupted = true;
    void client?.end().catch(() => undefined);
  };
  const stopIfInterrupted = (): void => {
    if (interrupted) throw new Error('interrupted');
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    database = await openReadDatabase(config, logger);
    stopIfInterrupted();
    client = textClient(database.url);
    await client.connect();
    stopIfInterrupted();
    const summary = await exportSignal(client, reader, selection, { batch, fetchSize: FETCH_SIZE }, (line) => sink.write(line));
    if (file) {
      stream.end();
      await once(stream, 'close');
    }
    const requests = `${summary.requests} request${summary.requests === 1 ? '' : 's'}`;
    process.stderr.write(`otlp-pg export: ${summary.items} ${reader.items} in ${requests} to ${output ?? 'standard output'}\n`);
    return 0;
  } catch (err) {
    // The reader of standard output went away (`| head`): what it wanted was written.
    if (isBrokenPipe(err)) return 0;
    if (interrupted) {
      process.stderr.write('otlp-pg export: interrupted\n');
      return 130;
    }
    const url = database ? ` (database ${database.embedded ? 'embedded' : redactUrl(database.url)})` : '';
    process.stderr.write(`otlp-pg export: failed${url}: ${failureMessage(err)}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    await client?.end().catch(() => undefined);
    if (file && !stream.closed) stream.destroy();
    await database?.stop();
  }
}
