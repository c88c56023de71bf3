import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, helpText, loadConfig, type Config, type FileValues } from '../config/config.js';
import { OPTIONS } from '../config/options.js';
import { runExport } from './export.js';
import { runDoctor } from './doctor.js';
import { runLoadgen } from '../loadgen/cli.js';
import { readConfigFile } from '../config/file.js';
import { openDatabase, prepareSchema } from '../server.js';
import { serve } from './serve.js';

const COMMANDS = ['serve', 'migrate'] as const;
type Command = (typeof COMMANDS)[number];

/**
 * Commands with arguments of their own (not the server's options): each parses its argv and
 * returns the process exit code.
 */
const TOOLS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {
  export: runExport,
  doctor: runDoctor,
  loadgen: runLoadgen,
};

function parseCommandLine(argv: string[]): { command: Command; flags: Record<string, string | undefined>; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    config: { type: 'string' },
  };
  for (const spec of Object.values(OPTIONS)) options[spec.flag] = { type: 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [first, ...rest] = positionals;
  const command = (first ?? 'serve') as Command;
  if (!COMMANDS.includes(command)) throw new ConfigError([`unknown command "${first}"; expected one of ${COMMANDS.join(', ')}`]);
  if (rest.length > 0) throw new ConfigError([`unexpected arguments: ${rest.join(' ')}`]);
  const { help, ...flags } = values;
  return { command, flags: flags as Record<string, string | undefined>, help: help === true };
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
    const { config: configFile, ...flags } = parsed.flags;
    const file = configFile ?? process.env.OTLP_PG_CONFIG;
    const fromFile: FileValues | undefined = file ? { file, values: readConfigFile(file) } : undefined;
    config = loadConfig(flags, process.env, fromFile);
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
