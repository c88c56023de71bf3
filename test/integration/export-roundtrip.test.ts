// Acceptance (issue 4 item 1): what otlp-pg stored, `otlp-pg export` gives back as OTLP equal to what
// came in, field by field: the JS SDK's payloads of all three signals, the upstream OTLP/JSON examples,
// and hand-written requests with what SDKs do not send (int64 beyond 2^53, NaN/±Infinity/-0, bytes,
// nested kvlists, summaries, exemplars, schema URLs, a log with time 0 and no trace context, …).
// Both sides are decoded by our own decoder and flattened to (resource, scope, item), so hex case,
// int64 as string or number and the grouping of items into requests do not matter; values do.
//
// Not compared, because storage does not keep them (README "Schema"): the order of attribute and
// kvlist keys (jsonb orders keys; attribute lists are compared sorted by key), duplicate attribute
// keys (the last one wins), U+0000 in strings (stored as U+FFFD), Resource.entity_refs (not stored),
// and absent vs empty resource, scope and span status messages (stored alike). None is sent below.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseTime, runExport } from '../../src/cli/export.js';
import { decodeRequest } from '../../src/decode/index.js';
import type { AnyValue, Encoding, InstrumentationScope, KeyValue, Resource, Signal } from '../../src/decode/types.js';
import { packageRoot } from '../../src/package-root.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase } from '../helpers/database.js';
import { EXAMPLES, exampleJson, sdkLogRecords, sdkMetrics, sdkSpans } from '../helpers/decode-fixtures.js';
import { withAttributesDecoded } from '../helpers/decoded.js';
import { grpcExport, httpPost } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

// ---- requests with what SDKs do not send; written as text, so that an int64 can be a JSON number

const T = '1700000000000000001'; // 2023-11-14T22:13:20.000000001Z
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const str = (v: string) => `{"stringValue":${JSON.stringify(v)}}`;
const attr = (key: string, value: string) => `{"key":${JSON.stringify(key)},"value":${value}}`;

/** Every AnyValue type and the values JSON and jsonb cannot hold as they are. */
const EDGE_ATTRIBUTES = [
  attr('s', str('héllo "quoted" \\ \n ☃')),
  attr('s.empty', str('')),
  attr('b', '{"boolValue":false}'),
  attr('i.zero', '{"intValue":"0"}'),
  attr('i.max', '{"intValue":9223372036854775807}'),
  attr('i.min', '{"intValue":"-9223372036854775808"}'),
  attr('i.beyond.2^53', '{"intValue":"-9007199254740993"}'),
  attr('d.one', '{"doubleValue":1.0}'),
  attr('d.zero', '{"doubleValue":0}'),
  attr('d.negative.zero', '{"doubleValue":-0}'),
  attr('d.1e21', '{"doubleValue":1e21}'),
  attr('d.min', '{"doubleValue":5e-324}'),
  attr('d.max', '{"doubleValue":1.7976931348623157e308}'),
  attr('d.tenth', '{"doubleValue":0.1}'),
  attr('d.nan', '{"doubleValue":"NaN"}'),
  attr('d.inf', '{"doubleValue":"Infinity"}'),
  attr('d.-inf', '{"doubleValue":"-Infinity"}'),
  attr('bytes', '{"bytesValue":"AAH/"}'),
  attr('bytes.empty', '{"bytesValue":""}'),
  attr('empty', '{}'),
  attr('array', `{"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":2.0},${str('3')},{},{"arrayValue":{}}]}}`),
  attr('array.empty', '{"arrayValue":{}}'),
  attr('kvlist', `{"kvlistValue":{"values":[${attr('inner', `{"kvlistValue":{"values":[${attr('deep', '{"doubleValue":"NaN"}')},${attr('z', '{"bytesValue":"eA=="}')}]}}`)}]}}`),
  attr('kvlist.empty', '{"kvlistValue":{}}'),
  attr('kvlist.tag.key', `{"kvlistValue":{"values":[${attr('$bytes', str('not bytes'))}]}}`),
  attr('kvlist.kvlist.key', `{"kvlistValue":{"values":[${attr('$kvlist', `{"kvlistValue":{"values":[${attr('$double', str('NaN'))}]}}`)}]}}`),
  attr('__proto__', str('a plain key')),
].join(',');

