// WriterPool against a real PostgreSQL, with a write function of the test's own (rows into a scratch
// table): how a failed batch is classified, isolated and answered, without a server around it.
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpError } from '../../src/errors.js';
import type { Pending } from '../../src/pipeline/batcher.js';
import { WriterPool, type BatchWrite } from '../../src/pipeline/writer-pool.js';
import { createTelemetry } from '../../src/telemetry/metrics.js';
import { classifyDbError } from '../../src/write/db-errors.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { until } from '../helpers/poll.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  await query(db.url, 'CREATE TABLE scratch (request text NOT NULL)');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const telemetry = createTelemetry({
  inflightBytes: () => 0,
  inflightBytesCapacity: () => 0,
  inflightRequests: () => 0,
  queueDelaySeconds: () => 0,
  commitBytesPerSecond: () => 0,
  queueSize: () => 0,
  queueCapacity: () => 0,
  pool: () => ({ total: 0, idle: 0, waiting: 0, max: 0 }),
  batchers: () => [],
});
const writers = (): WriterPool => new WriterPool(pool, { concurrency: 1, statementTimeoutMs: 10_000, retryAfterMs: 1000, logger: pino({ level: 'silent' }), telemetry });

/** One request per name; each settles to 'ok' or the error it was refused with. */
function batch(names: readonly string[]): { pending: Pending<string>[]; outcomes: Promise<'ok' | OtlpError>[] } {
  const pending: Pending<string>[] = [];
  const outcomes = names.map(
    (name) =>
      new Promise<'ok' | OtlpError>((resolve) =>
        pending.push({ rows: name, weight: 1, items: 1, bytes: 10, key: null, claim: () => true, resolve: () => resolve('ok'), reject: resolve }),
      ),
  );
  return { pending, outcomes };
}

/** Inserts each request's name; `fail` decides what a batch containing a name throws. */
const scratchWrite =
  (fail: (names: readonly string[]) => Error | undefined): BatchWrite<string> =>
  async (client, rows) => {
    await client.query('INSERT INTO scratch SELECT unnest($1::text[])', [rows]);
    const err = fail(rows);
    if (err) throw err;
  };

const stored = async (): Promise<string[]> => (await query<{ request: string }>(db.url, 'SELECT request FROM scratch ORDER BY request')).map((r) => r.request);

describe('WriterPool', () => {
  it('refuses the request a bug trips on alone, as internal and permanent, and commits the others', async () => {
    await query(db.url, 'TRUNCATE scratch');
    const { pending, outcomes } = batch(['a', 'b', 'bad', 'c']);
    const w = writers();
    w.enqueue('traces', pending, scratchWrite((names) => (names.includes('bad') ? new TypeError("Cannot read properties of undefined (reading 'length')") : undefined)));
    const answers = await Promise.all(outcomes);
    expect(answers.map((a) => (a === 'ok' ? 'ok' : a.kind))).toEqual(['ok', 'ok', 'internal', 'ok']);
    expect((answers[2] as OtlpError).message).toMatch(/internal error while writing the request: Cannot read properties/);
    expect(await stored()).toEqual(['a', 'b', 'c']);
    await w.idle();
  });

  it('answers every request of a batch retryable when the failure is not the data\'s (a lost connection), and stores none', async () => {
    await query(db.url, 'TRUNCATE scratch');
    const { pending, outcomes } = batch(['x', 'y']);
    const w = writers();
    w.enqueue('traces', pending, scratchWrite(() => new Error('Connection terminated unexpectedly')));
    const answers = await Promise.all(outcomes);
    expect(answers.map((a) => (a === 'ok' ? 'ok' : a.kind))).toEqual(['unavailable', 'unavailable']);
    expect(await stored()).toEqual([]);
  });

  it('gives up waiting for a connection after the pool\'s acquire timeout (--pool-acquire-timeout) and answers retryable', async () => {
    const small = new pg.Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: 100 });
    // Opening the one connection may itself take longer than 100 ms on a loaded machine: try again.
    let opened: pg.PoolClient | undefined;
    await until(async () => (opened = await small.connect().catch(() => undefined)) !== undefined, 'the pool\'s one connection open');
    const held = opened as pg.PoolClient;
    try {
      const { pending, outcomes } = batch(['waits']);
      const w = new WriterPool(small, { concurrency: 1, statementTimeoutMs: 10_000, retryAfterMs: 1000, logger: pino({ level: 'silent' }), telemetry });
      w.enqueue('traces', pending, scratchWrite(() => undefined));
      const [answer] = await Promise.all(outcomes);
      expect(answer).toBeInstanceOf(OtlpError);
      expect((answer as OtlpError).kind).toBe('unavailable');
      expect((answer as OtlpError).message).toMatch(/timeout exceeded when trying to connect/);
    } finally {
      held.release();
      await small.end();
    }
  });

  it('drops a request already answered (its deadline passed) before writing, and writes the rest', async () => {
    await query(db.url, 'TRUNCATE scratch');
    const { pending, outcomes } = batch(['kept', 'expired']);
    const expired = pending[1] as Pending<string>;
    pending[1] = { ...expired, claim: () => false };
    const w = writers();
    w.enqueue('traces', pending, scratchWrite(() => undefined));
    expect(await outcomes[0]).toBe('ok');
    await w.idle();
    expect(await stored()).toEqual(['kept']);
  });
});

describe('classifyDbError', () => {
  it.each([
    [new TypeError('x is not a function'), 'bug'],
    [new RangeError('offset out of range'), 'bug'],
    [new Error('Connection terminated unexpectedly'), 'retryable'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'retryable'],
  ] as const)('%s → %s', (err, expected) => {
    expect(classifyDbError(err)).toBe(expected);
  });
});
