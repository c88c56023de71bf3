// Acceptance: spans made by the OpenTelemetry JS SDK, exported through each official OTLP trace
// exporter (gRPC, HTTP/protobuf, HTTP/JSON) over real sockets, come back from SQL field by field.
import { SpanKind, SpanStatusCode, context, trace, type HrTime, type Link } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, summariesFolded } from '../helpers/database.js';
import { startTestServer } from '../helpers/server.js';

/** HrTime → exact nanoseconds as a string (the SDK's own helper goes through a lossy number). */
const nanos = (t: HrTime): string => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
});

afterAll(async () => {
  await server?.shutdown();
  await db?.drop();
});

const exporters: Record<string, () => SpanExporter> = {
  grpc: () => new GrpcExporter({ url: `http://127.0.0.1:${server.grpc.port}` }),
  'http/protobuf': () => new HttpProtoExporter({ url: `http://127.0.0.1:${server.http.port}/v1/traces` }),
  'http/json': () => new HttpJsonExporter({ url: `http://127.0.0.1:${server.http.port}/v1/traces` }),
};

/** Makes a small trace through an SDK whose spans go to `exporter` and to memory. */
async function produceTrace(protocol: string, exporter: SpanExporter): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `checkout-${protocol}`, 'deployment.environment': 'test', 'host.cpus': 2 }),
    spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('otlp-pg-test', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });

  const other = tracer.startSpan('unrelated');
  other.end();
  const link: Link = { context: other.spanContext(), attributes: { 'link.reason': 'follows', 'link.n': 7 } };

  const root = tracer.startSpan('GET /checkout', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.method': 'GET',
      'http.status_code': 500,
      'http.duration_ratio': 0.25,
      'retry.enabled': true,
      'cart.items': ['apple', 'pear'],
      'cart.counts': [1, 2, 3],
      'whole.double': 2.5,
    },
    links: [link],
  });
  root.addEvent('exception', { 'exception.type': 'Error', 'exception.message': 'boom\twith\ttabs\nand newline' });
  const child = tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, attributes: { 'db.rows': 12 } }, trace.setSpan(context.active(), root));
  child.setStatus({ code: SpanStatusCode.OK });
  child.end();
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' });
  root.end();

  await provider.forceFlush();
  const spans = memory.getFinishedSpans(); // read before shutdown, which empties the memory exporter
  await provider.shutdown();
  return spans;
}

interface SpanDbRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  trace_state: string;
  flags: string;
  name: string;
  kind: number;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  duration_ns: string;
  start_time: Date;
  status_code: number;
  status_message: string;
  attributes_text: string;
  attributes: Record<string, unknown>;
  events: { time_unix_nano: string; name: string; attributes: Record<string, unknown>; dropped_attributes_count: number }[];
  links: { trace_id: string; span_id: string; trace_state: string; flags: number; attributes: Record<string, unknown> }[];
  // bigint columns (uint32 counts do not fit integer), which node-postgres returns as strings
  dropped_attributes_count: string;
  dropped_events_count: string;
  dropped_links_count: string;
  service_name: string;
  resource_attributes: Record<string, unknown>;
  resource_schema_url: string;
  scope_name: string;
  scope_version: string;
  scope_schema_url: string;
}

async function storedSpan(spanIdHex: string): Promise<SpanDbRow | undefined> {
  const rows = await query<SpanDbRow>(
    db.url,
    `SELECT encode(s.trace_id, 'hex') AS trace_id, encode(s.span_id, 'hex') AS span_id,
            encode(s.parent_span_id, 'hex') AS parent_span_id, s.trace_state, s.flags, s.name, s.kind,
            s.start_time_unix_nano, s.end_time_unix_nano, s.duration_ns, s.start_time, s.status_code, s.status_message,
            s.attributes::text AS attributes_text, s.attributes, s.events, s.links,
            s.dropped_attributes_count, s.dropped_events_count, s.dropped_links_count, s.service_name,
            r.attributes AS resource_attributes, r.schema_url AS resource_schema_url,
            sc.name AS scope_name, sc.version AS scope_version, sc.schema_url AS scope_schema_url
       FROM trace_spans s
       JOIN resources r USING (resource_id)
       JOIN scopes sc USING (scope_id)
      WHERE s.span_id = decode($1, 'hex')`,
    [spanIdHex],
  );
  expect(rows.length).toBeLessThanOrEqual(1);
  return rows[0];
}

