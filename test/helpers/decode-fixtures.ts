// Inputs for the decoder tests: telemetry made by the OpenTelemetry JS SDK (serialized by
// otlp-transformer, an encoder independent of ours), and the upstream OTLP/JSON examples.
import { readFileSync } from 'node:fs';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  ValueType,
  createTraceState,
  trace,
} from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'vitest';
import { lookupType } from '../../src/decode/protobuf.js';
import { OtlpError } from '../../src/errors.js';
import type { Signal } from '../../src/decode/types.js';

export const RESOURCE = resourceFromAttributes({ 'service.name': 'checkout', 'host.cpu.count': 8 });

/** The parent of the SDK span below, as if propagated from another process. */
export const REMOTE_PARENT = {
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b173',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: createTraceState('vendor=value'),
};

export const LINKED = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.NONE,
};

/** One SERVER span with typed attributes, an event, a link and an error status; times in exact ns. */
export function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: RESOURCE, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('checkout-lib', '1.2.3');
  const span = tracer.startSpan(
    'GET /cart',
    {
      kind: SpanKind.SERVER,
      startTime: [1700000000, 123456789],
      attributes: {
        'http.status': 500,
        ratio: 0.25,
        cached: false,
        ids: [1, 2, 3],
        'max.safe': Number.MAX_SAFE_INTEGER,
      },
      links: [{ context: LINKED, attributes: { 'link.kind': 'follows' } }],
    },
    trace.setSpanContext(ROOT_CONTEXT, REMOTE_PARENT),
  );
  span.addEvent('cache.miss', { 'cache.key': 'cart:42' }, [1700000000, 223456789]);
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  span.end([1700000001, 999999999]);
  return exporter.getFinishedSpans();
}

/** One event log record inside the span above, with a structured body holding bytes. */
export function sdkLogRecords(): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: RESOURCE, processors: [new SimpleLogRecordProcessor({ exporter })] });
  provider.getLogger('checkout-log', '2.0.0').emit({
    eventName: 'cart.checkout',
    timestamp: [1700000002, 5],
    observedTimestamp: [1700000002, 6],
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: { user: 'u1', items: [1, 2.5, true], raw: new Uint8Array([0, 1, 255]) },
    attributes: { 'retry.count': 3 },
    context: trace.setSpanContext(ROOT_CONTEXT, { ...REMOTE_PARENT, isRemote: false }),
  });
  return exporter.getFinishedLogRecords();
}

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** An int counter, a double gauge, an explicit-bucket and an exponential histogram. */
export async function sdkMetrics(): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: RESOURCE,
    readers: [reader],
    views: [{ instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('checkout-meter', '3.0.0');
  meter.createCounter('orders', { valueType: ValueType.INT }).add(5, { region: 'eu' });
  meter.createGauge('temperature', { unit: 'Cel' }).record(21.5);
  const latency = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100] } });
  latency.record(7);
  latency.record(50);
  const exponential = meter.createHistogram('latency.exp');
  exponential.record(3);
  exponential.record(12);
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics;
}

// ---- upstream examples

export const EXAMPLES = [
  { file: 'trace.json', signal: 'traces' },
  { file: 'logs.json', signal: 'logs' },
  { file: 'events.json', signal: 'logs' },
  { file: 'metrics.json', signal: 'metrics' },
] as const satisfies readonly { file: string; signal: Signal }[];

export function exampleJson(file: string): Buffer {
  return readFileSync(new URL(`../fixtures/otlp-examples/${file}`, import.meta.url));
}

const REQUEST_TYPES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
};

const HEX_ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * OTLP/JSON → protobuf through protobufjs' own object conversion, a path independent of our JSON
 * decoder. Ids are hex in OTLP/JSON but base64 in the plain proto3 mapping fromObject expects.
 */
export function jsonToProtobuf(signal: Signal, json: Buffer): Uint8Array {
  const object: unknown = JSON.parse(json.toString('utf8'), (key, value: unknown) =>
    HEX_ID_KEYS.has(key) && typeof value === 'string' ? Buffer.from(value, 'hex') : value,
  );
  const type = lookupType(REQUEST_TYPES[signal]);
  return type.encode(type.fromObject(object as Record<string, unknown>)).finish();
}

