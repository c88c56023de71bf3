// WriterPool against a fake transaction: the order of BEGIN, writes, COMMIT, ROLLBACK and release, the
// concurrency cap and its queue, when requests are answered, how a batch is split, and what drain and
// abort do. Every step is held by a gate the test opens, so nothing here depends on timing. The same
// class against a real PostgreSQL is in test/integration/writer-pool.test.ts.
import { DatabaseError } from 'pg';
import type pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { OtlpError } from '../../src/errors.js';
import type { Pending } from '../../src/pipeline/batcher.js';
import { WriterPool, type BatchWrite, type Connections } from '../../src/pipeline/writer-pool.js';
import { createTelemetry } from '../../src/telemetry/metrics.js';

class Gate {
  open!: () => void;
  fail!: (err: Error) => void;
  readonly passed = new Promise<void>((resolve, reject) => {
    this.open = resolve;
    this.fail = reject;
  });
}

/** A connection that logs every statement; a statement with a gate waits for it, or for end(). */
class FakeConnection {
  readonly gates = new Map<string, Gate>();
  private readonly held = new Set<Gate>();
  failing = new Map<string, Error>();

  constructor(
    readonly id: number,
    private readonly log: string[],
  ) {}

  async query(sql: string): Promise<{ rows: never[] }> {
    const statement = sql.startsWith('BEGIN') ? 'BEGIN' : sql;
    this.log.push(`${this.id} ${statement}`);
    const gate = this.gates.get(statement);
    if (gate) {
      this.held.add(gate);
      await gate.passed;
    }
    const err = this.failing.get(statement);
    if (err) throw err;
    return { rows: [] };
  }

  on(): void {}
  off(): void {}

  release(err?: Error): void {
    this.log.push(`${this.id} release${err ? ' broken' : ''}`);
  }

  end(): Promise<void> {
    this.log.push(`${this.id} end`);
    const cut = new Error('Connection terminated');
    // The connection is gone: what it waited for fails, and so does anything sent after.
    for (const gate of this.held) gate.fail(cut);
    for (const s of ['BEGIN', 'COMMIT', 'ROLLBACK', 'write']) this.failing.set(s, cut);
    return Promise.resolve();
  }
}

class FakePool implements Connections {
  readonly log: string[] = [];
  readonly connections: FakeConnection[] = [];
  /** Applied to each connection as it is handed out. */
  prepare: (c: FakeConnection) => void = () => undefined;

  connect(): Promise<pg.PoolClient> {
    const c = new FakeConnection(this.connections.length + 1, this.log);
    this.prepare(c);
    this.connections.push(c);
    return Promise.resolve(c as unknown as pg.PoolClient);
  }
}

