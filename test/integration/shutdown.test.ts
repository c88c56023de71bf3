// Acceptance (issues 5 and 12): SIGTERM, against otlp-pg as its own process. Every request's outcome is
// read off the wire and classified (test/helpers/exchange.ts): answered success, answered otherwise
// (status, message, retry hint), or a transport failure — refused or reset — kept apart, so a dropped
// connection never passes for an answer. A lock the test holds keeps batches inside PostgreSQL: what is
// in flight when the signal comes, and what arrives while the server drains, is decided by events.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, query } from '../helpers/database.js';
import { exchange, type Exchange, type Outcome } from '../helpers/exchange.js';
import { installWriterHold, type WriterHold } from '../helpers/hold-writers.js';
import { until } from '../helpers/poll.js';
import { startServerProcessOnFreePorts, type Ports, type ServerProcess } from '../helpers/process.js';
import { spanRequest, type Transport } from '../helpers/sender.js';
import { scrapeMetricsAt } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let hold: WriterHold | undefined;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await hold?.remove();
  hold = undefined;
  // A server a failed test left holding a request open would wait for it until its deadline.
  for (const s of servers.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await s.exited;
  }
});

afterAll(async () => {
  await db?.drop();
});

const TRANSPORTS: readonly Transport[] = ['http/protobuf', 'http/json', 'grpc'];
/** The retry hint otlp-pg gives (src/server.ts RETRY_AFTER_MS). */
const RETRY_AFTER_MS = 5000;
const SHUTTING_DOWN = 'otlp-pg is shutting down';
const SHUT_DOWN_UNCOMMITTED = 'otlp-pg shut down before the request was committed';

interface Sent {
  readonly spanIds: readonly string[];
  readonly exchange: Exchange;
}

interface Started {
  readonly server: ServerProcess;
  readonly ports: Ports;
  metric(series: string): Promise<number | undefined>;
}

async function start(flags: readonly string[]): Promise<Started> {
  // Info, for the line that says the signal was taken.
  const { server, ports } = await startServerProcessOnFreePorts(db.url, ['--log-level', 'info', ...flags]);
  servers.push(server);
  return { server, ports, metric: async (series) => (await scrapeMetricsAt(`http://127.0.0.1:${ports.telemetry}`)).get(series) };
}

/** One trace request of two spans for `service`. */
function send(ports: { grpc: number; http: number }, transport: Transport, service: string, options: { holdLastByte?: boolean } = {}): Sent {
  const req = spanRequest(2, service);
  return { spanIds: req.spanIds, exchange: exchange(transport, ports, req.body, options) };
}

/** One writer and batches of exactly one request, so requests handed to the writers can be counted. */
const ONE_REQUEST_BATCHES = ['--writers', '1', '--batch-spans', '2', '--request-timeout', '10m'];

/**
 * Sends SIGTERM; resolves once the server has logged taking it. It closes its ports and its pipeline in
 * the same turn as that line, so every request it reads from then on finds it shutting down.
 */
async function signalled(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.waitFor('shutting down');
}

