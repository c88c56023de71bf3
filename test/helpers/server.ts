import pino from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

/** otlp-pg on free loopback ports against `databaseUrl`, with flag overrides. */
export async function startTestServer(databaseUrl: string, flags: Record<string, string> = {}): Promise<RunningServer> {
  const config = loadConfig(
    {
      'database-url': databaseUrl,
      'grpc-endpoint': '127.0.0.1:0',
      'http-endpoint': '127.0.0.1:0',
      'telemetry-endpoint': '127.0.0.1:0',
      'flush-interval': '20',
      ...flags,
    },
    {},
  );
  return startServer(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
}

/** Base URL of the server's /metrics, /healthz and /readyz. */
export function telemetryUrl(server: RunningServer): string {
  if (!server.telemetry) throw new Error('this server has no telemetry endpoint (a --workers worker)');
  return `http://127.0.0.1:${server.telemetry.port}`;
}
