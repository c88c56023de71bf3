// Acceptance (issue 5, retry after a lost answer; issue 12, dedupe beyond a sequential trace retry): a
// request sent again with the same bytes after its first commit leaves its rows once under the default
// configuration, with --dedupe false twice. Also: an answer lost after COMMIT (the client gave up while
// the batch was being written), a retry racing its original on another writer, logs and metrics, the
// digest window and its pruning, and the duplicate counter on /metrics. Writers are held inside their
// transaction, just after recording their digests, by a lock the test owns (a trigger waits for it), so
// what is claimed, blocked and committed is decided by events seen in pg_stat_activity, not by timing.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Signal } from '../../src/decode/types.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, summariesFolded, until } from '../helpers/database.js';
import { grpcExport, httpPost, jsonToProtobuf } from '../helpers/otlp.js';
import { sendOnce, spanRequest, succeeded, type Transport } from '../helpers/sender.js';
import { scrapeMetrics, startTestServer } from '../helpers/server.js';

const LOCK = 4444;
const TRANSPORTS: readonly Transport[] = ['http/json', 'http/protobuf', 'grpc'];
const GRPC_METHOD: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dedupe: RunningServer;
/** A second otlp-pg on the same database, as behind a load balancer. */
let peer: RunningServer;
let plain: RunningServer;
let holder: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  dedupe = await startTestServer(db.url, { writers: '2' });
  peer = await startTestServer(db.url);
  plain = await startTestServer(db.url, { dedupe: 'false' });
  // Every digest insert waits here, inside its writer's transaction, while the test holds the lock:
  // the request has been claimed for writing and its digest inserted, but nothing is committed.
  await query(db.url, `CREATE FUNCTION dedupe_test_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(${LOCK}); RETURN NULL; END $$`);
  await query(db.url, 'CREATE TRIGGER dedupe_test_hold AFTER INSERT ON otlp_pg_requests FOR EACH STATEMENT EXECUTE FUNCTION dedupe_test_hold()');
  holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
});

afterEach(async () => {
  // A failed test must not leave the writers held for the next.
  await holder?.query('SELECT pg_advisory_unlock_all()');
});

afterAll(async () => {
  await holder?.end();
  await dedupe?.shutdown();
  await peer?.shutdown();
  await plain?.shutdown();
  await db?.drop();
});

const ports = (s: RunningServer) => ({ grpc: s.grpc.port, http: s.http.port });

async function hold(): Promise<void> {
  await holder.query('SELECT pg_advisory_lock($1)', [LOCK]);
}

async function release(): Promise<void> {
  await holder.query('SELECT pg_advisory_unlock($1)', [LOCK]);
}

/** Writers of any otlp-pg on the test database waiting inside their digest insert, and on what. */
async function digestInserts(): Promise<{ pid: number; waitEvent: string; blockedBy: number[] }[]> {
  return query<{ pid: number; waitEvent: string; blockedBy: number[] }>(
    db.url,
    `SELECT pid, wait_event AS "waitEvent", pg_blocking_pids(pid) AS "blockedBy" FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'otlp-pg' AND wait_event_type = 'Lock'
        AND query LIKE '%INSERT INTO otlp_pg_requests%'`,
  );
}

/**
 * Waits until one writer holds its batch for the test's lock, digest inserted; returns its backend.
 * `gone`: a backend just terminated, which may still be listed for a moment.
 */
async function writerHeld(gone?: number): Promise<number> {
  let pid: number | undefined;
  await until(async () => {
    const held = (await digestInserts()).filter((w) => w.waitEvent === 'advisory' && w.pid !== gone);
    pid = held.length === 1 ? held[0]?.pid : undefined;
    return pid !== undefined;
  }, 'a writer held after inserting its digest');
  return pid as number;
}

/** The request's bytes as the transport carries them: a retry sends these very bytes again. */
function encode(transport: Transport, signal: Signal, json: unknown): Buffer {
  return transport === 'http/json' ? Buffer.from(JSON.stringify(json)) : jsonToProtobuf(signal, json);
}

const OK: Record<Transport, number> = { 'http/json': 200, 'http/protobuf': 200, grpc: 0 };

/** One export of `bytes`; the answer's status (HTTP) or code (gRPC) and its message. */
async function exportOnce(transport: Transport, s: RunningServer, signal: Signal, bytes: Buffer): Promise<{ code: number; message: string }> {
  if (transport === 'grpc') {
    const res = await grpcExport(s.grpc.port, signal, bytes);
    return { code: res.code, message: res.details };
  }
  const type = transport === 'http/json' ? 'application/json' : 'application/x-protobuf';
  const res = await httpPost(s.http.port, `/v1/${signal}`, bytes, { 'Content-Type': type });
  return { code: res.status, message: res.body.toString() };
}