const EDGE_TRACES = `{"resourceSpans":[{
  "resource":{"attributes":[${attr('service.name', str('edge'))},${EDGE_ATTRIBUTES}],"droppedAttributesCount":3},
  "schemaUrl":"https://opentelemetry.io/schemas/1.26.0",
  "scopeSpans":[{"scope":{"name":"edge-lib","version":"0.1","attributes":[${attr('scope.attr', '{"intValue":7}')}],"droppedAttributesCount":1},
    "schemaUrl":"https://opentelemetry.io/schemas/1.25.0",
    "spans":[
      {"traceId":"${TRACE.toUpperCase()}","spanId":"${SPAN}","parentSpanId":"00f067aa0ba902b7","traceState":"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
       "flags":769,"name":"edge span","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":${T},"endTimeUnixNano":"1700000000999999999",
       "attributes":[${EDGE_ATTRIBUTES}],"droppedAttributesCount":2,
       "events":[{"timeUnixNano":"1700000000000000002","name":"ev","attributes":[${EDGE_ATTRIBUTES}],"droppedAttributesCount":1},{}],"droppedEventsCount":4,
       "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b173","traceState":"a=b","attributes":[${attr('l', '{"doubleValue":"-Infinity"}')}],
                 "droppedAttributesCount":5,"flags":256},{"traceId":"${TRACE}","spanId":"00f067aa0ba902b7"}],"droppedLinksCount":6,
       "status":{"code":2,"message":"it broke"}},
      {"traceId":"${TRACE}","spanId":"00f067aa0ba902b7","name":"edge root","startTimeUnixNano":"${T}","endTimeUnixNano":"1700000001000000000","status":{"code":1}}
    ]}]}]}`;

const EDGE_LOGS = `{"resourceLogs":[{
  "resource":{"attributes":[${attr('service.name', str('edge-logs'))}]},"schemaUrl":"https://example.com/r",
  "scopeLogs":[
    {"scope":{"name":"edge-log-lib"},"schemaUrl":"https://example.com/s","logRecords":[
      {"observedTimeUnixNano":"${T}","body":{},"severityText":"time 0, no trace context, empty body"},
      {"timeUnixNano":"${T}","observedTimeUnixNano":"1700000000000000009","severityNumber":21,"severityText":"edge-traced",
       "traceId":"${TRACE}","spanId":"${SPAN}","flags":1,"eventName":"edge.event","droppedAttributesCount":9,
       "attributes":[${EDGE_ATTRIBUTES}],"body":{"kvlistValue":{"values":[${EDGE_ATTRIBUTES}]}}},
      {"timeUnixNano":"1700000000000000002","severityText":"no body"},
      {"timeUnixNano":"1700000000000000003","body":{"intValue":9223372036854775807}},
      {"timeUnixNano":"1700000000000000004","body":{"doubleValue":"-Infinity"}},
      {"timeUnixNano":"1700000000000000005","body":{"bytesValue":"AAH/"}},
      {"timeUnixNano":"1700000000000000006","body":{"arrayValue":{"values":[{"doubleValue":-0},{"stringValue":""}]}}}
    ]},
    {"logRecords":[{"timeUnixNano":"1700000000000000007","body":${str('no scope')}}]}
  ]}]}`;

const point = (fields: string) => `{"timeUnixNano":"${T}","startTimeUnixNano":"1700000000000000000",${fields}}`;