// ---- hand-made protobuf, for inputs no encoder would produce

export function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

/** A varint of all 64 bits: negative int64 takes ten bytes. */
export function varint64(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
  out.push(Number(v));
  return out;
}

/** A length-delimited field (wire type 2). */
export function ld(field: number, content: readonly number[]): number[] {
  return [...varint(field * 8 + 2), ...varint(content.length), ...content];
}

/**
 * A log request whose body nests `levels` AnyValues through kvlists (or arrays), leaf a string.
 * Built from headers in one pass, so 10000 levels cost no more than their bytes.
 */
export function deepLogRequest(levels: number, via: 'kvlist' | 'array'): Uint8Array {
  const leaf = ld(1, [...Buffer.from('leaf')]);
  const key = ld(1, [...Buffer.from('k')]);
  // Each level wraps its content in fixed headers; lengths are known once the inside is sized.
  const headers: number[][] = [];
  let size = leaf.length;
  for (let level = 1; level < levels; level++) {
    if (via === 'kvlist') {
      // AnyValue{kvlist_value=6: KeyValueList{values=1: KeyValue{key=1, value=2: inner}}}
      const value = [...varint(2 * 8 + 2), ...varint(size)];
      const keyValue = [...varint(1 * 8 + 2), ...varint(key.length + value.length + size), ...key, ...value];
      const list = [...varint(6 * 8 + 2), ...varint(keyValue.length + size)];
      headers.push([...list, ...keyValue]);
      size += list.length + keyValue.length;
    } else {
      // AnyValue{array_value=5: ArrayValue{values=1: inner}}
      const values = [...varint(1 * 8 + 2), ...varint(size)];
      const array = [...varint(5 * 8 + 2), ...varint(values.length + size)];
      headers.push([...array, ...values]);
      size += array.length + values.length;
    }
  }
  const body = [...headers.reverse().flat(), ...leaf];
  // ExportLogsServiceRequest{resource_logs=1: {scope_logs=2: {log_records=2: LogRecord{body=5}}}}
  return Uint8Array.from(ld(1, ld(2, ld(2, ld(5, body)))));
}

/** The same nesting as OTLP/JSON text; `longNumber` adds a 19-digit timestamp (the lossless parser's path). */
export function deepLogJson(levels: number, via: 'kvlist' | 'array', longNumber = false): Buffer {
  const open = via === 'kvlist' ? '{"kvlistValue":{"values":[{"key":"k","value":' : '{"arrayValue":{"values":[';
  const close = via === 'kvlist' ? '}]}}' : ']}}';
  const body = `${open.repeat(levels - 1)}{"stringValue":"leaf"}${close.repeat(levels - 1)}`;
  const time = longNumber ? '"timeUnixNano":1700000000000000001,' : '';
  return Buffer.from(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{${time}"body":${body}}]}]}]}`);
}

/** The one element of a list (fails the test otherwise). */
export function only<T>(list: readonly T[]): T {
  expect(list).toHaveLength(1);
  return list[0] as T;
}

/** The invalid_argument OtlpError `decode` throws (fails the test otherwise). */
export function invalid(decode: () => unknown): OtlpError {
  try {
    decode();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpError);
    expect((err as OtlpError).kind).toBe('invalid_argument');
    return err as OtlpError;
  }
  throw new Error('expected an invalid_argument OtlpError');
}

// Hand encoding, field numbers from the OTLP .proto files.
export const tag = (field: number, wireType: number): number[] => varint(field * 8 + wireType);
export const u32 = (field: number, n: number): number[] => [...tag(field, 0), ...varint(n)];
export const fixed64 = (field: number, n: bigint): number[] => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, n));
  return [...tag(field, 1), ...bytes];
};
export const float64 = (field: number, x: number): number[] => {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleLE(x);
  return [...tag(field, 1), ...bytes];
};
export const text = (field: number, s: string): number[] => ld(field, [...Buffer.from(s)]);
// KeyValue{key=1, value=2: AnyValue{string_value=1}}
export const attribute = (field: number, key: string, value: string): number[] =>
  ld(field, [...text(1, key), ...ld(2, text(1, value))]);
