import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { Logger } from 'pino';
import { pendingMigrations } from '../db/migrate.js';

/** One readiness condition: ok, or why not. */
export type Check = () => Promise<string | undefined>;

export interface TelemetryServerOptions {
  readonly host: string;
  readonly port: number;
  /** The Prometheus text to serve: this process's registry, or a --workers primary's aggregate. */
  readonly metrics: () => Promise<{ contentType: string; text: string }>;
  /** Named conditions that must all hold for /readyz to answer 200. */
  readonly readiness: Readonly<Record<string, Check>>;
  readonly logger: Logger;
}

export interface TelemetryServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * /metrics (Prometheus text), /healthz (the process answers) and /readyz (every readiness check
 * holds: 200, or 503 with the failing checks named), on their own port so that scrapes and probes
 * never queue behind OTLP traffic.
 */
export async function startTelemetryServer(options: TelemetryServerOptions): Promise<TelemetryServer> {
  const { metrics, readiness, logger } = options;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const reply = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET') return reply(405, 'text/plain', 'use GET\n');
    if (path === '/healthz') return reply(200, 'text/plain', 'ok\n');
    if (path === '/metrics') {
      metrics().then(
        ({ contentType, text }) => reply(200, contentType, text),
        (err: Error) => reply(500, 'text/plain', `${err.message}\n`),
      );
      return;
    }
    if (path === '/readyz') {
      const names = Object.keys(readiness);
      Promise.all(names.map((n) => (readiness[n] as Check)().catch((err: Error) => err.message))).then((results) => {
        const failing = Object.fromEntries(names.flatMap((n, i) => (results[i] === undefined ? [] : [[n, results[i]]])));
        const ready = Object.keys(failing).length === 0;
        reply(ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready, failing })}\n`);
      });
      return;
    }
    reply(404, 'text/plain', 'try /metrics, /healthz or /readyz\n');
  });
  server.on('error', (err) => logger.error({ err }, 'telemetry server error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Readiness checks on a connection of their own: that the database answers, and that its migrations
 * are current. With the writers' pool exhausted by a busy but healthy database, both must still pass.
 */
export function databaseCheck(url: string, timeoutMs = 2000): { check: Check; migrations: Check; close: () => Promise<void> } {
  let client: Promise<pg.Client> | undefined;
  const drop = (): void => {
    const c = client;
    client = undefined;
    void c?.then((open) => open.end()).catch(() => undefined);
  };
  const connected = (): Promise<pg.Client> =>
    (client ??= (async () => {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, application_name: 'otlp-pg readiness' });
      c.on('error', drop);
      await c.connect();
      return c;
    })());
  /** Each check runs once at a time (pg queues the two on the one connection); a failure drops it. */
  const probe = (work: (c: pg.Client) => Promise<string | undefined>, failure: string): Check => {
    let running: Promise<string | undefined> | undefined;
    return () =>
      (running ??= (async () => {
        try {
          return await work(await connected());
        } catch (err) {
          drop();
          return `${failure}: ${(err as Error).message}`;
        }
      })().finally(() => (running = undefined)));
  };
  return {
    check: probe(async (c) => void (await c.query('SELECT 1')), 'database unreachable'),
    migrations: probe(async (c) => {
      const pending = await pendingMigrations(c);
      return pending.length === 0 ? undefined : `migrations pending: ${pending.join(', ')}`;
    }, 'migrations unknown'),
    close: async () => drop(),
  };
}
