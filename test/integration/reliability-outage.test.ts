// Acceptance (issue 5, outage): a sender that retries as the specification says streams N spans;
// PostgreSQL is stopped mid-stream, kept down until every sender is retrying, and started again.
// Afterwards the database holds every span exactly once, and every answer was success or retryable,
// never permanent.
// /readyz follows the database down and up, and ingestion resumes with no restart of otlp-pg.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.js';
import type { RunningServer } from '../../src/server.js';
import { query } from '../helpers/database.js';
import { until } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import { sendWithRetry, spanRequest, succeeded, type Attempt, type Transport } from '../helpers/sender.js';
import { startTestServer, telemetryUrl } from '../helpers/server.js';

// This test stops and starts a PostgreSQL of its own, so it cannot share the suite's.
let dataDir: string;
let pgPort: number;
let db: EmbeddedDatabase | undefined;
let server: RunningServer;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'otlp-pg-outage-'));
  pgPort = await freePort();
  db = await startEmbedded({ dataDir, port: pgPort, logger });
  server = await startTestServer(db.url, {
    'pool-acquire-timeout': '1000',
    'statement-timeout': '2000',
    'request-timeout': '3000',
  });
});

afterAll(async () => {
  await server?.shutdown();
  await db?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function readyz(): Promise<number> {
  return (await fetch(`${telemetryUrl(server)}/readyz`)).status;
}

/** A refusal otlp-pg itself gave (not a connection the client could not make). */
const isOurs = (a: Attempt): boolean => a.code === 503 || (a.code === 14 && /database|otlp-pg|committed/.test(a.body));

describe('PostgreSQL stopped mid-stream', () => {
  it('loses nothing, stores nothing twice, and answers only success or retryable', async () => {
    const ports = { grpc: server.grpc.port, http: server.http.port };
    const transports: Transport[] = ['http/json', 'http/protobuf', 'grpc'];
    const requests = Array.from({ length: 240 }, () => spanRequest(10, 'outage', 16));
    const attempts: Attempt[][] = [];
    // The second half of the stream waits for the outage, so the outage lands mid-stream on any
    // machine; the first half is still going when the database stops.
    const SECOND_HALF = requests.length / 2;
    let outageBegun!: () => void;
    const outage = new Promise<void>((resolve) => (outageBegun = resolve));
    /** Senders that otlp-pg has told, during the outage, to come back later. */
    const refusedDuringOutage = new Set<number>();
    let down = false;
    let next = 0;
    const senders = Array.from({ length: 6 }, async (_, s) => {
      while (next < requests.length) {
        const i = next++;
        if (i >= SECOND_HALF) await outage;
        attempts[i] = await sendWithRetry(transports[(s + i) % 3] as Transport, ports, (requests[i] as { body: unknown }).body, {
          maxWaitMs: 250,
          deadline: Number.POSITIVE_INFINITY, // the test's own timeout bounds it
          onAttempt: (a) => {
            if (down && isOurs(a)) refusedDuringOutage.add(s);
          },
        });
      }
    });

    await until(() => next >= 60, 'a quarter of the stream sent');
    expect(await readyz()).toBe(200);
    await db?.stop();
    db = undefined;
    down = true;
    outageBegun();
    await until(async () => (await readyz()) === 503, '/readyz following the database down');
    // Down until every sender has been told to retry: each is then in the middle of a retry when it comes back.
    await until(() => refusedDuringOutage.size === 6, 'every sender refused by otlp-pg during the outage');
    db = await startEmbedded({ dataDir, port: pgPort, logger });
    await Promise.all(senders);

    const all = attempts.flat();
    expect(attempts.every((a) => succeeded(a.at(-1)))).toBe(true);
    // Every refusal during the outage was retryable: 503 / UNAVAILABLE, with a retry hint.
    const refusals = all.filter((a) => !succeeded(a));
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((a) => a.retryable)).toBe(true);
    // otlp-pg's own refusals carry a retry hint; a connection the client could not make has none.
    const ours = refusals.filter(isOurs);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.every((a) => a.hinted)).toBe(true);

    const [counts] = await query<{ total: string; distinct: string }>(
      db.url,
      `SELECT count(*) AS total, count(DISTINCT span_id) AS distinct FROM trace_spans WHERE service_name = 'outage'`,
    );
    expect(counts).toEqual({ total: '2400', distinct: '2400' });
    await until(async () => (await readyz()) === 200, '/readyz following the database up');
  });
});
