// Retention drops whole daily partitions past each signal's retention and keeps the rest; several
// processes maintaining at once do not trip over each other; rows in the DEFAULT partitions are
// counted, deleted past retention, and moved into their day's partition when they block it.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { countDefaultRows, maintainPartitions, retentionCutoff, type MaintenanceOptions, type MaintenanceReport } from '../../src/db/retention.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { httpPost } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

const DAY = 86_400_000;
const NOW = Date.now();
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const suffix = (ms: number): string => day(ms).replaceAll('-', '');
const ns = (ms: number): string => (BigInt(Math.round(ms)) * 1_000_000n).toString();
const KEEP = { traces: 0, logs: 0, metrics: 0 };
const ONE_DAY = { traces: DAY, logs: DAY, metrics: DAY };

let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase();
  await withClient((c) => migrate(c));
});

afterAll(async () => {
  await db?.drop();
});

async function withClient<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const maintain = (options: Partial<MaintenanceOptions>, now = NOW): Promise<MaintenanceReport> =>
  withClient((c) => maintainPartitions(c, { daysAhead: 3, retentionMs: KEEP, ...options }, now));

/** Daily partitions of every row table for the days from `from` to `to` (as if made back then). */
async function makePartitions(from: number, to: number): Promise<void> {
  await query(db.url, 'SELECT * FROM otlp_pg_ensure_partitions($1::date, $2::date)', [day(from), day(to)]);
}

async function partitionsEndingBy(table: string, cutoff: Date): Promise<string[]> {
  const rows = await query<{ name: string }>(
    db.url,
    'SELECT partition_name::text AS name FROM otlp_pg_partitions($1::regclass) WHERE NOT is_default AND upper_bound <= $2 ORDER BY 1',
    [table, cutoff],
  );
  return rows.map((r) => r.name);
}

/** One span (a trace of its own), one log record and one gauge point at `ms`, sent over OTLP/HTTP. */
async function send(port: number, ms: number, tag: number): Promise<void> {
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'retention' } }] };
  const bodies = {
    traces: {
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              spans: [
                { traceId: tag.toString(16).padStart(32, '0'), spanId: tag.toString(16).padStart(16, '0'), name: 'op', kind: 2, startTimeUnixNano: ns(ms), endTimeUnixNano: ns(ms + 5) },
              ],
            },
          ],
        },
      ],
    },
    logs: { resourceLogs: [{ resource, scopeLogs: [{ logRecords: [{ timeUnixNano: ns(ms), body: { stringValue: `log ${tag}` } }] }] }] },
    metrics: {
      resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: ns(ms), asInt: String(tag) }] } }] }] }],
    },
  };
  for (const [signal, body] of Object.entries(bodies)) {
    const res = await httpPost(port, `/v1/${signal}`, JSON.stringify(body), { 'Content-Type': 'application/json' });
    expect(res.status, signal).toBe(200);
  }
}

/** Where the rows sent with `tag` are: table → partition (absent when gone). */
async function whereIs(tag: number): Promise<Record<string, string>> {
  const id = Buffer.from(tag.toString(16).padStart(32, '0'), 'hex');
  const rows = await query<{ t: string; part: string }>(
    db.url,
    `SELECT 'trace_spans' AS t, tableoid::regclass::text AS part FROM trace_spans WHERE trace_id = $1
     UNION ALL SELECT 'traces', tableoid::regclass::text FROM traces WHERE trace_id = $1
     UNION ALL SELECT 'logs', tableoid::regclass::text FROM logs WHERE body #>> '{}' = $2
     UNION ALL SELECT 'metric_data_points', tableoid::regclass::text FROM metric_data_points WHERE value_int = $3`,
    [id, `log ${tag}`, tag],
  );
  return Object.fromEntries(rows.map((r) => [r.t, r.part]));
}

