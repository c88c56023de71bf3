// Builds the requests a load run replays, with the OpenTelemetry JS SDK itself: spans, log records
// and metrics are made through the SDK's tracer, logger and meter (so they look like what an
// instrumented service exports), then serialized by otlp-transformer's protobuf serializers, the
// encoder the SDK's OTLP exporters use. One request per signal and service (per service of a
// fan-in group for traces), built once.

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import type { Signal } from '../decode/types.js';
import { Random, serviceName } from './random.js';
import { makeTemplate, type Template } from './template.js';

/** What each generated request holds. */
export interface RequestShape {
  readonly spansPerRequest: number;
  readonly spansPerTrace: number;
  readonly logsPerRequest: number;
  /**
   * Log records under each resource of a logs request, each resource another instance of the
   * service (as a Collector forwarding many pods sends them); 0 or absent: all under one resource.
   */
  readonly logsPerResource?: number;
  readonly pointsPerRequest: number;
  /**
   * Every send of a metrics request names metric streams never seen before, one stream per data
   * point (what a rollout of new pods or a high-cardinality metric name does); absent: the same
   * few streams every time.
   */
  readonly newSeries?: boolean;
  /** Attributes on each span, log record and data point. */
  readonly attributes: number;
  /** Length of generated string attribute values (log bodies are four times this, at least 40). */
  readonly attributeSize: number;
  readonly services: number;
  /** Share of traces whose root span has status ERROR (and of log records at ERROR). */
  readonly errorRatio: number;
  readonly seed: number;
  /**
   * Services each trace spans (0, 1 or absent: off). Above 1, every traces request holds one
   * service's spans of many traces, so each trace arrives in this many requests, among others.
   */
  readonly fanIn?: number;
}