async function storedOf(spanIds: readonly string[]): Promise<number> {
  const [row] = await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM trace_spans WHERE encode(span_id, 'hex') = ANY($1)`, [spanIds]);
  return row?.n ?? 0;
}

/** Stored equals acknowledged: each success has all its spans stored, anything else none. */
async function expectStoredAsAnswered(sent: readonly Sent[]): Promise<void> {
  for (const s of sent) {
    const o = await s.exchange.outcome;
    const ok = o.kind === 'answered' && o.success;
    expect(await storedOf(s.spanIds), JSON.stringify(o)).toBe(ok ? s.spanIds.length : 0);
  }
}

const label = (o: Outcome): string => (o.kind === 'answered' ? `${o.transport} ${o.code} ${o.message}` : `${o.transport} ${o.kind}`);

/** The retryable answer each transport gives, with its hint: HTTP 503 + Retry-After, gRPC UNAVAILABLE; both a RetryInfo. */
function expectRetryable(o: Outcome, message: string | RegExp): void {
  expect(o.kind, label(o)).toBe('answered');
  if (o.kind !== 'answered') return;
  expect(o.retryable).toBe(true);
  expect(o.message).toMatch(message);
  expect(o.retryInfoMs).toBe(RETRY_AFTER_MS);
  if (o.transport === 'grpc') expect(o.code).toBe(14);
  else expect([o.code, o.retryAfter]).toEqual([503, String(RETRY_AFTER_MS / 1000)]);
}

describe('SIGTERM', () => {
  it('answers every request in flight, gives what arrives while it drains the shutting-down answer, stores exactly what it acknowledged, and exits 0', async () => {
    const { server, ports, metric } = await start([...ONE_REQUEST_BATCHES, '--shutdown-timeout', '10m']);
    hold = await installWriterHold(db.url);
    await hold.hold();

    // In flight when the signal comes: whole requests over each transport, handed to the writers (one
    // writes and waits for the lock, the rest queue behind it).
    const inFlight = Array.from({ length: 12 }, (_, i) => send(ports, TRANSPORTS[i % 3] as Transport, 'drained'));
    await hold.blocked(1);
    await until(async () => (await metric('otlp_pg_exporter_queue_size')) === inFlight.length, 'every request in flight handed to the writers');

    // Arriving while it drains: the server has each request's head, the last byte of its body comes after the signal.
    const late = TRANSPORTS.map((t) => send(ports, t, 'late', { holdLastByte: true }));
    await Promise.all(late.map((s) => s.exchange.received));

    await signalled(server);
    // New connections find the ports closed: refused, never reset, never stored.
    const fresh = TRANSPORTS.map((t) => send(ports, t, 'fresh'));
    const freshOutcomes = await Promise.all(fresh.map((s) => s.exchange.outcome));
    expect(freshOutcomes.map((o) => o.kind), JSON.stringify(freshOutcomes)).toEqual(['refused', 'refused', 'refused']);

    for (const s of late) s.exchange.finish();
    for (const s of late) expectRetryable(await s.exchange.outcome, SHUTTING_DOWN);
    // All of that while the requests in flight were held and the process still up.
    expect(inFlight.filter((s) => s.exchange.settled())).toEqual([]);
    expect(server.child.exitCode).toBeNull();

    await hold.release();
    expect(await server.exited).toBe(0);
    const answers = await Promise.all(inFlight.map((s) => s.exchange.outcome));
    expect(answers.filter((o) => !(o.kind === 'answered' && o.success)).map(label)).toEqual([]);
    await expectStoredAsAnswered([...inFlight, ...late, ...fresh]);
  });

  it('answers what it could not commit by --shutdown-timeout retryable, stores none of it, and exits 0', async () => {
    const { server, ports, metric } = await start([...ONE_REQUEST_BATCHES, '--shutdown-timeout', '1s']);
    hold = await installWriterHold(db.url);
    await hold.hold();

    const held = Array.from({ length: 6 }, (_, i) => send(ports, TRANSPORTS[i % 3] as Transport, 'deadline'));
    await hold.blocked(1);
    await until(async () => (await metric('otlp_pg_exporter_queue_size')) === held.length, 'every request handed to the writers');

    // The lock is held throughout: only the deadline can end the drain.
    await signalled(server);
    expect(await server.exited).toBe(0);
    const answers = await Promise.all(held.map((s) => s.exchange.outcome));
    // Every one with the shutdown's own message: those queued for the writer, and the one being written,
    // whose connection was cut (its transaction never commits).
    for (const o of answers) expectRetryable(o, new RegExp(`^${SHUT_DOWN_UNCOMMITTED}$`));

    // The batch that was being written waits in PostgreSQL with its connection gone; once let go, its
    // backend finds no COMMIT and rolls back.
    await hold.release();
    await until(
      async () => (await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE application_name = 'otlp-pg' AND datname = current_database()`)).length === 0,
      'the aborted writer gone from PostgreSQL',
    );
    await expectStoredAsAnswered(held);
  });

  it('under load: every answer is success or the shutting-down answer, what was acknowledged is stored and nothing else', async () => {
    const { server, ports } = await start(['--shutdown-timeout', '10m']);
    const sent: Sent[] = [];
    let succeeded = 0;
    // Senders back to back, each stopping at its first answer other than success (a client backs off).
    const senders = Array.from({ length: 9 }, async (_, k) => {
      for (let i = 0; ; i++) {
        const s = send(ports, TRANSPORTS[(k + i) % 3] as Transport, 'load');
        sent.push(s);
        const o = await s.exchange.outcome;
        if (!(o.kind === 'answered' && o.success)) return;
        succeeded++;
      }
    });
    await until(() => succeeded >= 30, 'thirty requests answered before the signal');
    await signalled(server);
    await Promise.all(senders);
    expect(await server.exited).toBe(0);

    const outcomes = await Promise.all(sent.map((s) => s.exchange.outcome));
    const count = (kind: string): number => outcomes.filter((o) => (o.kind === 'answered' ? (o.success ? 'success' : 'answered') : o.kind) === kind).length;
    const tally = `success ${count('success')}, answered ${count('answered')}, refused ${count('refused')}, reset ${count('reset')}`;
    expect(count('success'), tally).toBeGreaterThanOrEqual(30);
    for (const o of outcomes) if (o.kind === 'answered' && !o.success) expectRetryable(o, SHUTTING_DOWN);
    await expectStoredAsAnswered(sent);
  });
});
