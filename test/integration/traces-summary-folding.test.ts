// Acceptance (issue: trace summaries off the acknowledgement path): the ack path only appends, and
// `traces` is exact once the folder has caught up, whatever the order and split of the spans, the
// number of processes, and wherever a process or a fold is killed.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_TRACE_SUMMARY } from '../../src/db/locks.js';
import { Random } from '../../src/loadgen/random.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, summariesFolded, until } from '../helpers/database.js';
import { grpcExport, httpPost, jsonToProtobuf } from '../helpers/otlp.js';
import { freePort } from '../helpers/ports.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { startTestServer } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const T0 = 1_764_000_000_000_000_000n; // 2025-11-24T16:00:00Z

interface TestSpan {
  traceId: string;
  spanId: string;
  parent: string;
  service: string;
  name: string;
  start: bigint;
  end: bigint;
  error: boolean;
}

/**
 * `count` traces of 1 to 12 spans from several services; some spans are errors, some traces have no
 * root (it never arrives), a few have two parentless spans, and spans may share a trace's earliest
 * start (the tie rules decide).
 */
function makeTraces(seed: number, count: number): TestSpan[] {
  const rng = new Random(seed);
  const next = (): number => rng.next();
  const hex = (bytes: number): string => rng.hex(bytes);
  const spans: TestSpan[] = [];
  for (let t = 0; t < count; t++) {
    const traceId = hex(16);
    const n = 1 + Math.floor(next() * 12);
    const rootId = hex(8);
    const shape = next();
    for (let i = 0; i < n; i++) {
      const isRoot = i === 0 ? shape > 0.15 : shape > 0.9 && i === n - 1;
      const start = T0 + BigInt(t) * 1_000_000n + BigInt(Math.floor(next() * 4) * 100);
      spans.push({
        traceId,
        spanId: i === 0 ? rootId : hex(8),
        parent: isRoot ? '' : i === 0 ? hex(8) : rootId,
        service: `svc-${Math.floor(next() * 5)}${i % 4 === 0 ? ' ü' : ''}`,
        name: i % 3 === 0 ? `op-${i} 😀 é` : `op-${i}`, // characters of 1 to 4 UTF-8 bytes, 2 UTF-16 units
        start,
        end: start + BigInt(1 + Math.floor(next() * 10_000)),
        error: next() < 0.2,
      });
    }
  }
  return spans;
}

/** In place, Fisher–Yates with the seeded generator. */
function shuffle<T>(items: T[], seed: number): T[] {
  const rng = new Random(seed);
  const next = (): number => rng.next();
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** One OTLP/JSON request of these spans, grouped by service as SDKs send them. */
function request(spans: readonly TestSpan[]): unknown {
  const byService = new Map<string, TestSpan[]>();
  for (const s of spans) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  return {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: 'folding-test' },
          spans: list.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parent,
            name: s.name,
            kind: 2,
            startTimeUnixNano: s.start.toString(),
            endTimeUnixNano: s.end.toString(),
            status: s.error ? { code: 2 } : {},
          })),
        },
      ],
    })),
  };
}

type Transport = 'http/json' | 'http/protobuf' | 'grpc';
const TRANSPORTS: readonly Transport[] = ['http/json', 'http/protobuf', 'grpc'];

async function send(ports: { grpc: number; http: number }, transport: Transport, body: unknown): Promise<void> {
  if (transport === 'grpc') {
    expect((await grpcExport(ports.grpc, 'traces', jsonToProtobuf('traces', body))).code).toBe(0);
    return;
  }
  const proto = transport === 'http/protobuf';
  const res = await httpPost(ports.http, '/v1/traces', proto ? jsonToProtobuf('traces', body) : JSON.stringify(body), {
    'Content-Type': proto ? 'application/x-protobuf' : 'application/json',
  });
  expect(res.status).toBe(200);
}