const EDGE_METRICS = `{"resourceMetrics":[{
  "resource":{"attributes":[${attr('service.name', str('edge-metrics'))}]},"schemaUrl":"https://example.com/r",
  "scopeMetrics":[{"scope":{"name":"edge-meter","version":"9"},"schemaUrl":"https://example.com/s","metrics":[
    {"name":"edge.summary","unit":"s","description":"a summary","summary":{"dataPoints":[${point(`"count":"18446744073709551","sum":12.5,"flags":1,
      "quantileValues":[{"quantile":0,"value":-0},{"quantile":0.5,"value":1.5},{"quantile":0.99,"value":"Infinity"},{"quantile":1,"value":"NaN"}]`)},
      ${point('"count":"0","sum":0')}]}},
    {"name":"edge.gauge.int","gauge":{"dataPoints":[${point('"asInt":9223372036854775807')},${point(`"asInt":"-9007199254740993","attributes":[${attr('k', str('neg'))}]`)},
      ${point(`"asInt":"0","attributes":[${attr('k', str('zero'))}]`)}]}},
    {"name":"edge.gauge.double","metadata":[${attr('meta', '{"intValue":"1"}')}],"gauge":{"dataPoints":[
      ${point(`"asDouble":"NaN","attributes":[${attr('k', str('nan'))}]`)},${point(`"asDouble":"-Infinity","attributes":[${attr('k', str('-inf'))}]`)},
      ${point(`"asDouble":"Infinity","attributes":[${attr('k', str('inf'))}]`)},${point(`"asDouble":-0,"attributes":[${attr('k', str('-0'))}]`)},
      ${point(`"asDouble":0,"attributes":[${attr('k', str('0'))}]`)},${point(`"asDouble":1e21,"attributes":[${attr('k', str('1e21'))}]`)},
      ${point(`"attributes":[${attr('k', str('no value'))}]`)}]}},
    {"name":"edge.sum","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[${point(`"asDouble":3.0,"flags":1,"attributes":[${EDGE_ATTRIBUTES}],"exemplars":[
      {"timeUnixNano":"${T}","asInt":"9007199254740993","traceId":"${TRACE.toUpperCase()}","spanId":"${SPAN}","filteredAttributes":[${EDGE_ATTRIBUTES}]},
      {"timeUnixNano":"${T}","asDouble":2.0},{"timeUnixNano":"${T}","asDouble":"NaN"},{"timeUnixNano":"${T}"}]`)}]}},
    {"name":"edge.sum.delta","sum":{"aggregationTemporality":1,"dataPoints":[${point('"asInt":"-5"')}]}},
    {"name":"edge.histogram","unit":"ms","histogram":{"aggregationTemporality":1,"dataPoints":[
      ${point(`"count":"9007199254740993","bucketCounts":["9007199254740992","1","0"],"explicitBounds":[0.5,1e21],"attributes":[${attr('k', str('no sum'))}]`)},
      ${point(`"count":"0","sum":0,"min":-0,"max":"Infinity","attributes":[${attr('k', str('empty'))}],"exemplars":[{"timeUnixNano":"0","asDouble":-0}]`)}]}},
    {"name":"edge.exponential","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[
      ${point(`"count":"7","sum":-3.5,"scale":-2,"zeroCount":"1","zeroThreshold":1e-9,"min":-4,"max":2,
        "positive":{"offset":-1,"bucketCounts":["1","0","2"]},"negative":{"offset":3,"bucketCounts":["3"]}`)},
      ${point(`"count":"0","positive":{},"attributes":[${attr('k', str('empty positive, no negative'))}]`)}]}},
    {"name":"edge.no.points","gauge":{"dataPoints":[]}},
    {"name":"edge.no.data","description":"a metric of no type"}
  ]}]}]}`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;
let dir: string;

/** Every request sent, as its signal, bytes and encoding. */
const sent: { signal: Signal; body: Uint8Array; encoding: Encoding }[] = [];

async function send(signal: Signal, body: Uint8Array, encoding: Encoding, via: 'http' | 'grpc'): Promise<void> {
  if (via === 'grpc') {
    const answer = await grpcExport(server.grpc.port, signal, body);
    expect(answer.code, answer.details).toBe(0);
  } else {
    const type = encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    const answer = await httpPost(server.http.port, `/v1/${signal}`, body, { 'Content-Type': type });
    expect(answer.status, answer.body.toString()).toBe(200);
    if (encoding === 'json') expect(JSON.parse(answer.body.toString())).toEqual({});
  }
  sent.push({ signal, body, encoding });
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  dir = await mkdtemp(path.join(tmpdir(), 'otlp-pg-export-'));
  await send('traces', JsonTraceSerializer.serializeRequest(sdkSpans())!, 'json', 'http');
  await send('logs', ProtobufLogsSerializer.serializeRequest(sdkLogRecords())!, 'protobuf', 'grpc');
  await send('metrics', ProtobufMetricsSerializer.serializeRequest(await sdkMetrics())!, 'protobuf', 'http');
  for (const { file, signal } of EXAMPLES) await send(signal, exampleJson(file), 'json', 'http');
  await send('traces', Buffer.from(EDGE_TRACES), 'json', 'http');
  await send('logs', Buffer.from(EDGE_LOGS), 'json', 'http');
  await send('metrics', Buffer.from(EDGE_METRICS), 'json', 'http');
});