const SCOPE = { name: 'otlp-pg-loadgen', version: '1.0.0' };
const ROUTES = ['/api/cart', '/api/checkout', '/api/orders/{id}', '/api/products', '/api/users/{id}', '/api/search', '/health'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const CHILD_SPANS: readonly { name: string; kind: SpanKind }[] = [
  { name: 'SELECT orders', kind: SpanKind.CLIENT },
  { name: 'redis GET', kind: SpanKind.CLIENT },
  { name: 'validate request', kind: SpanKind.INTERNAL },
  { name: 'POST /payments', kind: SpanKind.CLIENT },
  { name: 'orders publish', kind: SpanKind.PRODUCER },
  { name: 'render response', kind: SpanKind.INTERNAL },
];

/**
 * Spreads errors evenly: with a ratio of 0.02 the 1st, 51st, 101st … trace (or log record) is one,
 * so the first service ('checkout', which the README's queries ask about) has its share. A coin
 * toss per item would leave the few dozen prebuilt traces with none at all, or with far too many.
 */
class ErrorBudget {
  private seen = 0;
  constructor(private readonly ratio: number) {}
  next(): boolean {
    const i = this.seen++;
    return this.ratio > 0 && Math.floor(i * this.ratio) !== Math.floor((i - 1) * this.ratio);
  }
}

const toHr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
const hexBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

/** `count` attributes: the typed, well-known ones first, then generated strings of `size` characters. */
function attributes(rng: Random, count: number, size: number, known: Attributes): Attributes {
  const out: Attributes = {};
  let n = 0;
  for (const [k, v] of Object.entries(known)) {
    if (n++ >= count) return out;
    out[k] = v;
  }
  for (let i = n; i < count; i++) out[`app.attribute_${i}`] = rng.text(size);
  return out;
}

function resourceOf(rng: Random, service: number): Resource {
  return resourceFromAttributes({
    'service.name': serviceName(service),
    'service.version': `1.${service}.0`,
    'service.instance.id': rng.hex(16),
    'deployment.environment.name': 'bench',
    'host.name': `node-${rng.int(1, 99)}`,
    'process.runtime.name': 'nodejs',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
  });
}

/**
 * Traces over `services` (the root's first), and one request per service holding that service's
 * spans of every trace, as each service's SDK exports its own. With one service the request holds
 * whole traces (`spansPerRequest` spans); with k (fan-in) span i of a trace belongs to service i mod k,
 * so every trace is spread over the k requests, each of about `spansPerRequest` spans.
 */
function traceRequests(shape: RequestShape, rng: Random, errors: ErrorBudget, services: readonly number[], nowNs: bigint): Template[] {
  const idGenerator: IdGenerator = { generateTraceId: () => rng.hex(16), generateSpanId: () => rng.hex(8) };
  const sdks = services.map((service) => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceOf(rng, service),
      idGenerator,
      spanLimits: { attributeCountLimit: Math.max(128, shape.attributes) },
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    return { service, exporter, tracer: provider.getTracer(SCOPE.name, SCOPE.version) };
  });
  const k = sdks.length;
  const sdkOf = (i: number): (typeof sdks)[number] => sdks[i % k] as (typeof sdks)[number];
  // Fan-in traces are whole (a shorter last trace could span fewer than k services).
  const total = k === 1 ? shape.spansPerRequest : Math.ceil((shape.spansPerRequest * k) / shape.spansPerTrace) * shape.spansPerTrace;
  const times: bigint[] = [];
  const traceIds: Uint8Array[] = [];
  let made = 0;
  while (made < total) {
    const spans = Math.min(shape.spansPerTrace, total - made);
    // Traces of one export ended within the last second, as a batch span processor sends them.
    const start = nowNs - BigInt(rng.int(5_000_000, 1_000_000_000)) - BigInt(rng.int(0, 999));
    const duration = BigInt(rng.int(2_000_000, 300_000_000));
    const failed = errors.next();
    const route = rng.pick(ROUTES);
    const method = rng.pick(METHODS);
    const root = sdkOf(0).tracer.startSpan(`${method} ${route}`, {
      kind: SpanKind.SERVER,
      startTime: toHr(start),
      attributes: attributes(rng, shape.attributes, shape.attributeSize, {
        'http.request.method': method,
        'http.route': route,
        'http.status_code': failed ? 500 : rng.pick([200, 200, 200, 201, 204, 404]),
        'server.port': 8080,
        'url.scheme': 'http',
      }),
    });
    traceIds.push(hexBytes(root.spanContext().traceId));
    if (failed) {
      root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
      root.addEvent('exception', { 'exception.type': 'Error', 'exception.message': 'upstream failed' }, toHr(start + duration / 2n));
      times.push(start + duration / 2n);
    }
    const parents = [{ span: root, sdk: sdkOf(0) }];
    for (let i = 1; i < spans; i++) {
      const sdk = sdkOf(i);
      const picked = rng.pick(CHILD_SPANS);
      const parent = parents[rng.int(0, parents.length - 1)] ?? (parents[0] as (typeof parents)[number]);
      // A span whose parent is in another service is that service's side of the call: its SERVER span.
      const child = parent.sdk === sdk ? picked : { name: `${method} ${route}`, kind: SpanKind.SERVER };
      const childStart = start + (duration * BigInt(i)) / BigInt(spans + 1);
      const childEnd = childStart + duration / BigInt(spans + 1);
      const span = sdk.tracer.startSpan(
        child.name,
        {
          kind: child.kind,
          startTime: toHr(childStart),
          attributes: attributes(rng, shape.attributes, shape.attributeSize, { 'peer.service': serviceName(sdk.service + 1), 'retry.count': 0 }),
        },
        trace.setSpan(ROOT_CONTEXT, parent.span),
      );
      span.end(toHr(childEnd));
      times.push(childStart, childEnd);
      if (parents.length < 3) parents.push({ span, sdk });
    }
    root.end(toHr(start + duration));
    times.push(start, start + duration);
    made += spans;
  }
  return sdks.map(({ service, exporter }) => {
    const finished = exporter.getFinishedSpans();
    const bytes = ProtobufTraceSerializer.serializeRequest(finished) ?? new Uint8Array();
    return makeTemplate('traces', serviceName(service), bytes, finished.length, traceIds, times);
  });
}

