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
      'summary-interval': '20',
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

/** The server's /metrics as series (name with labels) → value. */
export async function scrapeMetrics(server: RunningServer): Promise<Map<string, number>> {
  return scrapeMetricsAt(telemetryUrl(server));
}

/** /metrics under `baseUrl` (a server in another process, say) as series (name with labels) → value. */
export async function scrapeMetricsAt(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}