const telemetry = () =>
  createTelemetry({
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

interface Outcomes {
  readonly pending: Pending<string>[];
  /** Each request's answer so far: undefined until answered. */
  readonly answers: ('ok' | OtlpError | undefined)[];
}

function requests(names: readonly string[], claims: readonly boolean[] = names.map(() => true)): Outcomes {
  const answers: ('ok' | OtlpError | undefined)[] = names.map(() => undefined);
  const pending = names.map((name, i) => ({
    rows: name,
    weight: 1,
    items: 1,
    bytes: 100,
    key: null,
    claim: () => claims[i] as boolean,
    resolve: () => void (answers[i] = 'ok'),
    reject: (err: OtlpError) => void (answers[i] = err),
  }));
  return { pending, answers };
}

/** Writes log "write a,b"; a batch holding `poison` fails as the data's fault (a check violation). */
const write =
  (poison?: string): BatchWrite<string> =>
  async (client, rows) => {
    await client.query('write');
    await client.query(`wrote ${rows.join(',')}`);
    if (poison !== undefined && rows.includes(poison)) {
      const err = new DatabaseError('new row violates check constraint', 0, 'error');
      err.code = '23514';
      throw err;
    }
  };

/** Resolves once `check` holds, re-checking after every turn of the event loop. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}

function writers(pool: FakePool, concurrency: number, onCommitted?: (bytes: number, busy: number, saturated: boolean) => void) {
  const t = telemetry();
  const w = new WriterPool(pool, { concurrency, statementTimeoutMs: 1000, retryAfterMs: 2000, logger: pino({ level: 'silent' }), telemetry: t, ...(onCommitted ? { onCommitted } : {}) });
  return { w, t };
}

describe('WriterPool (fake transaction)', () => {
  it('writes in one transaction and answers only after COMMIT returns', async () => {
    const pool = new FakePool();
    const commit = new Gate();
    pool.prepare = (c) => c.gates.set('COMMIT', commit);
    const { w } = writers(pool, 1);
    const r = requests(['a', 'b']);
    w.enqueue('traces', r.pending, write());

    await until(() => pool.log.includes('1 COMMIT'));
    expect(r.answers).toEqual([undefined, undefined]);
    commit.open();
    await w.idle();
    expect(r.answers).toEqual(['ok', 'ok']);
    expect(pool.log).toEqual(['1 BEGIN', '1 write', '1 wrote a,b', '1 COMMIT', '1 release']);
  });

  it('runs at most `concurrency` batches at once, the rest in arrival order, and idle() waits for the last', async () => {
    const pool = new FakePool();
    const gates: Gate[] = [];
    pool.prepare = (c) => {
      const g = new Gate();
      gates.push(g);
      c.gates.set('write', g);
    };
    const { w } = writers(pool, 2);
    const batches = ['a', 'b', 'c', 'd'].map((n) => requests([n]));
    for (const b of batches) w.enqueue('traces', b.pending, write());

    await until(() => gates.length === 2);
    expect(w.busy).toBe(4);
    let idle = false;
    void w.idle().then(() => (idle = true));
    gates[1]?.open(); // the second finishes first: the third starts, not the fourth
    await until(() => gates.length === 3);
    expect(pool.log.filter((l) => l.includes('wrote')).map((l) => l.split(' ')[2])).toEqual(['b']);
    gates[0]?.open();
    gates[2]?.open();
    await until(() => gates.length === 4);
    expect(idle).toBe(false);
    gates[3]?.open();
    await w.idle();
    expect(idle).toBe(true);
    expect(pool.log.filter((l) => l.includes('wrote')).map((l) => l.split(' ')[2])).toEqual(['b', 'a', 'c', 'd']);
    expect(batches.map((b) => b.answers[0])).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('splits a batch the data refused into halves, depth first, until the request at fault is alone', async () => {
    const pool = new FakePool();
    const { w, t } = writers(pool, 1);
    const r = requests(['a', 'b', 'c', 'd']);
    w.enqueue('traces', r.pending, write('c'));
    await w.idle();

    expect(pool.log.filter((l) => l.includes('wrote')).map((l) => l.split(' ')[2])).toEqual(['a,b,c,d', 'a,b', 'c,d', 'c', 'd']);
    // Every failed attempt rolled back, every connection went back to the pool whole.
    expect(pool.log.filter((l) => l.endsWith('ROLLBACK'))).toHaveLength(3);
    expect(pool.log.filter((l) => l.endsWith('release'))).toHaveLength(5);
    expect(r.answers.map((a) => (a instanceof OtlpError ? a.kind : a))).toEqual(['ok', 'ok', 'data_rejected', 'ok']);
    expect(await t.registry.getSingleMetricAsString('otlp_pg_exporter_batch_splits_total')).toMatch(/signal="traces"} 2$/m);
  });

  it('answers every request retryable when COMMIT fails for a reason not the data\'s, and splits nothing', async () => {
    const pool = new FakePool();
    pool.prepare = (c) => c.failing.set('COMMIT', new Error('Connection terminated unexpectedly'));
    const { w } = writers(pool, 1);
    const r = requests(['a', 'b']);
    w.enqueue('traces', r.pending, write());
    await w.idle();

    expect(r.answers.map((a) => (a instanceof OtlpError ? [a.kind, a.retryAfterMs] : a))).toEqual([
      ['unavailable', 2000],
      ['unavailable', 2000],
    ]);
    expect(pool.log).toEqual(['1 BEGIN', '1 write', '1 wrote a,b', '1 COMMIT', '1 ROLLBACK', '1 release']);
  });

  it('gives a connection whose ROLLBACK failed back as broken, so the pool discards it', async () => {
    const pool = new FakePool();
    pool.prepare = (c) => {
      c.failing.set('write', new Error('read ECONNRESET'));
      c.failing.set('ROLLBACK', new Error('read ECONNRESET'));
    };
    const { w } = writers(pool, 1);
    const r = requests(['a']);
    w.enqueue('traces', r.pending, write());
    await w.idle();
    expect(pool.log.at(-1)).toBe('1 release broken');
    expect((r.answers[0] as OtlpError).kind).toBe('unavailable');
  });

  it('never writes a request that was not claimed (already answered), nor connects for a batch of only those', async () => {
    const pool = new FakePool();
    const { w } = writers(pool, 1);
    const none = requests(['x'], [false]);
    w.enqueue('traces', none.pending, write());
    await w.idle();
    expect(pool.log).toEqual([]);
    expect(none.answers).toEqual([undefined]); // its answer was given by whoever took it back

    const some = requests(['a', 'x', 'b'], [true, false, true]);
    w.enqueue('traces', some.pending, write());
    await w.idle();
    expect(pool.log.filter((l) => l.includes('wrote'))).toEqual(['1 wrote a,b']);
    expect(some.answers).toEqual(['ok', undefined, 'ok']);
  });

  it('abort() refuses what is queued at once and cuts the connection being written, whose batch gets the same answer', async () => {
    const pool = new FakePool();
    const held = new Gate();
    pool.prepare = (c) => c.gates.set('write', held);
    const { w } = writers(pool, 1);
    const writing = requests(['a']);
    const queued = requests(['b']);
    w.enqueue('traces', writing.pending, write());
    w.enqueue('traces', queued.pending, write());
    await until(() => pool.log.includes('1 write'));

    const shutdown = new OtlpError('shutting_down', 'shut down before the request was committed', 2000);
    w.abort(shutdown);
    expect(queued.answers).toEqual([shutdown]);
    await w.idle();
    expect(writing.answers).toEqual([shutdown]); // not "database unavailable: Connection terminated"
    expect(pool.log).toEqual(['1 BEGIN', '1 write', '1 end', '1 ROLLBACK', '1 release broken']);
  });

  it('reports each commit with the bytes it held and whether batches were waiting for a writer', async () => {
    const pool = new FakePool();
    const first = new Gate();
    pool.prepare = (c) => {
      if (pool.connections.length === 0) c.gates.set('write', first);
    };
    const reports: [number, boolean][] = [];
    const { w } = writers(pool, 1, (bytes, busy, saturated) => {
      expect(busy).toBeGreaterThan(0);
      reports.push([bytes, saturated]);
    });
    w.enqueue('traces', requests(['a', 'b']).pending, write());
    w.enqueue('traces', requests(['c']).pending, write());
    await until(() => pool.log.includes('1 write'));
    first.open();
    await w.idle();
    expect(reports).toEqual([
      [200, true],
      [100, false],
    ]);
  });
});