describe.each(Object.keys(exporters))('traces over %s', (protocol) => {
  it('stores every span with every field as the SDK sent it', async () => {
    const sent = await produceTrace(protocol, (exporters[protocol] as () => SpanExporter)());
    expect(sent).toHaveLength(3); // the unrelated span, the root and its child

    for (const span of sent) {
      const row = await storedSpan(span.spanContext().spanId);
      expect(row, `span ${span.name} stored`).toBeDefined();
      if (!row) continue;
      expect(row.trace_id).toBe(span.spanContext().traceId);
      expect(row.parent_span_id).toBe(span.parentSpanContext?.spanId ?? null);
      expect(row.name).toBe(span.name);
      expect(row.kind).toBe(span.kind + 1); // SDK SpanKind is 0-based; OTLP's has UNSPECIFIED = 0
      expect(row.start_time_unix_nano).toBe(nanos(span.startTime));
      expect(row.end_time_unix_nano).toBe(nanos(span.endTime));
      expect(BigInt(row.duration_ns)).toBe(BigInt(row.end_time_unix_nano) - BigInt(row.start_time_unix_nano));
      expect(row.start_time.getTime()).toBe(Math.floor(Number(BigInt(row.start_time_unix_nano) / 1_000_000n)));
      expect(row.status_code).toBe(span.status.code);
      expect(row.status_message).toBe(span.status.message ?? '');
      expect(row.trace_state).toBe('');
      // W3C trace flags, plus "has is_remote" (0x100): the SDK knows whether the parent is remote.
      expect(Number(row.flags)).toBe(span.spanContext().traceFlags | 0x100);
      expect(row.attributes).toEqual(span.attributes);
      expect(row.dropped_attributes_count).toBe(String(span.droppedAttributesCount));
      expect(row.dropped_events_count).toBe(String(span.droppedEventsCount));
      expect(row.dropped_links_count).toBe(String(span.droppedLinksCount));
      expect(row.events).toEqual(
        span.events.map((e) => ({
          time_unix_nano: nanos(e.time),
          name: e.name,
          attributes: e.attributes ?? {},
          dropped_attributes_count: e.droppedAttributesCount ?? 0,
        })),
      );
      expect(row.links).toEqual(
        span.links.map((l) => ({
          trace_id: l.context.traceId,
          span_id: l.context.spanId,
          trace_state: '',
          flags: l.context.traceFlags | 0x100 | (l.context.isRemote ? 0x200 : 0),
          attributes: l.attributes ?? {},
          dropped_attributes_count: 0,
        })),
      );
      expect(row.service_name).toBe(`checkout-${protocol}`);
      expect(row.resource_attributes).toMatchObject({ 'service.name': `checkout-${protocol}`, 'deployment.environment': 'test', 'host.cpus': 2 });
      expect(row.scope_name).toBe('otlp-pg-test');
      expect(row.scope_version).toBe('1.2.3');
      expect(row.scope_schema_url).toBe('https://opentelemetry.io/schemas/1.30.0');
    }

    // Types survive: ints stay ints, doubles keep their decimal point, arrays and bools stay typed.
    const root = sent.find((s) => s.name === 'GET /checkout') as ReadableSpan;
    const rootRow = (await storedSpan(root.spanContext().spanId)) as SpanDbRow;
    const types = await query<{ key: string; type: string; text: string }>(
      db.url,
      `SELECT key, jsonb_typeof(value) AS type, value::text AS text
         FROM trace_spans, jsonb_each(attributes) WHERE span_id = decode($1, 'hex') ORDER BY key`,
      [root.spanContext().spanId],
    );
    expect(Object.fromEntries(types.map((t) => [t.key, [t.type, t.text]]))).toEqual({
      'cart.counts': ['array', '[1, 2, 3]'],
      'cart.items': ['array', '["apple", "pear"]'],
      'http.duration_ratio': ['number', '0.25'],
      'http.method': ['string', '"GET"'],
      'http.status_code': ['number', '500'],
      'retry.enabled': ['boolean', 'true'],
      'whole.double': ['number', '2.5'],
    });
    expect(rootRow.events[0]?.attributes['exception.message']).toBe('boom\twith\ttabs\nand newline');
    expect(rootRow.links[0]?.attributes).toEqual({ 'link.reason': 'follows', 'link.n': 7 });

    // The trace's summary row, once the folder has merged the batch's summary part into it.
    await summariesFolded(db.url);
    const inTrace = sent.filter((s) => s.spanContext().traceId === root.spanContext().traceId);
    const [summary] = await query<{
      span_count: number;
      error_count: number;
      service_name: string;
      root_span_name: string;
      root_span_id: string;
      start_time_unix_nano: string;
      end_time_unix_nano: string;
    }>(
      db.url,
      `SELECT span_count, error_count, service_name, root_span_name, encode(root_span_id, 'hex') AS root_span_id,
              start_time_unix_nano, end_time_unix_nano
         FROM traces WHERE trace_id = decode($1, 'hex')`,
      [root.spanContext().traceId],
    );
    expect(summary).toEqual({
      span_count: 2,
      error_count: 1,
      service_name: `checkout-${protocol}`,
      root_span_name: 'GET /checkout',
      root_span_id: root.spanContext().spanId,
      // The SDK anchors each span's clock at its own start, so a child may end "after" its parent.
      start_time_unix_nano: inTrace.map((s) => BigInt(nanos(s.startTime))).reduce((a, b) => (a < b ? a : b)).toString(),
      end_time_unix_nano: inTrace.map((s) => BigInt(nanos(s.endTime))).reduce((a, b) => (a > b ? a : b)).toString(),
    });
  });
});
