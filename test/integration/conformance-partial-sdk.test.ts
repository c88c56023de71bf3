// Acceptance (issue 4): the OpenTelemetry JS exporters receive partial success and log it; the
// gRPC exporter gets the same counts as the HTTP ones.
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { startTestServer } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;
const warnings: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  const capture = (...args: unknown[]): void => void warnings.push(args.map(String).join(' '));
  const logger: DiagLogger = { error: capture, warn: capture, info: () => undefined, debug: () => undefined, verbose: () => undefined };
  diag.setLogger(logger, DiagLogLevel.WARN);
});

afterAll(async () => {
  diag.disable();
  await server?.shutdown();
  await db?.drop();
});

/** Three real SDK spans; the middle one's trace id made all-zero, which OTLP says is invalid. */
async function spans(name: string): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('partial');
  for (let i = 0; i < 3; i++) tracer.startSpan(name).end();
  const [a, b, c] = memory.getFinishedSpans() as [ReadableSpan, ReadableSpan, ReadableSpan];
  const invalid = { ...b.spanContext(), traceId: '00000000000000000000000000000000' };
  return [a, Object.assign(Object.create(Object.getPrototypeOf(b) as object) as ReadableSpan, b, { spanContext: () => invalid }), c];
}

const exporters: Record<string, () => SpanExporter> = {
  grpc: () => new GrpcExporter({ url: `http://127.0.0.1:${server.grpc.port}` }),
  'http/protobuf': () => new HttpProtoExporter({ url: `http://127.0.0.1:${server.http.port}/v1/traces` }),
  'http/json': () => new HttpJsonExporter({ url: `http://127.0.0.1:${server.http.port}/v1/traces` }),
};

describe.each(Object.keys(exporters))('partial success to the JS exporter over %s', (protocol) => {
  it('is a success that logs the refused count and why', async () => {
    const exporter = (exporters[protocol] as () => SpanExporter)();
    const name = `partial-${protocol}`;
    const batch = await spans(name);
    const result = await new Promise<{ code: ExportResultCode }>((resolve) => exporter.export(batch, resolve));
    await exporter.shutdown();
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    const warning = warnings.find((w) => w.includes('Received Partial Success response'));
    expect(warning).toBeDefined();
    warnings.length = 0;
    const logged = JSON.parse((warning as string).slice((warning as string).indexOf('{'))) as { rejectedSpans: unknown; errorMessage: string };
    expect(Number(logged.rejectedSpans)).toBe(1);
    expect(logged.errorMessage).toBe('rejected 1 of 3 spans: trace_id must be 16 bytes and not all zero (1)');
    expect(await query(db.url, 'SELECT 1 FROM trace_spans WHERE name = $1', [name])).toHaveLength(2);
  });
});
