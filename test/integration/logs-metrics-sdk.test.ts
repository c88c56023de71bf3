// Acceptance: logs and metrics made by the OpenTelemetry JS SDK, through each official OTLP exporter
// (gRPC, HTTP/protobuf, HTTP/JSON), come back from SQL equal to what the exporter was handed.
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ROOT_CONTEXT, TraceFlags, ValueType, trace, type HrTime } from '@opentelemetry/api';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { startTestServer } from '../helpers/server.js';

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

const http = (signal: string): string => `http://127.0.0.1:${server.http.port}/v1/${signal}`;
const logExporters: Record<string, () => LogRecordExporter> = {
  grpc: () => new GrpcLogExporter({ url: `http://127.0.0.1:${server.grpc.port}` }),
  'http/protobuf': () => new HttpProtoLogExporter({ url: http('logs') }),
  'http/json': () => new HttpJsonLogExporter({ url: http('logs') }),
};
const metricExporters: Record<string, () => PushMetricExporter> = {
  grpc: () => new GrpcMetricExporter({ url: `http://127.0.0.1:${server.grpc.port}` }),
  'http/protobuf': () => new HttpProtoMetricExporter({ url: http('metrics') }),
  'http/json': () => new HttpJsonMetricExporter({ url: http('metrics') }),
};

describe.each(Object.keys(logExporters))('logs over %s', (protocol) => {
  it('stores every record field by field', async () => {
    const memory = new InMemoryLogRecordExporter();
    const exporter = (logExporters[protocol] as () => LogRecordExporter)();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': `billing-${protocol}` }),
      processors: [new SimpleLogRecordProcessor({ exporter }), new SimpleLogRecordProcessor({ exporter: memory })],
    });
    const logger = provider.getLogger('billing-logger', '2.0.0');
    logger.emit({
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: `card declined (${protocol})`,
      attributes: { 'payment.id': 'p-1', 'payment.amount': 12.5, 'payment.retries': 3, 'payment.ok': false },
      eventName: 'payment.failed',
    });
    logger.emit({ severityNumber: SeverityNumber.INFO, body: { structured: true, count: 2, tags: ['a', 'b'] } });
    const inSpan = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    });
    logger.emit({ severityNumber: SeverityNumber.WARN, body: 'inside a span', context: inSpan });
    await provider.forceFlush();
    const sent = memory.getFinishedLogRecords();
    await provider.shutdown();
    expect(sent).toHaveLength(3);

    const rows = await query(
      db.url,
      `SELECT l.time_unix_nano, l.observed_time_unix_nano, l.severity_number, l.severity_text, l.body, l.attributes,
              l.dropped_attributes_count, encode(l.trace_id, 'hex') AS trace_id, encode(l.span_id, 'hex') AS span_id,
              l.flags, l.event_name, l.service_name,
              s.name AS scope_name, s.version AS scope_version
         FROM logs l JOIN scopes s USING (scope_id)
        WHERE l.service_name = $1 ORDER BY l.severity_number`,
      [`billing-${protocol}`],
    );
    const bySeverity = [...sent].sort((a, b) => (a.severityNumber ?? 0) - (b.severityNumber ?? 0));
    expect(rows).toEqual(
      bySeverity.map((r) => ({
        time_unix_nano: nanos(r.hrTime),
        observed_time_unix_nano: nanos(r.hrTimeObserved),
        severity_number: r.severityNumber,
        severity_text: r.severityText ?? '',
        body: r.body,
        attributes: r.attributes,
        dropped_attributes_count: String(r.droppedAttributesCount),
        // Records emitted outside any span have no trace context: NULL, not a refusal.
        trace_id: r.spanContext?.traceId ?? null,
        span_id: r.spanContext?.spanId ?? null,
        flags: String(r.spanContext?.traceFlags ?? 0),
        event_name: r.eventName ?? '',
        service_name: `billing-${protocol}`,
        scope_name: 'billing-logger',
        scope_version: '2.0.0',
      })),
    );
  });
});

/**
 * Forwards to the real exporter and keeps exactly what it was handed, to compare with SQL; after
 * `stop()` it forwards nothing more (the reader exports once more on shutdown).
 */