function logsRequest(shape: RequestShape, rng: Random, errors: ErrorBudget, service: number, nowNs: bigint): Template {
  const exporter = new InMemoryLogRecordExporter();
  // One provider per resource: the serializer groups records by their provider's resource.
  const loggerOfNewInstance = () =>
    new LoggerProvider({
      resource: resourceOf(rng, service),
      logRecordLimits: { attributeCountLimit: Math.max(128, shape.attributes) },
      processors: [new SimpleLogRecordProcessor({ exporter })],
    }).getLogger(SCOPE.name, SCOPE.version);
  const perResource = shape.logsPerResource || shape.logsPerRequest;
  let logger = loggerOfNewInstance();
  const times: bigint[] = [];
  const traceIds: Uint8Array[] = [];
  const bodySize = Math.max(40, shape.attributeSize * 4);
  for (let i = 0; i < shape.logsPerRequest; i++) {
    if (i > 0 && i % perResource === 0) logger = loggerOfNewInstance();
    const error = errors.next();
    const time = nowNs - BigInt(rng.int(1_000_000, 1_000_000_000)) - BigInt(rng.int(0, 999));
    const traceId = rng.hex(16);
    traceIds.push(hexBytes(traceId));
    const route = rng.pick(ROUTES);
    const severity = error ? SeverityNumber.ERROR : rng.next() < 0.1 ? SeverityNumber.WARN : SeverityNumber.INFO;
    const message = `${rng.pick(METHODS)} ${route} answered ${error ? 500 : 200} in ${rng.int(1, 900)} ms `;
    logger.emit({
      timestamp: toHr(time),
      observedTimestamp: toHr(time + 1_000_000n),
      severityNumber: severity,
      severityText: SeverityNumber[severity],
      body: message + rng.text(Math.max(0, bodySize - message.length)),
      attributes: attributes(rng, shape.attributes, shape.attributeSize, { 'code.function': 'handle', 'thread.id': rng.int(1, 64), 'http.route': route }),
      context: trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: rng.hex(8), traceFlags: TraceFlags.SAMPLED }),
    });
    times.push(time, time + 1_000_000n);
  }
  const records = exporter.getFinishedLogRecords();
  const bytes = ProtobufLogsSerializer.serializeRequest(records) ?? new Uint8Array();
  return makeTemplate('logs', serviceName(service), bytes, records.length, traceIds, times);
}

