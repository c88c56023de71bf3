// OTLP/gRPC receiver (https://opentelemetry.io/docs/specs/otlp/#otlpgrpc). grpc-js only frames bytes: the
// service definitions come from proto/ (so the method paths are the spec's), but their (de)serializers are
// replaced by the identity, and the request bytes go through the same decode stage as OTLP/HTTP.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, decodeRequest, encodeExportResponse, encodeGrpcStatusDetails } from '../decode/index.js';
import type { Signal } from '../decode/types.js';
import { outcomeOf, toOtlpError } from '../errors.js';
import type { OtlpError } from '../errors.js';
import type { Receiver, ReceiverOptions } from './types.js';

const SERVICES: readonly { readonly signal: Signal; readonly file: string; readonly name: string }[] = [
  {
    signal: 'traces',
    file: 'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    name: 'opentelemetry.proto.collector.trace.v1.TraceService',
  },
  {
    signal: 'logs',
    file: 'opentelemetry/proto/collector/logs/v1/logs_service.proto',
    name: 'opentelemetry.proto.collector.logs.v1.LogsService',
  },
  {
    signal: 'metrics',
    file: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    name: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  },
];

export async function startGrpcReceiver(options: ReceiverOptions): Promise<Receiver> {
  const logger = options.logger.child({ receiver: 'grpc' });
  const definitions = await protoLoader.load(
    SERVICES.map((service) => service.file),
    { includeDirs: [PROTO_DIR] },
  );
  // grpc-js answers RESOURCE_EXHAUSTED itself for a larger message, also when it only inflates past the
  // limit (its gzip decoder counts while inflating), before our handler sees a byte.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxRequestBytes });
  for (const { signal, name } of SERVICES) {
    server.addService(passThroughService(definitions, name), {
      Export: exportHandler(signal, options, logger),
    });
  }

  // An IPv6 literal needs brackets in a gRPC target.
  const target = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });

  let closed: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    shutdown(deadlineMs: number): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, deadlineMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closed;
    },
  };
}

function exportHandler(
  signal: Signal,
  options: ReceiverOptions,
  logger: ReceiverOptions['logger'],
): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    void exportOne(signal, call.request, options).then(
      (response) => {
        options.onAnswer?.(signal, 'success');
        callback(null, response);
      },
      (err: unknown) => {
        const e = toOtlpError(err);
        options.onAnswer?.(signal, outcomeOf(e.kind).reason);
        callback(statusOf(e, logger));
      },
    );
  };
}

async function exportOne(signal: Signal, body: Buffer, options: ReceiverOptions): Promise<Buffer> {
  const result = await options.exporter.export(signal, body, (b) => decodeRequest(signal, b, 'protobuf'));
  return encodeExportResponse(signal, 'protobuf', result);
}

/**
 * A status grpc-js sends as is: given a raw exception it would answer UNKNOWN, which clients treat as
 * permanent. Retryable failures carry google.rpc.RetryInfo in `grpc-status-details-bin`
 * (https://opentelemetry.io/docs/specs/otlp/#failures); without a known delay the client backs off on its own.
 */
function statusOf(err: OtlpError, logger: ReceiverOptions['logger']): Partial<grpc.StatusObject> {
  const outcome = outcomeOf(err.kind);
  const log = { code: outcome.grpc, kind: err.kind };
  if (outcome.retryable) logger.warn(log, err.message);
  else if (err.kind === 'internal') logger.error({ ...log, err }, err.message);
  else logger.debug(log, err.message);

  const metadata = new grpc.Metadata();
  if (outcome.retryable && err.retryAfterMs !== undefined) {
    metadata.set('grpc-status-details-bin', encodeGrpcStatusDetails(outcome.grpc, err.message, err.retryAfterMs));
  }
  return { code: outcome.grpc, details: err.message, metadata };
}

const identity = (bytes: Buffer): Buffer => bytes;

/** The service's Export method as loaded from proto/, with bytes in and bytes out. */
function passThroughService(definitions: protoLoader.PackageDefinition, name: string): grpc.ServiceDefinition {
  const service = definitions[name];
  const method = service !== undefined && !('format' in service) ? service['Export'] : undefined;
  if (method === undefined) throw new Error(`proto/ does not define ${name}.Export`);
  return {
    Export: {
      path: method.path,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}
