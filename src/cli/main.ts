import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, helpText, loadConfig, redactUrl, type Config } from '../config/config.js';
import { OPTIONS } from '../config/options.js';
import { startServer, openDatabase, prepareSchema, type RunningServer } from '../server.js';

const COMMANDS = ['serve', 'migrate'] as const;
type Command = (typeof COMMANDS)[number];

/**
 * Commands with arguments of their own (not the server's options): each parses its argv and
 * returns the process exit code.
 */
const TOOLS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {};

function parseCommandLine(argv: string[]): { command: Command; flags: Record<string, string | undefined>; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const spec of Object.values(OPTIONS)) options[spec.flag] = { type: 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [first, ...rest] = positionals;
  const command = (first ?? 'serve') as Command;
  if (!COMMANDS.includes(command)) throw new ConfigError([`unknown command "${first}"; expected one of ${COMMANDS.join(', ')}`]);
  if (rest.length > 0) throw new ConfigError([`unexpected arguments: ${rest.join(' ')}`]);
  const { help, ...flags } = values;
  return { command, flags: flags as Record<string, string | undefined>, help: help === true };
}

function banner(server: RunningServer): string {
  const grpc = `${server.grpc.host}:${server.grpc.port}`;
  const http = `http://${server.http.host}:${server.http.port}`;
  const url = server.database.embedded ? server.database.url : redactUrl(server.database.url);
  return [
    '',
    'otlp-pg is receiving OpenTelemetry data',
    `  OTLP/gRPC  ${grpc}`,
    `  OTLP/HTTP  ${http}  (POST /v1/traces, protobuf or JSON)`,
    '',
    'Point an OpenTelemetry SDK at it:',
    `  export OTEL_EXPORTER_OTLP_ENDPOINT=${http}   OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`,
    `  (or for gRPC: OTEL_EXPORTER_OTLP_ENDPOINT=http://${grpc}  OTEL_EXPORTER_OTLP_PROTOCOL=grpc)`,
    '',
    'Query the data:',
    `  psql '${url}'`,
    '',
  ].join('\n');
}

async function serve(config: Config, logger: pino.Logger): Promise<void> {
  const server = await startServer(config, logger);
  process.stdout.write(banner(server));
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    // `npm start` forwards the terminal's SIGINT to us, which has sent it too: a repeated signal
    // must not cut the drain short. Shutdown is bounded by --shutdown-timeout anyway.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing those in flight');
    server.shutdown().then(
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
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function migrateOnly(config: Config, logger: pino.Logger): Promise<void> {
  const database = await openDatabase(config, logger);
  try {
    await prepareSchema(database.url, config, logger);
    logger.info('database schema is current');
  } finally {
    await database.stop();
  }
}

export async function main(argv: string[]): Promise<number> {
  const tool = argv[0] === undefined ? undefined : TOOLS[argv[0]];
  if (tool) return tool(argv.slice(1));
  let parsed: ReturnType<typeof parseCommandLine>;
  let config: Config;
  try {
    parsed = parseCommandLine(argv);
    if (parsed.help) {
      process.stdout.write(`${helpText()}\n`);
      return 0;
    }
    config = loadConfig(parsed.flags, process.env);
  } catch (err) {
    process.stderr.write(`otlp-pg: ${(err as Error).message}\n\n${helpText()}\n`);
    return 2;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'otlp-pg' } });
  try {
    if (parsed.command === 'migrate') {
      await migrateOnly(config, logger);
      return 0;
    }
    await serve(config, logger);
    return -1; // keeps running until a signal
  } catch (err) {
    logger.error({ err }, 'otlp-pg failed to start');
    return 1;
  }
}