/**
 * An export the client can give up on: HTTP destroys its socket, gRPC cancels its call. `outcome` is
 * 'answered' if an answer arrived first, 'gave up' otherwise.
 */
function abandonable(transport: Transport, s: RunningServer, signal: Signal, bytes: Buffer): { giveUp(): void; outcome: Promise<'answered' | 'gave up'> } {
  if (transport === 'grpc') {
    const client = new grpc.Client(`127.0.0.1:${s.grpc.port}`, grpc.credentials.createInsecure());
    let call: grpc.ClientUnaryCall | undefined;
    const outcome = new Promise<'answered' | 'gave up'>((resolve) => {
      const identity = (b: Buffer): Buffer => b;
      call = client.makeUnaryRequest(GRPC_METHOD[signal], identity, identity, bytes, new grpc.Metadata(), {}, (err) => {
        client.close();
        resolve(err?.code === grpc.status.CANCELLED ? 'gave up' : 'answered');
      });
    });
    return { giveUp: () => call?.cancel(), outcome };
  }
  const req = http.request({
    host: '127.0.0.1',
    port: s.http.port,
    path: `/v1/${signal}`,
    method: 'POST',
    agent: false,
    headers: { 'Content-Type': transport === 'http/json' ? 'application/json' : 'application/x-protobuf', 'Content-Length': bytes.length },
  });
  const outcome = new Promise<'answered' | 'gave up'>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve('answered');
    });
    req.on('error', () => resolve('gave up'));
    req.on('close', () => resolve('gave up'));
  });
  req.end(bytes);
  return { giveUp: () => req.destroy(), outcome };
}

/** Tracks whether an answer has arrived yet. */
function tracked<T>(answer: Promise<T>): { answer: Promise<T>; settled: () => boolean } {
  let done = false;
  void answer.then(() => (done = true));
  return { answer, settled: () => done };
}