/** Cuts the spans into requests of 1 to `most` spans each, in their order. */
function split(spans: readonly TestSpan[], most: number, seed: number): TestSpan[][] {
  const rng = new Random(seed);
  const next = (): number => rng.next();
  const out: TestSpan[][] = [];
  for (let i = 0; i < spans.length; ) {
    const n = 1 + Math.floor(next() * most);
    out.push(spans.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Sends every request, `parallel` at a time, spread over the targets and transports in turn. */
async function sendAll(targets: readonly { grpc: number; http: number }[], requests: readonly TestSpan[][], parallel = 8): Promise<void> {
  for (let i = 0; i < requests.length; i += parallel) {
    await Promise.all(
      requests.slice(i, i + parallel).map((spans, k) =>
        send(targets[(i + k) % targets.length] as { grpc: number; http: number }, TRANSPORTS[(i + k) % TRANSPORTS.length] as Transport, request(spans)),
      ),
    );
  }
}

interface Summary {
  trace_id: string;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  duration_ns: string;
  service_name: string;
  root_span_id: string | null;
  root_span_name: string | null;
  span_count: number;
  error_count: number;
  start_time: Date;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * What `traces` must say, worked out here from the spans sent: the rules of
 * migrations/0005_trace_summary_parts.sql, independent of how they arrived.
 */
function expected(spans: readonly TestSpan[]): Summary[] {
  const byTrace = new Map<string, TestSpan[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  return [...byTrace]
    .map(([traceId, list]) => {
      const start = list.reduce((m, s) => (s.start < m ? s.start : m), list[0]!.start);
      const end = list.reduce((m, s) => (s.end > m ? s.end : m), list[0]!.end);
      const root = list.filter((s) => s.parent === '').sort((a, b) => byteOrder(a.spanId, b.spanId))[0];
      const first = list.filter((s) => s.start === start).sort((a, b) => byteOrder(a.service, b.service))[0]!;
      return {
        trace_id: traceId,
        start_time_unix_nano: start.toString(),
        end_time_unix_nano: end.toString(),
        duration_ns: (end - start).toString(),
        service_name: root ? root.service : first.service,
        root_span_id: root?.spanId ?? null,
        root_span_name: root?.name ?? null,
        span_count: list.length,
        error_count: list.filter((s) => s.error).length,
        start_time: new Date(Number(start / 1_000_000n)),
      };
    })
    .sort((a, b) => byteOrder(a.trace_id, b.trace_id));
}

/** The `traces` rows of these traces, one per row stored (so a duplicate row would show). */
async function stored(spans: readonly TestSpan[]): Promise<Summary[]> {
  const ids = [...new Set(spans.map((s) => s.traceId))];
  const rows = await query<Summary>(
    db.url,
    `SELECT encode(trace_id, 'hex') AS trace_id, start_time_unix_nano, end_time_unix_nano, duration_ns, service_name,
            encode(root_span_id, 'hex') AS root_span_id, root_span_name, span_count, error_count, start_time
       FROM traces WHERE encode(trace_id, 'hex') = ANY($1)`,
    [ids],
  );
  return rows.sort((a, b) => byteOrder(a.trace_id, b.trace_id));
}

async function partsLeft(): Promise<number> {
  const [row] = await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM trace_summary_parts');
  return Number(row?.n);
}

const portsOf = (s: RunningServer): { grpc: number; http: number } => ({ grpc: s.grpc.port, http: s.http.port });

describe('trace summaries', () => {
  it('are exact for spans in any order and split, sent through two processes at once over every transport', async () => {
    const processes: ServerProcess[] = [];
    try {
      const targets = await Promise.all(
        [0, 1].map(async () => {
          const ports = { grpc: await freePort(), http: await freePort() };
          processes.push(await startServerProcess(db.url, ports, ['--summary-interval', '20', '--flush-interval', '20']));
          return ports;
        }),
      );
      const spans = makeTraces(1, 60);
      await sendAll(targets, split(shuffle([...spans], 2), 9, 3));
      await summariesFolded(db.url);
      expect(await stored(spans)).toEqual(expected(spans));

      // Late spans of the same traces, after their rows were folded, merge into those rows.
      const late = makeTraces(1, 60).map((s, i) => ({ ...s, spanId: `${s.spanId.slice(0, 12)}${(i % 65536).toString(16).padStart(4, '0')}`, parent: s.parent === '' ? '' : s.parent, start: s.start - 50n }));
      await sendAll(targets, split(shuffle([...late], 4), 5, 5));
      await summariesFolded(db.url);
      expect(await stored([...spans, ...late])).toEqual(expected([...spans, ...late]));
    } finally {
      for (const p of processes) await p.stop();
    }
  });

  it('leave the acknowledgement path: spans are acknowledged while another session holds traces and the fold lock', async () => {
    const server = await startTestServer(db.url);
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      // Had a writer to update a `traces` row or take the fold's advisory lock before COMMIT, its
      // requests would wait here until answered "retry" at the request timeout.
      await blocker.query('SELECT pg_advisory_lock($1)', [LOCK_TRACE_SUMMARY]);
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE traces IN EXCLUSIVE MODE');
      const spans = makeTraces(7, 30);
      await sendAll([portsOf(server)], split(shuffle([...spans], 8), 6, 9), 6);
      expect(await stored(spans)).toEqual([]);
      expect(await partsLeft()).toBeGreaterThan(0);

      await blocker.query('ROLLBACK');
      await blocker.query('SELECT pg_advisory_unlock($1)', [LOCK_TRACE_SUMMARY]);
      await summariesFolded(db.url);
      expect(await stored(spans)).toEqual(expected(spans));
    } finally {
      await blocker.end();
      await server.shutdown();
    }
  });

  it('cost a writer no advisory lock and no lock on traces between BEGIN and COMMIT', async () => {
    const server = await startTestServer(db.url);
    const gate = new pg.Client({ connectionString: db.url });
    await gate.connect();
    try {
      // The batch's last statement before COMMIT (its summary parts) waits at a gate this test holds,
      // so the batch's transaction can be looked at with everything it took still held.
      await gate.query(`CREATE TABLE gate (x int)`);
      await gate.query(`CREATE FUNCTION wait_at_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM 1 FROM gate FOR SHARE; RETURN NULL; END $$`);
      await gate.query(`CREATE TRIGGER wait_at_gate AFTER INSERT ON trace_summary_parts FOR EACH STATEMENT EXECUTE FUNCTION wait_at_gate()`);
      await gate.query('BEGIN');
      await gate.query('LOCK TABLE gate IN EXCLUSIVE MODE');
      const spans = makeTraces(31, 10);
      const sent = sendAll([portsOf(server)], [spans]);
      let writer: number | undefined;
      await until(async () => {
        const [row] = await query<{ pid: number }>(
          db.url,
          `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
            WHERE a.application_name = 'otlp-pg' AND NOT l.granted AND l.relation = 'gate'::regclass`,
        );
        writer = row?.pid;
        return writer !== undefined;
      }, 'a batch waiting at the gate');
      const held = await query<{ locktype: string; relation: string | null }>(
        db.url,
        `SELECT locktype, relation::regclass::text AS relation FROM pg_locks WHERE pid = $1 AND granted`,
        [writer],
      );
      expect(held.filter((l) => l.locktype === 'advisory')).toEqual([]);
      expect(held.filter((l) => l.relation !== null && /^traces(_|$)/.test(l.relation))).toEqual([]);
      // It does hold what it appends to: the test would prove nothing if it looked at the wrong moment.
      expect(held.some((l) => l.relation === 'trace_summary_parts')).toBe(true);
      expect(held.some((l) => l.relation?.startsWith('trace_spans'))).toBe(true);
      await gate.query('ROLLBACK');
      await sent;
    } finally {
      await gate.query('DROP TRIGGER IF EXISTS wait_at_gate ON trace_summary_parts').catch(() => undefined);
      await gate.end();
      await server.shutdown();
    }
  });

  it('stay exact when a fold is killed midway: its transaction rolls back and the next fold takes the parts', async () => {
    const server = await startTestServer(db.url);
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      const spans = makeTraces(11, 20);
      await sendAll([portsOf(server)], split(spans, 7, 12));
      await summariesFolded(db.url);

      // A row lock on one trace the next fold must update holds that fold midway: parts deleted and
      // other rows changed inside its transaction, which the kill then aborts.
      const held = spans[spans.length - 1]!.traceId;
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM traces WHERE trace_id = decode($1, 'hex') FOR UPDATE`, [held]);
      const more = makeTraces(11, 20).map((s) => ({ ...s, spanId: s.spanId.replace(/^../, 'ee'), parent: s.parent === '' ? '' : s.parent, end: s.end + 1_000n }));
      await sendAll([portsOf(server)], split(shuffle([...more], 13), 7, 14));
      let fold: number | undefined;
      await until(async () => {
        const [row] = await query<{ pid: number }>(
          db.url,
          `SELECT pid FROM pg_stat_activity
            WHERE query LIKE '%otlp_pg_fold_trace_summaries%' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        fold = row?.pid;
        return fold !== undefined;
      }, 'a fold waiting on the held row');
      const [killed] = await query<{ ok: boolean }>(db.url, 'SELECT pg_terminate_backend($1) AS ok', [fold]);
      expect(killed?.ok).toBe(true);
      await blocker.query('ROLLBACK');

      await summariesFolded(db.url);
      expect(await stored([...spans, ...more])).toEqual(expected([...spans, ...more]));
    } finally {
      await blocker.end();
      await server.shutdown();
    }
  });

  it('of spans acknowledged by a process killed before it folded them are made by the next process', async () => {
    const ports = { grpc: await freePort(), http: await freePort() };
    // A folder that would not run for ten minutes: the kill comes between ack and summary.
    const doomed = await startServerProcess(db.url, ports, ['--summary-interval', '10m', '--flush-interval', '20']);
    const spans = makeTraces(21, 25);
    try {
      await sendAll([ports], split(shuffle([...spans], 22), 8, 23));
    } finally {
      doomed.child.kill('SIGKILL');
      await doomed.exited;
    }
    expect(await partsLeft()).toBeGreaterThan(0);
    expect(await stored(spans)).toEqual([]);

    const next = await startTestServer(db.url);
    try {
      await summariesFolded(db.url);
      expect(await stored(spans)).toEqual(expected(spans));
    } finally {
      await next.shutdown();
    }
  });

  it('are folded under the advisory lock key otlp-pg reserves for them', async () => {
    const [fn] = await query<{ src: string }>(db.url, `SELECT prosrc AS src FROM pg_proc WHERE proname = 'otlp_pg_fold_trace_summaries'`);
    expect(fn?.src).toContain(`pg_try_advisory_xact_lock(${LOCK_TRACE_SUMMARY})`);
  });
});