/** Hands the SDK's collected metrics to whoever asks, instead of exporting them on a timer. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function metricsRequest(shape: RequestShape, rng: Random, service: number, nowNs: bigint): Promise<Template> {
  const series = Math.ceil(shape.pointsPerRequest / 4);
  // The SDK folds attribute sets past its cardinality limit (2000) into one overflow point.
  const reader = new CollectingReader({ cardinalitySelector: () => series + 1 });
  const provider = new MeterProvider({ resource: resourceOf(rng, service), readers: [reader] });
  const meter = provider.getMeter(SCOPE.name, SCOPE.version);
  // Four instruments of four point types; data point i goes to instrument i % 4, series i / 4.
  const kinds: readonly [string, (name: string) => (attrs: Attributes) => void][] = [
    ['http.server.duration', (name) => {
      const h = meter.createHistogram(name, { unit: 'ms' });
      return (a) => { for (let k = 0; k < 5; k++) h.record(rng.int(1, 2000), a); };
    }],
    ['http.server.requests', (name) => { const c = meter.createCounter(name); return (a) => c.add(rng.int(1, 1000), a); }],
    ['queue.depth', (name) => { const g = meter.createGauge(name); return (a) => g.record(rng.next() * 100, a); }],
    ['db.client.connections.usage', (name) => { const u = meter.createUpDownCounter(name); return (a) => u.add(rng.int(-5, 20), a); }],
  ];
  // With newSeries, each point gets an instrument of its own instead, its name ending in a token
  // that every send rewrites (template.ts): the stream identity includes the name.
  const shared = shape.newSeries ? [] : kinds.map(([name, make]) => make(name));
  const nameTokens: string[] = [];
  const seriesAttributes: Attributes[] = [];
  for (let i = 0; i < shape.pointsPerRequest; i++) {
    const s = Math.floor(i / 4);
    const attrs = (seriesAttributes[s] ??= attributes(rng, shape.attributes, shape.attributeSize, {
      'http.route': rng.pick(ROUTES),
      series: s,
    }));
    let record = shared[i % 4];
    if (!record) {
      const [name, make] = kinds[i % 4] as (typeof kinds)[number];
      const token = rng.hex(8);
      nameTokens.push(token);
      record = make(`${name}.${token}`);
    }
    record(attrs);
  }
  const collected = (await reader.collect()).resourceMetrics;
  await provider.shutdown();
  // The SDK stamps points with the wall clock; the build's own time makes the bytes reproducible.
  const start = nowNs - 60_000_000_000n;
  const resourceMetrics = {
    ...collected,
    scopeMetrics: collected.scopeMetrics.map((sm) => ({
      ...sm,
      metrics: sm.metrics.map((m) => ({ ...m, dataPoints: m.dataPoints.map((p) => ({ ...p, startTime: toHr(start), endTime: toHr(nowNs) })) }) as typeof m),
    })),
  };
  const points = resourceMetrics.scopeMetrics.reduce((n, sm) => n + sm.metrics.reduce((k, m) => k + m.dataPoints.length, 0), 0);
  const bytes = ProtobufMetricsSerializer.serializeRequest(resourceMetrics) ?? new Uint8Array();
  return makeTemplate('metrics', serviceName(service), bytes, points, [], [start, nowNs], nameTokens);
}

/** Why `shape`'s fan-in cannot be built, if it cannot: each trace needs a span in each of its services. */
export function fanInProblem(shape: Pick<RequestShape, 'fanIn' | 'services' | 'spansPerTrace'>): string | undefined {
  const k = shape.fanIn ?? 0;
  if (k <= 1) return undefined;
  if (k > shape.services) return `a fan-in of ${k} needs as many services (${shape.services})`;
  if (k > shape.spansPerTrace) return `a fan-in of ${k} needs as many spans per trace (${shape.spansPerTrace})`;
  return undefined;
}

/** The services of fan-in group `group`: k of them in turn from the group's own, which holds the roots. */
const groupServices = (group: number, k: number, services: number): number[] => Array.from({ length: k }, (_, j) => (group + j) % services);

/**
 * One template per requested signal and service; with a fan-in of k, k traces templates per
 * service instead (its group: the parts of the traces rooted in that service, one per service of the
 * group, in order). Timestamps are taken around `nowMs` (replay moves them to each send's time);
 * the same seed gives the same requests.
 */
export async function buildTemplates(signals: readonly Signal[], shape: RequestShape, nowMs = Date.now()): Promise<Template[]> {
  const problem = fanInProblem(shape);
  if (problem) throw new Error(problem);
  const k = Math.max(1, shape.fanIn ?? 0);
  const rng = new Random(shape.seed);
  const traceErrors = new ErrorBudget(shape.errorRatio);
  const logErrors = new ErrorBudget(shape.errorRatio);
  const nowNs = BigInt(nowMs) * 1_000_000n;
  const out: Template[] = [];
  for (let service = 0; service < shape.services; service++) {
    if (signals.includes('traces')) {
      const parts = traceRequests(shape, rng, traceErrors, groupServices(service, k, shape.services), nowNs);
      out.push(...(k === 1 ? parts : parts.map((t, part) => ({ ...t, fanIn: { group: service, part } }))));
    }
    if (signals.includes('logs')) out.push(logsRequest(shape, rng, logErrors, service, nowNs));
    if (signals.includes('metrics')) out.push(await metricsRequest(shape, rng, service, nowNs));
  }
  return out;
}