describe('retentionCutoff', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');
  it('is now − retention, never later than the start of yesterday, and none for 0', () => {
    expect(retentionCutoff(0, now)).toBeUndefined();
    expect(retentionCutoff(7 * DAY, now)?.toISOString()).toBe('2026-03-03T12:00:00.000Z');
    expect(retentionCutoff(DAY, now)?.toISOString()).toBe('2026-03-09T00:00:00.000Z');
    expect(retentionCutoff(3_600_000, now)?.toISOString()).toBe('2026-03-09T00:00:00.000Z');
  });
});

describe('retention', () => {
  const OLD = NOW - 8 * DAY;

  it('drops the partitions past each signal\'s retention at start, from two processes at once, and keeps current data', async () => {
    const first = await startTestServer(db.url);
    try {
      await makePartitions(NOW - 10 * DAY, NOW - 5 * DAY);
      await send(first.http.port, OLD, 1);
      await send(first.http.port, NOW - 60_000, 2);
    } finally {
      await first.shutdown();
    }
    const old = `_p${suffix(OLD)}`;
    expect(await whereIs(1)).toEqual({
      trace_spans: `trace_spans${old}`,
      traces: `traces${old}`,
      logs: `logs${old}`,
      metric_data_points: `metric_data_points${old}`,
    });

    // Traces and logs kept one day, metrics forever; both processes maintain as they start.
    const flags = { 'retention-traces': '1d', 'retention-logs': '1d' };
    const servers = await Promise.all([startTestServer(db.url, flags), startTestServer(db.url, flags)]);
    await Promise.all(servers.map((s) => s.shutdown()));

    const cutoff = retentionCutoff(DAY, Date.now()) as Date;
    for (const table of ['trace_spans', 'traces', 'logs']) expect(await partitionsEndingBy(table, cutoff), table).toEqual([]);
    expect(await partitionsEndingBy('metric_data_points', cutoff)).toHaveLength(6);
    expect(await whereIs(1)).toEqual({ metric_data_points: `metric_data_points${old}` });
    expect(Object.keys(await whereIs(2)).sort()).toEqual(['logs', 'metric_data_points', 'trace_spans', 'traces']);
  });

  it('two maintenance runs at once each drop what is theirs to drop, exactly once', async () => {
    await makePartitions(NOW - 20 * DAY, NOW - 15 * DAY);
    const cutoff = retentionCutoff(DAY, NOW) as Date;
    const expected = (await Promise.all(['trace_spans', 'traces', 'logs', 'metric_data_points'].map((t) => partitionsEndingBy(t, cutoff)))).flat();
    expect(expected).toHaveLength(4 * 6 + 6);

    const reports = await Promise.all([maintain({ retentionMs: ONE_DAY }), maintain({ retentionMs: ONE_DAY })]);
    const dropped = reports.flatMap((r) => r.dropped);
    expect(dropped.sort()).toEqual(expected.sort());
    expect(reports.flatMap((r) => r.deferred)).toEqual([]);
  });

  it('defers, rather than fails or stalls, when a table stays locked, and drops on the next run', async () => {
    await makePartitions(NOW - 40 * DAY, NOW - 40 * DAY);
    const victim = `logs_p${suffix(NOW - 40 * DAY)}`;
    const reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    try {
      // A long transaction that has read `logs` holds a lock that DROP must wait for.
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM logs');
      const report = await maintain({ retentionMs: { ...KEEP, logs: DAY }, lockTimeoutMs: 200 });
      expect(report.deferred).toEqual(['retention logs']);
      expect(report.dropped).toEqual([]);
      await reader.query('COMMIT');
    } finally {
      await reader.end();
    }
    expect((await maintain({ retentionMs: { ...KEEP, logs: DAY } })).dropped).toEqual([victim]);
  });
});

