// Acceptance (issue 12): "nothing is acknowledged from memory" rests on a test, not on reading the code.
// A deferred constraint trigger runs at COMMIT, after every statement of the batch succeeded, so these
// make COMMIT itself fail: with a transient error (answered retryable, nothing stored, and the retry of
// the same bytes stored once), with an error of one request's rows (that request refused alone, the
// others of its batch committed), and by losing the connection while COMMIT waits (answered retryable,
// nothing stored).
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, until } from '../helpers/database.js';
import { sendOnce, spanRequest, succeeded, type Transport } from '../helpers/sender.js';
import { scrapeMetrics, startTestServer } from '../helpers/server.js';

const LOCK = 4343;
/** The server's retry hint (src/server.ts). */
const RETRY_AFTER_MS = 5000;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer | undefined;
let holder: pg.Client | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await holder?.end();
  holder = undefined;
  await server?.shutdown();
  server = undefined;
  await query(db.url, 'DROP TRIGGER IF EXISTS at_commit ON trace_spans');
  await query(db.url, 'TRUNCATE trace_spans, trace_summary_parts, traces, otlp_pg_requests');
});

afterAll(async () => {
  await db?.drop();
});

const ports = (s: RunningServer) => ({ grpc: s.grpc.port, http: s.http.port });

/** A constraint trigger deferred to COMMIT on every span row, running `body` (plpgsql). */
async function atCommit(body: string): Promise<void> {
  await query(db.url, `CREATE OR REPLACE FUNCTION at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} RETURN NULL; END $$`);
  await query(db.url, 'CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON trace_spans DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION at_commit()');
}

async function stored(spanIds: readonly string[]): Promise<number> {
  const rows = await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM trace_spans WHERE encode(span_id, 'hex') = ANY($1)`, [spanIds]);
  return Number(rows[0]?.n);
}

/** Rows a rolled-back batch would also have written: its summary parts and its request digests. */
async function sideRows(): Promise<{ parts: number; keys: number }> {
  const [row] = await query<{ parts: string; keys: string }>(
    db.url,
    'SELECT (SELECT count(*) FROM trace_summary_parts) AS parts, (SELECT count(*) FROM otlp_pg_requests) AS keys',
  );
  return { parts: Number(row?.parts), keys: Number(row?.keys) };
}

describe('a COMMIT that fails', () => {
  it.each<Transport>(['http/protobuf', 'grpc'])('with a transient error (serialization failure) is answered retryable over %s, stores nothing, and the retry is stored once', async (transport) => {
    const s = (server = await startTestServer(db.url, { writers: '1' }));
    await atCommit(`RAISE EXCEPTION 'conflict at commit' USING ERRCODE = '40001';`);
    const { body, spanIds } = spanRequest(3);

    const refused = await sendOnce(transport, ports(s), body);
    expect(refused.retryable).toBe(true);
    expect(refused.code).toBe(transport === 'grpc' ? 14 : 503); // UNAVAILABLE
    expect(refused.retryAfterMs).toBe(RETRY_AFTER_MS);
    expect(refused.body).toMatch(/database unavailable: conflict at commit/);
    expect(await stored(spanIds)).toBe(0);
    expect(await sideRows()).toEqual({ parts: 0, keys: 0 });
    const m = await scrapeMetrics(s);
    expect(m.get('otlp_pg_receiver_accepted_spans_total') ?? 0).toBe(0);
    expect(m.get('otlp_pg_exporter_send_failed_spans_total{reason="unavailable"}')).toBe(3);

    await query(db.url, 'DROP TRIGGER at_commit ON trace_spans');
    expect(succeeded(await sendOnce(transport, ports(s), body))).toBe(true);
    expect(await stored(spanIds)).toBe(3);
  });

  it('with an error of one request\'s rows refuses that request alone, permanently, and commits the others of its batch', async () => {
    // Three requests of two spans fill one batch of six: none is written before all three are in.
    const s = (server = await startTestServer(db.url, { writers: '1', 'batch-spans': '6', 'flush-interval': '60000' }));
    await atCommit(`IF NEW.name = 'refused at commit' THEN RAISE EXCEPTION 'this span may not be committed' USING ERRCODE = '23514'; END IF;`);
    const requests = [spanRequest(2), spanRequest(2), spanRequest(2)];
    const poisoned = requests[1] as ReturnType<typeof spanRequest>;
    (poisoned.body as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans[1]!.name = 'refused at commit';

    const answers = await Promise.all(requests.map((r) => sendOnce('http/protobuf', ports(s), r.body)));
    expect(answers.map((a) => a.code)).toEqual([200, 400, 200]);
    expect(answers[1]?.retryable).toBe(false);
    expect(answers[1]?.body).toMatch(/this span may not be committed/);
    expect(await stored(requests[0]!.spanIds)).toBe(2);
    expect(await stored(poisoned.spanIds)).toBe(0);
    expect(await stored(requests[2]!.spanIds)).toBe(2);
    // The batch was written whole first, failed at COMMIT, and was split to find the request at fault.
    const m = await scrapeMetrics(s);
    expect(m.get('otlp_pg_exporter_batch_splits_total{signal="traces"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('otlp_pg_exporter_send_failed_spans_total{reason="rejected"}')).toBe(2);
  });

  it('by losing its connection while COMMIT waits is answered retryable and stores nothing', async () => {
    const s = (server = await startTestServer(db.url, { writers: '1' }));
    // COMMIT waits for a lock the test holds, so the writer's backend can be cut while in COMMIT.
    await atCommit(`PERFORM pg_advisory_xact_lock_shared(${LOCK});`);
    holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [LOCK]);
    const { body, spanIds } = spanRequest(3);

    const answer = sendOnce('http/protobuf', ports(s), body);
    let pid: number | undefined;
    await until(async () => {
      const rows = await query<{ pid: number }>(
        db.url,
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'otlp-pg' AND datname = current_database() AND query = 'COMMIT' AND wait_event_type = 'Lock'`,
      );
      pid = rows[0]?.pid;
      return pid !== undefined;
    }, 'a writer waiting inside COMMIT');
    await query(db.url, 'SELECT pg_terminate_backend($1)', [pid]);

    const refused = await answer;
    expect(refused.code).toBe(503);
    expect(refused.retryAfterMs).toBe(RETRY_AFTER_MS);
    expect(refused.body).toMatch(/database unavailable/);
    await holder.query('SELECT pg_advisory_unlock($1)', [LOCK]);
    expect(await stored(spanIds)).toBe(0);
    expect(await sideRows()).toEqual({ parts: 0, keys: 0 });

    // The pool replaced the cut connection: the retry is written and stored once.
    await query(db.url, 'DROP TRIGGER at_commit ON trace_spans');
    expect(succeeded(await sendOnce('http/protobuf', ports(s), body))).toBe(true);
    expect(await stored(spanIds)).toBe(3);
  });
});
