// Every ```sql block of docs/cookbook.md runs as written against telemetry sent over OTLP, and
// finds it; the Grafana queries after their macros are expanded exactly as Grafana does. The
// numbers the cookbook promises (RED errors, dependency calls, latest values, counter rates) are
// checked against what was sent.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-root.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, summariesFolded } from '../helpers/database.js';
import { grpcExport, httpPost, jsonToProtobuf } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

const cookbook = readFileSync(path.join(packageRoot, 'docs', 'cookbook.md'), 'utf8');
const blocks = [...cookbook.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const titleOf = (sql: string): string => sql.split('\n')[0] as string;

function block(title: string): string {
  const found = blocks.filter((b) => titleOf(b).includes(title));
  if (found.length !== 1) throw new Error(`expected one cookbook block titled "${title}", found ${found.length}`);
  return found[0] as string;
}

// ---- Grafana's PostgreSQL data source, step by step (pkg/tsdb/sqleng Interpolate, then
// pkg/tsdb/grafana-postgresql-datasource/macros.go), for a dashboard variable `service`.

/** Go's time.RFC3339Nano for a UTC time: the fraction without trailing zeros, none when zero. */
function rfc3339Nano(d: Date): string {
  const iso = d.toISOString();
  const m = /\.(\d*?)0*Z$/.exec(iso);
  return iso.slice(0, iso.length - (m?.[0].length ?? 0)) + (m?.[1] ? `.${m[1]}Z` : 'Z');
}

/** gtime.ParseInterval for the units a dashboard interval uses here. */
function intervalSeconds(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`interval ${text} not handled by this test`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  // Go prints the float with %v: plain digits below 1e6, exponent notation above (not handled).
  if (seconds >= 1e6) throw new Error('interval too long for this test');
  return seconds;
}

interface GrafanaRange {
  from: Date;
  to: Date;
  /** $__interval as Grafana writes it, e.g. 1m. */
  interval: string;
  variables: Record<string, string>;
}

function expandGrafana(sql: string, r: GrafanaRange): string {
  // Dashboard variables (the frontend), single-value: the raw value.
  let out = sql.replace(/\$(\w+)\b/g, (all, name: string) => r.variables[name] ?? all);
  // sqleng.Interpolate.
  out = out
    .replaceAll('$__interval_ms', String(intervalSeconds(r.interval) * 1000))
    .replaceAll('$__interval', r.interval)
    .replaceAll('$__unixEpochFrom()', String(Math.floor(r.from.getTime() / 1000)))
    .replaceAll('$__unixEpochTo()', String(Math.floor(r.to.getTime() / 1000)));
  // The macro engine.
  const source = out;
  return out.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (all, name: string, argText: string) => {
    const args = argText.split(',').map((a) => a.trim());
    let macro = name;
    // Pre-5.3 compatibility: $__timeGroup directly followed by a comma means the alias form.
    if (macro === '__timeGroup' && source[source.indexOf(all) + all.length] === ',') macro = '__timeGroupAlias';
    const group = (): string => {
      const s = intervalSeconds((args[1] ?? '').replace(/'/g, ''));
      return `floor(extract(epoch from ${args[0]})/${s})*${s}`;
    };
    switch (macro) {
      case '__time':
        return `${args[0]} AS "time"`;
      case '__timeEpoch':
        return `extract(epoch from ${args[0]}) as "time"`;
      case '__timeFilter':
        return `${args[0]} BETWEEN '${rfc3339Nano(r.from)}' AND '${rfc3339Nano(r.to)}'`;
      case '__timeFrom':
        return `'${rfc3339Nano(r.from)}'`;
      case '__timeTo':
        return `'${rfc3339Nano(r.to)}'`;
      case '__timeGroup':
        return group();
      case '__timeGroupAlias':
        return `${group()} AS "time"`;
      default:
        throw new Error(`unknown macro ${name}`);
    }
  });
}

function lastHour(): GrafanaRange {
  const to = new Date();
  return { from: new Date(to.getTime() - 3_600_000), to, interval: '1m', variables: { service: 'checkout' } };
}

const isGrafana = (sql: string): boolean => sql.includes('$');
const run = <T extends Record<string, unknown>>(sql: string): Promise<T[]> =>
  query<T>(db.url, isGrafana(sql) ? expandGrafana(sql, lastHour()) : sql);

describe('Grafana macro expansion (as the PostgreSQL data source does it)', () => {
  it('expands the time macros and interval variables', () => {
    const r: GrafanaRange = { from: new Date('2024-05-01T10:00:00Z'), to: new Date('2024-05-01T11:00:00.250Z'), interval: '1m', variables: { service: 'checkout' } };
    expect(expandGrafana("SELECT $__timeGroupAlias(start_time, $__interval), $__interval_ms FROM t WHERE $__timeFilter(start_time) AND s = '$service'", r)).toBe(
      `SELECT floor(extract(epoch from start_time)/60)*60 AS "time", 60000 FROM t WHERE start_time BETWEEN '2024-05-01T10:00:00Z' AND '2024-05-01T11:00:00.25Z' AND s = 'checkout'`,
    );
    expect(expandGrafana('SELECT $__timeGroup(x, 5m), 1 FROM f($__timeFrom(), $__timeTo())', r)).toBe(
      `SELECT floor(extract(epoch from x)/300)*300 AS "time", 1 FROM f('2024-05-01T10:00:00Z', '2024-05-01T11:00:00.25Z')`,
    );
  });
});

// ---- telemetry

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

const TRACES = 20;
/** Traces i with i % 5 == 0 fail in checkout. */
const CHECKOUT_ERRORS = 4;
const ns = (ms: number): string => (BigInt(Math.round(ms)) * 1_000_000n).toString();
const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const resource = (service: string) => ({ attributes: [str('service.name', service)] });

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  const base = Date.now() - 3 * 60_000;

  // frontend SERVER root → frontend CLIENT → checkout SERVER (10·(i+1) ms, ERROR when i % 5 == 0)
  // → checkout CLIENT to the database (one failing, which is no request of its own); plus three
  // INTERNAL root spans of a `worker` service, one failing.
  const frontend = [];
  const checkout = [];
  for (let i = 0; i < TRACES; i++) {
    const t = base - i * 15_000;
    const traceId = hex(0xabc000 + i, 16);
    const span = (n: number, parent: number | undefined, name: string, kind: number, start: number, end: number, error = false) => ({
      traceId,
      spanId: hex(i * 16 + n, 8),
      ...(parent === undefined ? {} : { parentSpanId: hex(i * 16 + parent, 8) }),
      name,
      kind,
      startTimeUnixNano: ns(t + start),
      endTimeUnixNano: ns(t + end),
      status: error ? { code: 2 } : {},
    });
    frontend.push(span(1, undefined, 'GET /checkout', 2, 0, 300), span(2, 1, 'POST /api/checkout', 3, 5, 250));
    checkout.push(
      span(3, 2, 'POST /api/checkout', 2, 10, 10 + (i + 1) * 10, i % 5 === 0),
      span(4, 3, 'SELECT orders', 3, 12, 15, i === 1),
    );
  }
  const worker = [0, 1, 2].map((i) => ({
    traceId: hex(0xdef000 + i, 16),
    spanId: hex(0xf0 + i, 8),
    name: 'nightly-report',
    kind: 1,
    startTimeUnixNano: ns(base - i * 60_000),
    endTimeUnixNano: ns(base - i * 60_000 + 500),
    status: i === 0 ? { code: 2 } : {},
  }));
  const traces = {
    resourceSpans: [
      { resource: resource('frontend'), scopeSpans: [{ spans: frontend }] },
      { resource: resource('checkout'), scopeSpans: [{ spans: checkout }] },
      { resource: resource('worker'), scopeSpans: [{ spans: worker }] },
    ],
  };
  const res = await httpPost(server.http.port, '/v1/traces', JSON.stringify(traces), { 'Content-Type': 'application/json' });
  expect(res.status).toBe(200);
  await summariesFolded(db.url);

  const log = (k: number, severityNumber: number, severityText: string) => ({
    timeUnixNano: ns(base - k * 1000),
    severityNumber,
    severityText,
    body: { stringValue: `record ${k}` },
  });
  const logs = {
    resourceLogs: [
      {
        resource: resource('checkout'),
        scopeLogs: [{ logRecords: [0, 1, 2, 3, 4].map((k) => log(k, 9, 'INFO')).concat([log(5, 17, 'ERROR'), log(6, 17, 'ERROR')]) }],
      },
    ],
  };
  const answer = await grpcExport(server.grpc.port, 'logs', jsonToProtobuf('logs', logs));
  expect(answer.code).toBe(0);

  const at = (secondsAgo: number) => ns(base - secondsAgo * 1000);
  const metrics = {
    resourceMetrics: [
      {
        resource: resource('checkout'),
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'queue.depth',
                gauge: {
                  dataPoints: [
                    { timeUnixNano: at(120), asInt: '5', attributes: [str('queue', 'a')] },
                    { timeUnixNano: at(60), asInt: '7', attributes: [str('queue', 'a')] },
                    { timeUnixNano: at(60), asDouble: 2.5, attributes: [str('queue', 'b')] },
                  ],
                },
              },
              {
                // Cumulative: 10 → 15 (+5) → 4 (a restart: +4).
                name: 'orders',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    { startTimeUnixNano: at(600), timeUnixNano: at(180), asInt: '10', attributes: [str('region', 'eu')] },
                    { startTimeUnixNano: at(600), timeUnixNano: at(120), asInt: '15', attributes: [str('region', 'eu')] },
                    { startTimeUnixNano: at(90), timeUnixNano: at(60), asInt: '4', attributes: [str('region', 'eu')] },
                  ],
                },
              },
              {
                name: 'latency',
                histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: at(60), count: '2', sum: 3, bucketCounts: ['1', '1'], explicitBounds: [1] }] },
              },
            ],
          },
        ],
      },
    ],
  };
  const m = await httpPost(server.http.port, '/v1/metrics', jsonToProtobuf('metrics', metrics), { 'Content-Type': 'application/x-protobuf' });
  expect(m.status).toBe(200);
});