class Recording implements PushMetricExporter {
  readonly exported: ResourceMetrics[] = [];
  private stopped = false;
  constructor(private readonly inner: PushMetricExporter) {}
  export(metrics: ResourceMetrics, done: Parameters<PushMetricExporter['export']>[1]): void {
    if (this.stopped) return done({ code: 0 });
    this.exported.push(metrics);
    this.inner.export(metrics, done);
  }
  stop(): void {
    this.stopped = true;
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

describe.each(Object.keys(metricExporters))('metrics over %s', (protocol) => {
  it('stores counters, up-down counters, gauges, histograms and exponential histograms', async () => {
    const exporter = new Recording((metricExporters[protocol] as () => PushMetricExporter)());
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': `shop-${protocol}` }),
      readers: [reader],
      views: [{ instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const meter = provider.getMeter('shop-meter', '3.1.4');
    meter.createCounter('orders', { unit: '{order}', description: 'orders placed' }).add(5, { region: 'eu' });
    meter.createCounter('bytes', { valueType: ValueType.INT }).add(9007199254740, { region: 'us' });
    meter.createUpDownCounter('queue.depth').add(-3);
    meter.createGauge('temperature', { unit: 'Cel' }).record(21.5, { room: 'a' });
    const latency = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100] } });
    const exp = meter.createHistogram('latency.exp', { unit: 'ms' });
    for (const v of [3, 30, 300]) {
      latency.record(v);
      exp.record(v);
    }
    await provider.forceFlush();
    exporter.stop();
    await provider.shutdown();

    const sent = exporter.exported.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    expect(sent.map((m) => m.descriptor.name).sort()).toEqual(['bytes', 'latency', 'latency.exp', 'orders', 'queue.depth', 'temperature']);

    const rows = await query<Record<string, unknown>>(
      db.url,
      `SELECT m.name, m.description, m.unit, m.type, m.aggregation_temporality, m.is_monotonic,
              s.name AS scope_name, s.version AS scope_version,
              p.time_unix_nano, p.start_time_unix_nano, p.attributes, p.value_double, p.value_int, p.count, p.sum,
              p.min, p.max, p.bucket_counts, p.explicit_bounds, p.scale, p.zero_count, p.positive_offset,
              p.positive_bucket_counts, p.negative_offset, p.negative_bucket_counts
         FROM metric_data_points p JOIN metrics m USING (metric_id) JOIN scopes s ON s.scope_id = m.scope_id
        WHERE m.service_name = $1`,
      [`shop-${protocol}`],
    );
    expect(rows).toHaveLength(sent.length);

    const otlpTemporality = (t: AggregationTemporality): number => (t === AggregationTemporality.DELTA ? 1 : 2);
    for (const metric of sent) {
      const row = rows.find((r) => r.name === metric.descriptor.name) as Record<string, unknown>;
      const point = metric.dataPoints[0] as (typeof metric.dataPoints)[0];
      expect(row, metric.descriptor.name).toMatchObject({
        description: metric.descriptor.description,
        unit: metric.descriptor.unit,
        scope_name: 'shop-meter',
        scope_version: '3.1.4',
        time_unix_nano: nanos(point.endTime),
        start_time_unix_nano: nanos(point.startTime),
        attributes: point.attributes,
      });
      switch (metric.dataPointType) {
        case DataPointType.SUM: {
          const isInt = metric.descriptor.valueType === ValueType.INT;
          expect(row).toMatchObject({
            type: 'sum',
            aggregation_temporality: otlpTemporality(metric.aggregationTemporality),
            is_monotonic: metric.isMonotonic,
            value_double: isInt ? null : point.value,
            value_int: isInt ? String(point.value) : null,
          });
          break;
        }
        case DataPointType.GAUGE:
          expect(row).toMatchObject({ type: 'gauge', aggregation_temporality: 0, value_double: point.value, value_int: null });
          break;
        case DataPointType.HISTOGRAM: {
          const h = point.value as { buckets: { boundaries: number[]; counts: number[] }; count: number; sum: number; min: number; max: number };
          expect(row).toMatchObject({
            type: 'histogram',
            aggregation_temporality: otlpTemporality(metric.aggregationTemporality),
            count: String(h.count),
            sum: h.sum,
            min: h.min,
            max: h.max,
            bucket_counts: h.buckets.counts.map(String),
            explicit_bounds: h.buckets.boundaries,
          });
          break;
        }
        case DataPointType.EXPONENTIAL_HISTOGRAM: {
          const e = point.value as {
            count: number;
            sum: number;
            min: number;
            max: number;
            scale: number;
            zeroCount: number;
            positive: { offset: number; bucketCounts: number[] };
            negative: { offset: number; bucketCounts: number[] };
          };
          expect(row).toMatchObject({
            type: 'exponential_histogram',
            count: String(e.count),
            sum: e.sum,
            min: e.min,
            max: e.max,
            scale: e.scale,
            zero_count: String(e.zeroCount),
            positive_offset: e.positive.offset,
            positive_bucket_counts: e.positive.bucketCounts.map(String),
            negative_offset: e.negative.offset,
            negative_bucket_counts: e.negative.bucketCounts.map(String),
          });
          break;
        }
      }
    }
  });
});
