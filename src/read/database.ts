// The database an export reads: --database-url, or the embedded PostgreSQL under --data-dir. While
// `otlp-pg serve` runs, its embedded PostgreSQL owns the data directory and a second one cannot start
// there, so the export connects to the running one, the way `serve` prints its psql line.
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { runningEmbeddedUrl } from '../db/embedded.js';
import { openDatabase, type Database } from '../server.js';

/** --database-url; else the embedded PostgreSQL already running in --data-dir; else one started for the export. */
export async function openReadDatabase(config: Config, logger: Logger): Promise<Database> {
  if (!config.databaseUrl) {
    const running = await runningEmbeddedUrl(config.dataDir);
    if (running) {
      logger.debug({ dataDir: config.dataDir }, 'reading from the embedded PostgreSQL already running there');
      return { url: running, embedded: true, stop: async () => undefined };
    }
  }
  return openDatabase(config, logger);
}
