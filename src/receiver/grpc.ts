// OTLP/gRPC receiver (https://opentelemetry.io/docs/specs/otlp/#otlpgrpc). grpc-js only frames bytes: the
// service definitions come from proto/ (so the method paths are the spec's), but their (de)serializers are
// replaced by the identity, and the request bytes go through the same decode stage as OTLP/HTTP.
// With TLS files configured the port speaks only TLS; with tokens, every call's `authorization` metadata
// is checked, and admission decided, at the call's headers, before its message is received.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, decodeRequest, encodeExportResponse, encodeGrpcStatusDetails } from '../decode/index.js';
import type { Signal } from '../decode/types.js';
import type { Admitted } from '../pipeline/types.js';
import { OtlpError, outcomeOf, toOtlpError } from '../errors.js';
import { bearerAuthenticator, cleartextTokenWarning, type Authenticate } from './auth.js';
import { loadTls } from './tls.js';
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

const MAX_STREAMS_PER_CONNECTION = 100;

export async function startGrpcReceiver(options: ReceiverOptions): Promise<Receiver> {
  const logger = options.logger.child({ receiver: 'grpc' });
  const credentials = await serverCredentials(options);
  const authenticate = bearerAuthenticator(options.authTokens ?? []);
  const warning = cleartextTokenWarning(options);
  if (warning !== undefined) logger.warn(warning);
  const definitions = await protoLoader.load(
    SERVICES.map((service) => service.file),
    { includeDirs: [PROTO_DIR] },
  );
  // grpc-js answers RESOURCE_EXHAUSTED itself for a larger message, also when it only inflates past the
  // limit (its gzip decoder counts while inflating), before our handler sees a byte.
  // The calls let in each buffer their message whole; the streams of one connection bound how many
  // do at once. 100 is HTTP/2's recommended minimum (RFC 9113 §6.5.2); clients queue further calls.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxRequestBytes, 'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION });
  for (const { signal, name } of SERVICES) {
    server.addService(passThroughService(definitions, name), {
      Export: exportHandler(signal, options, logger, authenticate),
    });
  }

  // An IPv6 literal needs brackets in a gRPC target.
  const target = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });

  let closed: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    scheme: options.tls === undefined ? 'http' : 'https',
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

/**
 * Export, served as a client stream so that it runs at the call's headers, before its message
 * arrives: a client calls it as the unary method it is (the two are the same on the wire), and a
 * call refused by its token or by admission is answered at once, without its message being
 * received whole, decoded or held. A call let in must then send exactly one message.
 */
function exportHandler(
  signal: Signal,
  options: ReceiverOptions,
  logger: ReceiverOptions['logger'],
  authenticate: Authenticate | undefined,
): grpc.handleClientStreamingCall<Buffer, Buffer> {
  return (call, callback) => {
    let answered = false;
    const fail = (err: unknown): void => {
      if (answered) return;
      answered = true;
      admitted?.cancel();
      const e = toOtlpError(err);
      options.onAnswer?.(signal, outcomeOf(e.kind).reason);
      callback(statusOf(e, logger, call.getPeer()));
    };
    let admitted: Admitted<Signal> | undefined;
    const [authorization] = call.metadata.get('authorization');
    const refused = authenticate?.(typeof authorization === 'string' ? authorization : undefined);
    if (refused !== undefined) return fail(refused);
    try {
      admitted = options.exporter.admit(signal);
    } catch (err) {
      return fail(err);
    }
    // The client's deadline (grpc-timeout): a request it has given up on is not written.
    const deadline = call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    let message: Buffer | undefined;
    call.on('data', (bytes: Buffer) => {
      if (message !== undefined) return fail(new OtlpError('invalid_argument', 'more than one message in a call of the unary Export method'));
      message = bytes;
    });
    // A client that cancels, or whose connection drops, before its message is in gives its place
    // back (once exported, a request is answered by its outcome; cancel is then a no-op).
    call.on('cancelled', () => admitted?.cancel());
    call.on('error', () => admitted?.cancel());
    call.on('end', () => {
      if (answered || admitted === undefined) return;
      if (message === undefined) return fail(new OtlpError('invalid_argument', 'no message in a call of the unary Export method'));
      const clientTimeoutMs = Number.isFinite(at) ? at - Date.now() : undefined;
      admitted
        .export(message, (b) => decodeRequest(signal, b, 'protobuf', options.heads), clientTimeoutMs === undefined ? {} : { clientTimeoutMs })
        .then((result) => {
          answered = true;
          options.onAnswer?.(signal, 'success');
          callback(null, encodeExportResponse(signal, 'protobuf', result));
        }, fail);
    });
  };
}

/**
 * A status grpc-js sends as is: given a raw exception it would answer UNKNOWN, which clients treat as
 * permanent. Retryable failures carry google.rpc.RetryInfo in `grpc-status-details-bin`
 * (https://opentelemetry.io/docs/specs/otlp/#failures); without a known delay the client backs off on its own.
 */
function statusOf(err: OtlpError, logger: ReceiverOptions['logger'], peer: string): Partial<grpc.StatusObject> {
  const outcome = outcomeOf(err.kind);
  const log = { code: outcome.grpc, kind: err.kind };
  // Who was refused is worth an operator's attention; the message names what was wrong, never a token.
  if (err.kind === 'unauthenticated') logger.warn({ ...log, peer }, err.message);
  else if (outcome.retryable) logger.warn(log, err.message);
  else if (err.kind === 'internal') logger.error({ ...log, err }, err.message);
  else logger.debug(log, err.message);

  const metadata = new grpc.Metadata();
  if (outcome.retryable && err.retryAfterMs !== undefined) {
    metadata.set('grpc-status-details-bin', encodeGrpcStatusDetails(outcome.grpc, err.message, err.retryAfterMs));
  }
  return { code: outcome.grpc, details: err.message, metadata };
}

/**
 * TLS from the configured PEM files, or plain text. With a client CA, grpc-js sets requestCert and keeps
 * node's rejectUnauthorized default, so the handshake fails for a client without a certificate signed by it.
 */
async function serverCredentials(options: ReceiverOptions): Promise<grpc.ServerCredentials> {
  if (options.tls === undefined) return grpc.ServerCredentials.createInsecure();
  const { cert, key, clientCa } = await loadTls(options.tls);
  return grpc.ServerCredentials.createSsl(clientCa ?? null, [{ cert_chain: cert, private_key: key }], clientCa !== undefined);
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
      // Served as a client stream (exportHandler); the method path is the spec's.
      requestStream: true,
      responseStream: method.responseStream,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}
