// Test-side OTLP clients: raw HTTP posts and raw gRPC calls, and an OTLP/JSON → protobuf encoder
// built from the project's own proto/ with protobufjs (an encoder independent of our decoders).
import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import protobuf from 'protobufjs';
import type { Signal } from '../../src/decode/types.js';
import { packageRoot } from '../../src/package-root.js';

const SERVICES: Record<Signal, { request: string; method: string }> = {
  traces: { request: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest', method: '/opentelemetry.proto.collector.trace.v1.TraceService/Export' },
  logs: { request: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest', method: '/opentelemetry.proto.collector.logs.v1.LogsService/Export' },
  metrics: { request: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest', method: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export' },
};

let root: protobuf.Root | undefined;
function protoRoot(): protobuf.Root {
  if (!root) {
    const dir = path.join(packageRoot, 'proto');
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(dir, target);
    root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto', 'opentelemetry/proto/collector/logs/v1/logs_service.proto', 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto'], { keepCase: false });
  }
  return root;
}

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** OTLP/JSON ids are hex; protobufjs' fromObject wants base64 for bytes. */
function hexIdsToBase64(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hexIdsToBase64);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, ID_KEYS.has(k) && typeof v === 'string' ? Buffer.from(v, 'hex').toString('base64') : hexIdsToBase64(v)]),
    );
  }
  return value;
}

export function jsonToProtobuf(signal: Signal, json: unknown): Buffer {
  const type = protoRoot().lookupType(SERVICES[signal].request);
  return Buffer.from(type.encode(type.fromObject(hexIdsToBase64(json) as Record<string, unknown>)).finish());
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function httpPost(port: number, urlPath: string, body: Uint8Array | string, headers: Record<string, string>): Promise<HttpAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { method: 'POST', body, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

export interface GrpcAnswer {
  code: number;
  details: string;
  response?: Buffer;
  metadata?: grpc.Metadata;
}

/** One unary Export call with raw bytes, as any OTLP/gRPC client would make it (with a deadline, if given: ms from now). */
export function grpcExport(port: number, signal: Signal, body: Uint8Array, options: grpc.ChannelOptions = {}, deadlineMs?: number): Promise<GrpcAnswer> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      SERVICES[signal].method,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      new grpc.Metadata(),
      deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
      (err, response) => {
        client.close();
        if (err) resolve({ code: err.code, details: err.details, metadata: err.metadata });
        else resolve({ code: 0, details: '', response });
      },
    );
  });
}