describe('DEFAULT partitions', () => {
  const PAST = NOW - 3 * DAY; // no partition: older than yesterday and never made
  const FUTURE = NOW + 30 * DAY; // no partition yet: beyond the days made ahead
  const TABLES = ['trace_spans', 'traces', 'logs', 'metric_data_points'];

  it('counts their rows, deletes those past retention, and moves a blocked day into its partition', async () => {
    const first = await startTestServer(db.url);
    try {
      await send(first.http.port, PAST, 3);
      await send(first.http.port, FUTURE, 4);
    } finally {
      await first.shutdown();
    }
    expect(await whereIs(3)).toEqual(Object.fromEntries(TABLES.map((t) => [t, `${t}_default`])));
    expect(await whereIs(4)).toEqual(Object.fromEntries(TABLES.map((t) => [t, `${t}_default`])));

    // Reported: two rows in each DEFAULT partition, from PAST to FUTURE.
    const seen = await maintain({});
    expect(seen.defaultRows).toEqual(
      TABLES.map((t) => ({ table: t, partition: `${t}_default`, rows: 2, capped: false, oldest: new Date(PAST), newest: new Date(FUTURE) })),
    );

    // Retention: the PAST rows go from DEFAULT (a DELETE confined to the DEFAULT partition).
    const kept = await maintain({ retentionMs: ONE_DAY });
    expect(kept.deletedFromDefault).toEqual(Object.fromEntries(TABLES.map((t) => [t, 1])));
    expect(await whereIs(3)).toEqual({});
    expect(kept.defaultRows.map((d) => d.rows)).toEqual([1, 1, 1, 1]);

    // A month later FUTURE's day is within the days made ahead, but its rows sit in DEFAULT, so
    // its partitions cannot be made: maintenance moves the rows into them. Two processes at once,
    // while a server keeps storing rows of that day: none is refused, none is left in DEFAULT.
    const later = FUTURE - DAY;
    const made = TABLES.map((t) => `${t}_p${suffix(FUTURE)}`);
    const server = await startTestServer(db.url);
    let reports: MaintenanceReport[] = [];
    let sent = 0;
    try {
      let done = false;
      const sending = (async () => {
        // Until the moves are done, then twice more.
        for (let after = 0; after < 2; after += done ? 1 : 0) {
          await send(server.http.port, FUTURE + 1000 + sent, 100 + sent);
          sent++;
        }
      })();
      reports = await Promise.all([maintain({}, later), maintain({}, later)]);
      done = true;
      await sending;
    } finally {
      await server.shutdown();
    }
    expect(reports.flatMap((r) => r.moved.map((m) => m.partition)).sort()).toEqual([...made].sort());
    for (const r of reports) expect(r.blocked).toEqual([]);
    expect(await whereIs(4)).toEqual(Object.fromEntries(TABLES.map((t, i) => [t, made[i]])));
    const placed = await query<{ t: string; n: string }>(
      db.url,
      TABLES.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t} WHERE tableoid = '${t}_p${suffix(FUTURE)}'::regclass`).join(' UNION ALL '),
    );
    expect(Object.fromEntries(placed.map((r) => [r.t, Number(r.n)]))).toEqual(Object.fromEntries(TABLES.map((t) => [t, sent + 1])));
    expect((await withClient(countDefaultRows)).map((d) => d.rows)).toEqual([0, 0, 0, 0]);

    // The partitions are whole: bound, the parent's indexes, no leftover CHECK; new rows go there.
    const [bound] = await query<{ b: string }>(db.url, `SELECT pg_get_expr(relpartbound, oid) AS b FROM pg_class WHERE relname = $1`, [made[1]]);
    expect(bound?.b).toBe(`FOR VALUES FROM ('${day(FUTURE)} 00:00:00+00') TO ('${day(FUTURE + DAY)} 00:00:00+00')`);
    const indexes = await query(db.url, 'SELECT indexname FROM pg_indexes WHERE tablename = $1', [made[1]]);
    expect(indexes).toHaveLength(3); // traces: by trace id, recent by service, errors
    const checks = await query(db.url, `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'`, [made[1]]);
    expect(checks).toEqual([]);
    const again = await startTestServer(db.url);
    try {
      await send(again.http.port, FUTURE + 3_600_000, 5);
    } finally {
      await again.shutdown();
    }
    expect(await whereIs(5)).toEqual(Object.fromEntries(TABLES.map((t, i) => [t, made[i]])));
  });
});