afterAll(async () => {
  await server?.shutdown();
  await db?.drop();
});

describe('docs/cookbook.md', () => {
  it('has the psql and the Grafana queries', () => {
    expect(blocks.filter((b) => !isGrafana(b)).length).toBeGreaterThanOrEqual(7);
    expect(blocks.filter(isGrafana).length).toBeGreaterThanOrEqual(8);
  });

  it.each(blocks.map((sql) => [titleOf(sql), sql]))('%s', async (_title, sql) => {
    expect((await run(sql)).length).toBeGreaterThan(0);
  });
});

type Totals = Record<string, { requests: number; errors: number }>;
function totals(rows: Record<string, unknown>[], count: (r: Record<string, unknown>) => { requests: number; errors: number }): Totals {
  const out: Totals = {};
  for (const r of rows) {
    const t = (out[r.service_name as string] ??= { requests: 0, errors: 0 });
    const c = count(r);
    t.requests += c.requests;
    t.errors += c.errors;
  }
  return out;
}

describe('cookbook answers', () => {
  const expected = { checkout: { requests: TRACES, errors: CHECKOUT_ERRORS }, frontend: { requests: TRACES, errors: 0 }, worker: { requests: 3, errors: 1 } };

  it('RED counts entry spans per service: errors equal the errors sent', async () => {
    const rows = await run(block('RED per service and minute'));
    expect(totals(rows, (r) => ({ requests: Number(r.requests), errors: Number(r.errors) }))).toEqual(expected);
    const ranked = await run<{ service_name: string; errors: string }>(block('most errors'));
    expect(ranked[0]).toMatchObject({ service_name: 'checkout', errors: String(CHECKOUT_ERRORS) });
  });

  it('RED percentiles are the entry spans\' durations', async () => {
    // One bucket for everything: checkout's durations are 10, 20, … 200 ms.
    const [row] = await query<{ p50_ms: number; p95_ms: number; p99_ms: number; requests_per_s: number }>(
      db.url,
      `SELECT * FROM service_red_between(now() - interval '1 hour', now(), interval '100000 days') WHERE service_name = 'checkout'`,
    );
    expect(row?.p50_ms).toBeCloseTo(105, 6);
    expect(row?.p95_ms).toBeCloseTo(190.5, 6);
    expect(row?.p99_ms).toBeCloseTo(198.1, 6);
  });

  it('Grafana rate and error panels add up to what was sent', async () => {
    const rate = await run(block('requests per second by service'));
    expect(totals(rate, (r) => ({ requests: Math.round(Number(r.requests_per_s) * 60), errors: 0 }))).toEqual({
      checkout: { requests: TRACES, errors: 0 },
      frontend: { requests: TRACES, errors: 0 },
      worker: { requests: 3, errors: 0 },
    });
    const errors = await run(block('errors per interval by service'));
    expect(totals(errors, (r) => ({ requests: 0, errors: Number(r.errors) }))).toEqual({
      checkout: { requests: 0, errors: CHECKOUT_ERRORS },
      frontend: { requests: 0, errors: 0 },
      worker: { requests: 0, errors: 1 },
    });
    // $__timeGroupAlias(start_time, 1m): epoch seconds at whole minutes, which Grafana reads as time.
    for (const r of rate) expect(Number(r.time) % 60).toBe(0);
  });

  it('the dependency edges are the cross-service parent → child calls', async () => {
    expect(await run(block('Who calls whom'))).toEqual([
      { parent_service: 'frontend', child_service: 'checkout', calls: String(TRACES), errors: String(CHECKOUT_ERRORS), avg_ms: '105.00' },
    ]);
    const edges = await run(block('node graph edges'));
    expect(edges).toEqual([{ id: 'frontend->checkout', source: 'frontend', target: 'checkout', mainstat: String(TRACES) }]);
  });

  it('the latest value of each gauge and sum series', async () => {
    expect(await run(block('current value of every series'))).toEqual([
      { attributes: { queue: 'a' }, time: expect.any(Date), value: 7 },
      { attributes: { queue: 'b' }, time: expect.any(Date), value: 2.5 },
    ]);
    const all = await run<{ name: string; value: number }>(block('Every gauge and sum'));
    expect(all.map((r) => [r.name, r.value])).toEqual([
      ['orders', 4],
      ['queue.depth', 7],
      ['queue.depth', 2.5],
    ]);
  });

  it('the counter rate counts a restart as a restart, not a drop', async () => {
    const rows = await run(block('cumulative counter'));
    const increase = rows.reduce((sum, r) => sum + Number(r.per_s) * 60, 0);
    expect(increase).toBeCloseTo(9, 6);
  });

  it('log volume by severity', async () => {
    const rows = await run(block('log records of the chosen service'));
    const by: Record<string, number> = {};
    for (const r of rows) by[r.severity as string] = (by[r.severity as string] ?? 0) + Number(r.records);
    expect(by).toEqual({ INFO: 5, ERROR: 2 });
  });
});
