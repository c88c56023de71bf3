// The two OTLP transports as a load generator needs them: bytes in, an outcome out, nothing
// retried (a refusal is a measurement, not something to hide; it says whether, and when, the server
// asked for a retry). Works against any OTLP endpoint.

import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Signal } from '../decode/types.js';
import { retryAfterHeaderMs, retryInfoMs } from './retry-hint.js';

/** The answer to one export: acknowledged (maybe with items refused by partial success), or refused. */
export type Outcome =
  | { readonly ok: true; readonly rejected: number }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly message: string;
      /** The server said to retry (OTLP's retryable statuses), after this long when it gave a hint. */
      readonly retry?: { readonly afterMs: number | undefined };
    };

// https://opentelemetry.io/docs/specs/otlp/#failures and #failures-1
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);
const RETRYABLE_GRPC = new Set([
  grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);

export interface Transport {
  send(signal: Signal, body: Buffer): Promise<Outcome>;
  close(): void;
}

export interface TransportOptions {
  /** grpc: host:port, or http(s)://host:port; http: base URL such as http://127.0.0.1:4318. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM file of a CA to trust (empty: the system's). */
  readonly ca: string;
  readonly gzip: boolean;
  readonly timeoutMs: number;
  /** Requests in flight at most: HTTP/1.1 needs one socket each. */
  readonly concurrency: number;
  /** gRPC connections (HTTP/2 multiplexes the requests over them). */
  readonly connections: number;
}

const METHODS: Readonly<Record<Signal, string>> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};

const PATHS: Readonly<Record<Signal, string>> = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' };

/** Items an Export*ServiceResponse's partial_success refused (0 for an empty response). */
function rejectedIn(signal: Signal, body: Uint8Array): number {
  if (body.length === 0) return 0;
  if (signal === 'traces') return ProtobufTraceSerializer.deserializeResponse(body).partialSuccess?.rejectedSpans ?? 0;
  if (signal === 'logs') return ProtobufLogsSerializer.deserializeResponse(body).partialSuccess?.rejectedLogRecords ?? 0;
  return ProtobufMetricsSerializer.deserializeResponse(body).partialSuccess?.rejectedDataPoints ?? 0;
}

/** A connection-level failure (ECONNREFUSED, ECONNRESET …) named by its code. */
function networkOutcome(err: Error): Outcome {
  const code = (err as NodeJS.ErrnoException).code;
  return { ok: false, reason: code ?? err.name, message: err.message };
}

const identity = (b: Buffer): Buffer => b;

export function grpcTransport(options: TransportOptions): Transport {
  const tls = options.endpoint.startsWith('https://');
  const target = options.endpoint.replace(/^https?:\/\//, '');
  const credentials = tls ? grpc.credentials.createSsl(options.ca ? readFileSync(options.ca) : null) : grpc.credentials.createInsecure();
  const channelOptions: grpc.ChannelOptions = {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
    // Without a local pool, clients to one target share a single subchannel: one connection.
    'grpc.use_local_subchannel_pool': 1,
    ...(options.gzip ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {}),
  };
  const clients = Array.from({ length: options.connections }, () => new grpc.Client(target, credentials, channelOptions));
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.headers)) metadata.set(k, v);
  let next = 0;
  return {
    send(signal, body) {
      const client = clients[next++ % clients.length] as grpc.Client;
      return new Promise<Outcome>((resolve) => {
        client.makeUnaryRequest(
          METHODS[signal],
          identity,
          identity,
          body,
          metadata,
          { deadline: Date.now() + options.timeoutMs },
          (err, response) => {
            if (err) {
              const [details] = err.metadata?.get('grpc-status-details-bin') ?? [];
              const afterMs = details instanceof Buffer ? retryInfoMs(details) : undefined;
              // RESOURCE_EXHAUSTED is retryable only with RetryInfo; without it, the request is too large.
              const retryable = RETRYABLE_GRPC.has(err.code) || (err.code === grpc.status.RESOURCE_EXHAUSTED && afterMs !== undefined);
              resolve({
                ok: false,
                reason: grpc.status[err.code] ?? `gRPC ${err.code}`,
                message: err.details,
                ...(retryable ? { retry: { afterMs } } : {}),
              });
            }
            else {
              try {
                resolve({ ok: true, rejected: rejectedIn(signal, response ?? Buffer.alloc(0)) });
              } catch (e) {
                resolve({ ok: false, reason: 'bad response', message: (e as Error).message });
              }
            }
          },
        );
      });
    },
    close() {
      for (const c of clients) c.close();
    },
  };
}

const gzip = promisify(zlib.gzip);

export function httpTransport(options: TransportOptions): Transport {
  const base = new URL(options.endpoint);
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: options.concurrency, ...(options.ca ? { ca: readFileSync(options.ca) } : {}) })
    : new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const request = secure ? https.request : http.request;
  const prefix = base.pathname.replace(/\/$/, '');
  return {
    async send(signal, raw) {
      const body = options.gzip ? await gzip(raw) : raw;
      return new Promise<Outcome>((resolve) => {
        const req = request(
          {
            protocol: base.protocol,
            hostname: base.hostname,
            port: base.port,
            path: prefix + PATHS[signal],
            method: 'POST',
            agent,
            // SNI carries host names only (RFC 6066): none for an IP address.
            ...(secure && isIP(base.hostname.replace(/^\[|\]$/g, '')) ? { servername: '' } : {}),
            timeout: options.timeoutMs,
            headers: {
              ...options.headers,
              'content-type': 'application/x-protobuf',
              'content-length': body.length,
              ...(options.gzip ? { 'content-encoding': 'gzip' } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (err) => resolve(networkOutcome(err)));
            res.on('end', () => {
              const answer = Buffer.concat(chunks);
              const status = res.statusCode ?? 0;
              if (status < 200 || status > 299) {
                const retry = RETRYABLE_HTTP.has(status) ? { retry: { afterMs: retryAfterHeaderMs(res.headers['retry-after']) } } : {};
                resolve({ ok: false, reason: `HTTP ${status}`, message: answer.toString('utf8', 0, Math.min(answer.length, 200)), ...retry });
                return;
              }
              // Partial success is only readable from a protobuf answer; other 2xx bodies are plain success.
              const protobuf = (res.headers['content-type'] ?? '').includes('protobuf');
              try {
                resolve({ ok: true, rejected: protobuf ? rejectedIn(signal, answer) : 0 });
              } catch (e) {
                resolve({ ok: false, reason: 'bad response', message: (e as Error).message });
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', (err) => resolve(networkOutcome(err)));
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