async function copies(spanIds: string[]): Promise<number> {
  const [row] = await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM trace_spans WHERE encode(span_id, 'hex') = ANY($1)`, [spanIds]);
  return Number(row?.n);
}

async function traceSpanCount(spanIds: string[]): Promise<number> {
  await summariesFolded(db.url);
  const [row] = await query<{ n: number }>(
    db.url,
    `SELECT t.span_count AS n FROM traces t WHERE t.trace_id = (SELECT trace_id FROM trace_spans WHERE encode(span_id, 'hex') = $1 LIMIT 1)`,
    [spanIds[0]],
  );
  return Number(row?.n);
}

/** otlp_pg_exporter_duplicate_requests_total of one signal as scraped from /metrics (absent: 0). */
async function duplicates(s: RunningServer, signal: Signal = 'traces'): Promise<number> {
  return (await scrapeMetrics(s)).get(`otlp_pg_exporter_duplicate_requests_total{signal="${signal}"}`) ?? 0;
}

/** The digests in otlp_pg_requests (hex). */
async function digests(): Promise<Set<string>> {
  const rows = await query<{ k: string }>(db.url, `SELECT encode(request_key, 'hex') AS k FROM otlp_pg_requests`);
  return new Set(rows.map((r) => r.k));
}

/** Logs request of `records` records carrying a fresh marker attribute. */
function logRequest(records: number): { body: unknown; marker: string } {
  const marker = randomBytes(8).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    marker,
    body: {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'dedupe' } }] },
          scopeLogs: [
            {
              scope: { name: 'dedupe-test' },
              logRecords: Array.from({ length: records }, (_, i) => ({
                timeUnixNano: (now + BigInt(i)).toString(),
                observedTimeUnixNano: (now + BigInt(i)).toString(),
                severityNumber: 9,
                severityText: 'INFO',
                body: { stringValue: `record ${i}` },
                attributes: [{ key: 'test.marker', value: { stringValue: marker } }],
              })),
            },
          ],
        },
      ],
    },
  };
}

/** Metrics request of one gauge, with a fresh name, of `points` data points. */
function metricRequest(points: number): { body: unknown; name: string } {
  const name = `dedupe.test.${randomBytes(8).toString('hex')}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    name,
    body: {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'dedupe' } }] },
          scopeMetrics: [
            {
              scope: { name: 'dedupe-test' },
              metrics: [
                {
                  name,
                  unit: '1',
                  gauge: {
                    dataPoints: Array.from({ length: points }, (_, i) => ({
                      timeUnixNano: (now + BigInt(i)).toString(),
                      asDouble: i + 0.5,
                      attributes: [{ key: 'point', value: { intValue: String(i) } }],
                    })),
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

describe.each<Transport>(TRANSPORTS)('a retried request over %s', (transport) => {
  it('is stored once by default, and its trace counts its spans once', async () => {
    const req = spanRequest(4);
    expect(succeeded(await sendOnce(transport, ports(dedupe), req.body))).toBe(true);
    // The retry of a client that never saw the first answer: the very same request.
    expect(succeeded(await sendOnce(transport, ports(dedupe), req.body))).toBe(true);
    expect(await copies(req.spanIds)).toBe(4);
    expect(await traceSpanCount(req.spanIds)).toBe(4);
  });

  it('is stored twice with --dedupe false', async () => {
    const req = spanRequest(4);
    expect(succeeded(await sendOnce(transport, ports(plain), req.body))).toBe(true);
    expect(succeeded(await sendOnce(transport, ports(plain), req.body))).toBe(true);
    expect(await copies(req.spanIds)).toBe(8);
  });

  // "Late" is no longer a deadline passing before the write (such a request is taken out of its batch,
  // answered retryable and never stored: overload.test.ts). It is the answer lost once the batch holding
  // the request is being written: the client gives up, the rows commit anyway, the client retries.
  it('after a late commit (the client gave up while its batch was being written; the rows committed anyway) is stored once', async () => {
    const req = spanRequest(3);
    const bytes = encode(transport, 'traces', req.body);
    const before = await duplicates(dedupe);
    await hold();
    const first = abandonable(transport, dedupe, 'traces', bytes);
    await writerHeld();
    first.giveUp();
    expect(await first.outcome).toBe('gave up');
    expect(await copies(req.spanIds)).toBe(0);

    await release();
    // Nobody is told, but the batch commits: the rows appear.
    await until(async () => (await copies(req.spanIds)) === 3, 'the abandoned request committed');
    const retry = await exportOnce(transport, dedupe, 'traces', bytes);
    expect(retry.code, retry.message).toBe(OK[transport]);
    expect(await copies(req.spanIds)).toBe(3);
    expect(await traceSpanCount(req.spanIds)).toBe(3);
    expect((await duplicates(dedupe)) - before).toBe(1);
  });
});

describe('the same request twice at the same moment', () => {
  it('is stored once', async () => {
    const req = spanRequest(3);
    const answers = await Promise.all([sendOnce('http/json', ports(dedupe), req.body), sendOnce('http/json', ports(dedupe), req.body)]);
    expect(answers.every(succeeded)).toBe(true);
    expect(await copies(req.spanIds)).toBe(3);
  });

  it('in one batch is written once: the first copy claims the digest', async () => {
    // Two requests of two spans fill one batch of four; the long flush interval keeps the first waiting for the second.
    const s = await startTestServer(db.url, { 'batch-spans': '4', 'flush-interval': '60000' });
    try {
      const req = spanRequest(2);
      const first = tracked(sendOnce('http/protobuf', ports(s), req.body));
      await until(async () => (await scrapeMetrics(s)).get('otlp_pg_batcher_buffered_rows{signal="traces"}') === 2, 'the first copy waiting in its batch');
      const second = await sendOnce('http/protobuf', ports(s), req.body);
      expect(succeeded(second)).toBe(true);
      expect(succeeded(await first.answer)).toBe(true);
      expect(await copies(req.spanIds)).toBe(2);
      const m = await scrapeMetrics(s);
      expect(m.get('otlp_pg_exporter_batch_rows_count{signal="traces"}')).toBe(1); // one batch
      expect(m.get('otlp_pg_exporter_batch_rows_sum{signal="traces"}')).toBe(2); // of which one copy was written
      expect(m.get('otlp_pg_exporter_duplicate_requests_total{signal="traces"}')).toBe(1);
    } finally {
      await s.shutdown();
    }
  });
});

// The original is held inside its transaction, its digest inserted but not committed; the retry's batch
// goes to another writer, whose insert of the same digest waits on the unique key for the original's
// outcome. The retry is answered by that outcome: committed, it is a duplicate (success, nothing
// written); rolled back, the retry is written.
describe.each<[string, () => RunningServer]>([
  ['another writer of the same otlp-pg', () => dedupe],
  ['a writer of another otlp-pg on the same database', () => peer],
])('a retry racing its original on %s', (_, retryServer) => {
  it('waits for the original to commit, then is answered success and stored nothing', async () => {
    const req = spanRequest(2);
    const bytes = encode('http/protobuf', 'traces', req.body);
    const before = (await duplicates(dedupe)) + (await duplicates(peer));
    await hold();
    const original = tracked(exportOnce('http/protobuf', dedupe, 'traces', bytes));
    const held = await writerHeld();

    const retry = tracked(exportOnce('http/protobuf', retryServer(), 'traces', bytes));
    await until(
      async () => (await digestInserts()).some((w) => w.waitEvent === 'transactionid' && w.blockedBy.includes(held)),
      "the retry's digest insert waiting for the original's transaction",
    );
    expect(original.settled()).toBe(false);
    expect(retry.settled()).toBe(false);

    await release();
    const [o, r] = await Promise.all([original.answer, retry.answer]);
    expect(o.code, o.message).toBe(200);
    expect(r.code, r.message).toBe(200);
    expect(await copies(req.spanIds)).toBe(2);
    expect(await traceSpanCount(req.spanIds)).toBe(2);
    expect((await duplicates(dedupe)) + (await duplicates(peer)) - before).toBe(1);
  });

  it('is written once when the original rolls back instead; the original is answered retryable', async () => {
    const req = spanRequest(2);
    const bytes = encode('http/protobuf', 'traces', req.body);
    const before = (await duplicates(dedupe)) + (await duplicates(peer));
    await hold();
    const original = tracked(exportOnce('http/protobuf', dedupe, 'traces', bytes));
    const held = await writerHeld();
    const retry = tracked(exportOnce('http/protobuf', retryServer(), 'traces', bytes));
    await until(
      async () => (await digestInserts()).some((w) => w.waitEvent === 'transactionid' && w.blockedBy.includes(held)),
      "the retry's digest insert waiting for the original's transaction",
    );

    // The original's connection is cut: its transaction rolls back, and the retry's insert takes the digest.
    await query(db.url, 'SELECT pg_terminate_backend($1)', [held]);
    const o = await original.answer;
    expect(o.code, o.message).toBe(503);
    await writerHeld(held);
    expect(retry.settled()).toBe(false);
    expect(await copies(req.spanIds)).toBe(0);

    await release();
    const r = await retry.answer;
    expect(r.code, r.message).toBe(200);
    expect(await copies(req.spanIds)).toBe(2);
    expect((await duplicates(dedupe)) + (await duplicates(peer)) - before).toBe(0);
    // The original's client, told to retry, does: now that is the duplicate.
    const again = await exportOnce('http/protobuf', dedupe, 'traces', bytes);
    expect(again.code, again.message).toBe(200);
    expect(await copies(req.spanIds)).toBe(2);
    expect((await duplicates(dedupe)) + (await duplicates(peer)) - before).toBe(1);
  });
});

describe.each<Transport>(TRANSPORTS)('over %s', (transport) => {
  it('a retried logs request is stored once by default, twice with --dedupe false', async () => {
    const req = logRequest(3);
    const stored = async (): Promise<number> =>
      Number((await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM logs WHERE attributes->>'test.marker' = $1`, [req.marker]))[0]?.n);
    const bytes = encode(transport, 'logs', req.body);
    const before = await duplicates(dedupe, 'logs');
    for (let i = 0; i < 2; i++) {
      const a = await exportOnce(transport, dedupe, 'logs', bytes);
      expect(a.code, a.message).toBe(OK[transport]);
    }
    expect(await stored()).toBe(3);
    expect((await duplicates(dedupe, 'logs')) - before).toBe(1);

    const other = logRequest(3);
    const otherBytes = encode(transport, 'logs', other.body);
    for (let i = 0; i < 2; i++) expect((await exportOnce(transport, plain, 'logs', otherBytes)).code).toBe(OK[transport]);
    expect(Number((await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM logs WHERE attributes->>'test.marker' = $1`, [other.marker]))[0]?.n)).toBe(6);
  });

  it('a retried metrics request is stored once by default, twice with --dedupe false, and its series once either way', async () => {
    const points = async (name: string): Promise<number> =>
      Number(
        (await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM metric_data_points p JOIN metrics m USING (metric_id) WHERE m.name = $1', [name]))[0]?.n,
      );
    const series = (name: string) => query(db.url, 'SELECT metric_id, type, resource_id, scope_id, first_seen FROM metrics WHERE name = $1', [name]);
    const req = metricRequest(3);
    const bytes = encode(transport, 'metrics', req.body);
    const before = await duplicates(dedupe, 'metrics');
    const first = await exportOnce(transport, dedupe, 'metrics', bytes);
    expect(first.code, first.message).toBe(OK[transport]);
    const seriesAfterFirst = await series(req.name);
    expect(seriesAfterFirst).toHaveLength(1);
    const retry = await exportOnce(transport, dedupe, 'metrics', bytes);
    expect(retry.code, retry.message).toBe(OK[transport]);
    expect(await points(req.name)).toBe(3);
    expect(await series(req.name)).toEqual(seriesAfterFirst);
    expect((await duplicates(dedupe, 'metrics')) - before).toBe(1);

    const other = metricRequest(3);
    const otherBytes = encode(transport, 'metrics', other.body);
    for (let i = 0; i < 2; i++) expect((await exportOnce(transport, plain, 'metrics', otherBytes)).code).toBe(OK[transport]);
    expect(await points(other.name)).toBe(6);
    expect(await series(other.name)).toHaveLength(1);
  });
});

describe('the dedupe window', () => {
  it('forgets a digest older than --dedupe-window once pruning runs: a retry after that is stored again, one within the window is not', async () => {
    const old = spanRequest(2);
    const recent = spanRequest(2);
    /** Sends once and returns the one digest that sending recorded. */
    const sendAndDigest = async (body: unknown): Promise<string> => {
      const known = await digests();
      expect(succeeded(await sendOnce('http/protobuf', ports(dedupe), body))).toBe(true);
      const added = [...(await digests())].filter((k) => !known.has(k));
      expect(added).toHaveLength(1);
      return added[0] as string;
    };
    const oldKey = await sendAndDigest(old.body);
    const recentKey = await sendAndDigest(recent.body);
    // Time moves by the data: one digest dated back past the 10-minute window, one still within it.
    await query(db.url, `UPDATE otlp_pg_requests SET received_at = now() - interval '20 minutes' WHERE request_key = decode($1, 'hex')`, [oldKey]);
    await query(db.url, `UPDATE otlp_pg_requests SET received_at = now() - interval '5 minutes' WHERE request_key = decode($1, 'hex')`, [recentKey]);

    // Until pruning runs, a digest is still there, however old, and a retry is recognised.
    expect(succeeded(await sendOnce('http/protobuf', ports(dedupe), old.body))).toBe(true);
    expect(await copies(old.spanIds)).toBe(2);

    // Pruning runs when otlp-pg starts and every 10 minutes after: this start prunes now.
    const s = await startTestServer(db.url, { 'dedupe-window': '10m' });
    try {
      const left = await digests();
      expect(left.has(oldKey)).toBe(false);
      expect(left.has(recentKey)).toBe(true);
      // Documented: a retry arriving after its digest is forgotten is stored again.
      expect(succeeded(await sendOnce('http/protobuf', ports(s), old.body))).toBe(true);
      expect(await copies(old.spanIds)).toBe(4);
      expect(succeeded(await sendOnce('http/protobuf', ports(s), recent.body))).toBe(true);
      expect(await copies(recent.spanIds)).toBe(2);
    } finally {
      await s.shutdown();
    }
  });
});

describe('otlp_pg_exporter_duplicate_requests_total', () => {
  it('counts exactly the requests acknowledged as duplicates, per signal', async () => {
    const s = await startTestServer(db.url);
    try {
      const once = spanRequest(2);
      const thrice = spanRequest(2);
      const logs = logRequest(2);
      const logBytes = encode('grpc', 'logs', logs.body);
      expect(succeeded(await sendOnce('grpc', ports(s), once.body))).toBe(true);
      for (let i = 0; i < 4; i++) expect(succeeded(await sendOnce('http/json', ports(s), thrice.body))).toBe(true);
      for (let i = 0; i < 3; i++) expect((await exportOnce('grpc', s, 'logs', logBytes)).code).toBe(0);

      const m = await scrapeMetrics(s);
      expect(m.get('otlp_pg_exporter_duplicate_requests_total{signal="traces"}')).toBe(3);
      expect(m.get('otlp_pg_exporter_duplicate_requests_total{signal="logs"}')).toBe(2);
      expect(m.get('otlp_pg_exporter_duplicate_requests_total{signal="metrics"}')).toBeUndefined();
      // Duplicates are accepted (answered success) but not sent (written) again.
      expect(m.get('otlp_pg_receiver_accepted_spans_total')).toBe(10);
      expect(m.get('otlp_pg_exporter_sent_spans_total')).toBe(4);
      expect(m.get('otlp_pg_exporter_sent_log_records_total')).toBe(2);
      expect(await copies([...once.spanIds, ...thrice.spanIds])).toBe(4);
    } finally {
      await s.shutdown();
    }
  });
});