afterAll(async () => {
  await server?.shutdown();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---- canonical form: items with their resource and scope, attributes sorted by key

const sortedKvs = (kvs: readonly KeyValue[]): KeyValue[] =>
  [...kvs].map((kv) => ({ key: kv.key, value: sortedValue(kv.value) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

function sortedValue(v: AnyValue): AnyValue {
  if (v.kind === 'kvlist') return { kind: 'kvlist', value: sortedKvs(v.value) };
  if (v.kind === 'array') return { kind: 'array', value: v.value.map(sortedValue) };
  return v;
}

/** Attribute lists (any key holding KeyValue[]) sorted, everywhere in `x`. */
function canonical(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(canonical);
  if (x instanceof Uint8Array || x === null || typeof x !== 'object') return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    const isKvs = Array.isArray(v) && (k === 'attributes' || k === 'filteredAttributes' || k === 'metadata');
    out[k] = isKvs ? sortedKvs(v as KeyValue[]) : k === 'body' && v ? sortedValue(v as AnyValue) : canonical(v);
  }
  return out;
}

const resourceOf = (r: Resource | undefined, schemaUrl: string) => ({
  attributes: r?.attributes ?? [],
  droppedAttributesCount: r?.droppedAttributesCount ?? 0,
  schemaUrl,
});
const scopeOf = (s: InstrumentationScope | undefined, schemaUrl: string) => ({
  name: s?.name ?? '',
  version: s?.version ?? '',
  attributes: s?.attributes ?? [],
  droppedAttributesCount: s?.droppedAttributesCount ?? 0,
  schemaUrl,
});

function flatten(signal: Signal, body: Uint8Array, encoding: Encoding): unknown[] {
  const items: unknown[] = [];
  if (signal === 'traces') {
    for (const rs of withAttributesDecoded('traces', decodeRequest('traces', body, encoding)).resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          const status = span.status ?? { message: '', code: 0 };
          items.push({ resource: resourceOf(rs.resource, rs.schemaUrl), scope: scopeOf(ss.scope, ss.schemaUrl), span: { ...span, status } });
        }
      }
    }
  } else if (signal === 'logs') {
    for (const rl of withAttributesDecoded('logs', decodeRequest('logs', body, encoding)).resourceLogs) {
      for (const sl of rl.scopeLogs) {
        for (const log of sl.logRecords) items.push({ resource: resourceOf(rl.resource, rl.schemaUrl), scope: scopeOf(sl.scope, sl.schemaUrl), log });
      }
    }
  } else {
    for (const rm of withAttributesDecoded('metrics', decodeRequest('metrics', body, encoding)).resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const { data, ...metric } of sm.metrics) {
          const { dataPoints = [], ...kind } = data as typeof data & { dataPoints?: readonly unknown[] };
          const head = { resource: resourceOf(rm.resource, rm.schemaUrl), scope: scopeOf(sm.scope, sm.schemaUrl), metric: { ...metric, ...kind } };
          // A metric without points is an item of its own.
          if (dataPoints.length === 0) items.push({ ...head, point: undefined });
          for (const point of dataPoints) items.push({ ...head, point });
        }
      }
    }
  }
  return items.map(canonical);
}

/** A total order for items: their JSON, with what JSON.stringify would lose written out. */
function sortKey(item: unknown): string {
  return JSON.stringify(item, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (Object.is(v, -0)) return '-0';
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    return v;
  });
}

const sorted = (items: unknown[]): unknown[] => items.map((item) => ({ item, key: sortKey(item) })).sort((a, b) => (a.key < b.key ? -1 : 1)).map((x) => x.item);

const sentItems = (signal: Signal): unknown[] => sent.filter((s) => s.signal === signal).flatMap((s) => flatten(s.signal, s.body, s.encoding));

// ---- running the export

interface ExportRun {
  code: number;
  lines: string[];
  stderr: string;
}

let exportRuns = 0;

async function exportTo(args: string[]): Promise<ExportRun> {
  const file = path.join(dir, `export-${++exportRuns}.jsonl`);
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  let code: number;
  try {
    code = await runExport([...args, '--database-url', db.url, '--output', file]);
  } finally {
    spy.mockRestore();
  }
  const text = code === 0 ? await readFile(file, 'utf8') : '';
  return { code, lines: text.split('\n').filter((l) => l !== ''), stderr };
}

async function exported(signal: Signal, args: string[] = []): Promise<{ items: unknown[]; lines: string[] }> {
  const run = await exportTo([signal, ...args]);
  expect(run.code, run.stderr).toBe(0);
  return { items: run.lines.flatMap((line) => flatten(signal, Buffer.from(line), 'json')), lines: run.lines };
}

describe('otlp-pg export gives back what was stored', () => {
  it.each(['traces', 'logs', 'metrics'] as const)('%s, field by field', async (signal) => {
    const expected = sentItems(signal);
    const { items } = await exported(signal);
    expect(items.length).toBe(expected.length);
    expect(sorted(items)).toEqual(sorted(expected));
  });

  it('selects a trace by id, and a service in a time range', async () => {
    const traceId = '5b8efff798038103d269b633813fc60c';
    const hexOf = (item: unknown): string => Buffer.from((item as { span: { traceId: Uint8Array } }).span.traceId).toString('hex');
    const ofTrace = sentItems('traces').filter((item) => hexOf(item) === traceId);
    expect(ofTrace.length).toBeGreaterThan(1); // the SDK span and the upstream example share it
    expect(sorted((await exported('traces', ['--trace-id', traceId.toUpperCase()])).items)).toEqual(sorted(ofTrace));

    const window = ['--service', 'edge', '--since', '2023-11-14T22:13:20Z', '--until', '2023-11-14T22:13:21Z'];
    const edge = (await exported('traces', window)).items as { span: { name: string } }[];
    expect(edge.map((i) => i.span.name).sort()).toEqual(['edge root', 'edge span']);
    expect((await exported('traces', ['--service', 'edge', '--since', '2023-11-14T22:13:21Z'])).items).toEqual([]);
  });

  it('selects logs by trace and service, metrics by name', async () => {
    const logs = (await exported('logs', ['--trace-id', '0af7651916cd43dd8448eb211c80319c'])).items as { log: { severityText: string } }[];
    expect(logs.map((i) => i.log.severityText)).toEqual(['edge-traced']);
    expect((await exported('logs', ['--service', 'my.service'])).items).toHaveLength(2);

    const metrics = (await exported('metrics', ['--name', 'edge.summary', '--name', 'orders'])).items as { metric: { name: string } }[];
    expect([...new Set(metrics.map((i) => i.metric.name))].sort()).toEqual(['edge.summary', 'orders']);
    expect(metrics).toHaveLength(3); // the summary has two points
    // A time range leaves out the metrics stored without points.
    const ranged = (await exported('metrics', ['--service', 'edge-metrics', '--since', '2000-01-01'])).items as { point: unknown }[];
    expect(ranged.length).toBeGreaterThan(0);
    expect(ranged.every((i) => i.point !== undefined)).toBe(true);
  });

  it('writes at most --batch items per request, grouped by resource and scope', async () => {
    const all = await exported('logs');
    expect(all.lines.length).toBeLessThan(all.items.length);
    const one = await exported('logs', ['--batch', '1']);
    expect(one.lines).toHaveLength(all.items.length);
    expect(sorted(one.items)).toEqual(sorted(all.items));
    for (const line of one.lines) expect(line).toMatch(/^\{"resourceLogs":\[\{"resource":\{.*\}\]\}$/);
  });

  it('refuses wrong arguments with exit code 2, naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['spans'], /traces, logs or metrics, got "spans"/],
      [['traces', '--trace-id', 'xyz'], /--trace-id: "xyz" is not a trace id/],
      [['traces', '--since', 'yesterday'], /--since: "yesterday" is not an ISO 8601 time/],
      [['traces', '--since', '1h', '--until', '2h'], /--since .* must be before --until/],
      [['metrics', '--trace-id', '0af7651916cd43dd8448eb211c80319c'], /--trace-id selects traces or logs/],
      [['logs', '--name', 'x'], /--name selects metrics, not logs/],
      [['logs', '--batch', '0'], /--batch: "0" must be a whole number/],
      [['logs', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const run = await exportTo(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});

describe('the otlp-pg command', () => {
  it('reads --since and --until as ISO 8601 (UTC without a zone) or a span back from now', () => {
    const now = Date.parse('2024-05-02T00:00:00Z');
    const iso = (text: string): string => parseTime('since', text, now).toISOString();
    expect(iso('2024-05-01')).toBe('2024-05-01T00:00:00.000Z');
    expect(iso('2024-05-01 12:00:30.5')).toBe('2024-05-01T12:00:30.500Z');
    expect(iso('2024-05-01T12:00:00+02:00')).toBe('2024-05-01T10:00:00.000Z');
    expect(iso('90s')).toBe('2024-05-01T23:58:30.000Z');
    expect(iso('2w')).toBe('2024-04-18T00:00:00.000Z');
    expect(() => iso('1')).toThrow(/--since: "1" is not an ISO 8601 time/);
  });

  it('exports to standard output through the CLI entry', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'export', 'logs', '--service', 'edge-logs'], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    const items = stdout.split('\n').filter((l) => l !== '').flatMap((line) => flatten('logs', Buffer.from(line), 'json'));
    const expected = sentItems('logs').filter((i) => (i as { resource: { attributes: KeyValue[] } }).resource.attributes.some((kv) => kv.value.kind === 'string' && kv.value.value === 'edge-logs'));
    expect(sorted(items)).toEqual(sorted(expected));
    expect(stderr).toMatch(/^otlp-pg export: 8 log records in 1 request to standard output\n$/);
  });
});
