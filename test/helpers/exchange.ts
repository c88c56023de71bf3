// One OTLP trace export, over HTTP/1.1 or over gRPC spoken on a bare HTTP/2 session, with what came back
// read off the wire and classified: an answer (its status, message and retry hint, decoded), or a
// transport failure (connection refused, or the request reset) — never the one taken for the other, as
// a client library's own "UNAVAILABLE" would. The last byte of a body can be held back, so that a test
// decides when the server has the whole request.
import { status as GrpcStatus } from '@grpc/grpc-js';
import http from 'node:http';
import http2 from 'node:http2';
import { jsonToProtobuf } from './otlp.js';
import { retryInfoMs, type Transport } from './sender.js';
import { decodeWire } from './wire.js';

const TRACES_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

export type Outcome =
  | {
      readonly kind: 'answered';
      readonly transport: Transport;
      /** HTTP status, or gRPC status code (0 is OK). */
      readonly code: number;
      readonly success: boolean;
      readonly retryable: boolean;
      /** HTTP's Retry-After header, as sent. */
      readonly retryAfter?: string;
      /** The RetryInfo delay of the google.rpc.Status (HTTP body, or gRPC grpc-status-details-bin). */
      readonly retryInfoMs?: number;
      /** The status message (HTTP body, or gRPC grpc-message). */
      readonly message: string;
    }
  | {
      /**
       * refused: the server cannot have read the request (the connection was refused or reset while
       * being made, or the HTTP/2 stream refused: RFC 9113 §8.7); reset: the connection or stream was
       * cut after the request was sent, before a whole answer came.
       */
      readonly kind: 'refused' | 'reset';
      readonly transport: Transport;
      readonly error: string;
    };

export interface Exchange {
  readonly transport: Transport;
  /**
   * With `holdLastByte`: resolves once the server has taken the request in (HTTP: it answered
   * `100 Continue`, which node does just before it runs the handler; gRPC: it acknowledged a PING sent
   * after the stream's first DATA frame, so the stream exists on its side).
   */
  readonly received: Promise<void>;
  /** Sends the byte held back. */
  finish(): void;
  readonly outcome: Promise<Outcome>;
  settled(): boolean;
}

/** Sends `body` (an OTLP/JSON trace request) over `transport` to the server's port for it. */
export function exchange(transport: Transport, ports: { grpc: number; http: number }, body: unknown, { holdLastByte = false } = {}): Exchange {
  const started =
    transport === 'grpc'
      ? grpcExchange(ports.grpc, jsonToProtobuf('traces', body), holdLastByte)
      : transport === 'http/json'
        ? httpExchange(transport, ports.http, Buffer.from(JSON.stringify(body)), 'application/json', holdLastByte)
        : httpExchange(transport, ports.http, jsonToProtobuf('traces', body), 'application/x-protobuf', holdLastByte);
  let settled = false;
  void started.outcome.then(() => (settled = true));
  return { transport, ...started, settled: () => settled };
}

type Started = Pick<Exchange, 'received' | 'finish' | 'outcome'>;

function httpExchange(transport: Transport, port: number, payload: Buffer, contentType: string, hold: boolean): Started {
  let received!: () => void;
  const receivedP = new Promise<void>((resolve) => (received = resolve));
  let req!: http.ClientRequest;
  const outcome = new Promise<Outcome>((resolve) => {
    req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/traces',
        method: 'POST',
        agent: false,
        headers: { 'content-type': contentType, 'content-length': String(payload.length), ...(hold ? { expect: '100-continue' } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(httpAnswer(transport, res, Buffer.concat(chunks))));
        res.on('close', () => {
          if (!res.complete) resolve({ kind: 'reset', transport, error: 'connection closed before the answer was complete' });
        });
      },
    );
    req.on('continue', received);
    req.on('error', (err: NodeJS.ErrnoException) => resolve(failure(transport, err)));
  });
  // A request that fails before the server took it in is received too: its outcome tells what happened.
  void outcome.then(received);
  if (hold) {
    req.write(payload.subarray(0, -1));
  } else {
    req.end(payload);
    received();
  }
  return { received: receivedP, finish: () => req.end(payload.subarray(-1)), outcome };
}

function httpAnswer(transport: Transport, res: http.IncomingMessage, body: Buffer): Outcome {
  const code = res.statusCode ?? 0;
  const retryAfter = res.headers['retry-after'];
  const answer = { kind: 'answered' as const, transport, code, success: code === 200, retryable: RETRYABLE_HTTP.has(code), ...(retryAfter === undefined ? {} : { retryAfter }) };
  if (code === 200) return { ...answer, message: '' };
  // https://opentelemetry.io/docs/specs/otlp/#failures-1: a google.rpc.Status in the request's encoding.
  if (res.headers['content-type'] === 'application/json') {
    const status = JSON.parse(body.toString('utf8')) as { message?: string; details?: { '@type'?: string; retryDelay?: string }[] };
    const delay = status.details?.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay;
    return { ...answer, message: status.message ?? '', ...(delay === undefined ? {} : { retryInfoMs: parseFloat(delay) * 1000 }) };
  }
  const delay = retryInfoMs(body);
  const message = body.length === 0 ? '' : String(decodeWire('Status', body)['message'] ?? '');
  return { ...answer, message, ...(delay === undefined ? {} : { retryInfoMs: delay }) };
}

/** gRPC framing by hand (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): one message, uncompressed. */
function grpcExchange(port: number, message: Buffer, hold: boolean): Started {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  let received!: () => void;
  const receivedP = new Promise<void>((resolve) => (received = resolve));
  const session = http2.connect(`http://127.0.0.1:${port}`);
  // A session that fails fails its stream too, which reports it.
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': TRACES_METHOD, 'content-type': 'application/grpc', te: 'trailers' });
  const outcome = new Promise<Outcome>((resolve) => {
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let error: NodeJS.ErrnoException | undefined;
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', () => undefined);
    stream.on('error', (err: NodeJS.ErrnoException) => (error = err));
    stream.on('close', () => {
      session.close();
      // A trailers-only answer carries grpc-status in the headers.
      const status = trailers['grpc-status'] ?? headers['grpc-status'];
      if (status === undefined) {
        const refusedStream = stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
        if (error !== undefined && !refusedStream) resolve(failure('grpc', error));
        else resolve({ kind: refusedStream ? 'refused' : 'reset', transport: 'grpc', error: `stream closed with RST_STREAM code ${stream.rstCode}` });
        return;
      }
      const code = Number(status);
      const details = trailers['grpc-status-details-bin'] ?? headers['grpc-status-details-bin'];
      const delay = typeof details === 'string' ? retryInfoMs(Buffer.from(details, 'base64')) : undefined;
      const text = trailers['grpc-message'] ?? headers['grpc-message'];
      resolve({
        kind: 'answered',
        transport: 'grpc',
        code,
        success: code === GrpcStatus.OK,
        retryable: code === GrpcStatus.UNAVAILABLE,
        message: typeof text === 'string' ? decodeURIComponent(text) : '',
        ...(delay === undefined ? {} : { retryInfoMs: delay }),
      });
    });
  });
  void outcome.then(received);
  if (hold) {
    // nghttp2 sends a PING ahead of stream frames still queued, so it is sent only once the DATA frame
    // (and the HEADERS frame before it) is on the wire; its acknowledgement says the server read both.
    stream.write(frame.subarray(0, -1), (err) => {
      if (err === undefined || err === null) session.ping(() => received());
    });
  } else {
    stream.end(frame);
    received();
  }
  return { received: receivedP, finish: () => stream.end(frame.subarray(-1)), outcome };
}

function failure(transport: Transport, err: NodeJS.ErrnoException): Outcome {
  // node's HTTP/2 client cancels a stream whose session could not connect, naming the cause.
  const cause = (err.cause ?? err) as NodeJS.ErrnoException;
  const refused = cause.code === 'ECONNREFUSED' || cause.syscall === 'connect';
  return { kind: refused ? 'refused' : 'reset', transport, error: `${err.code ?? ''} ${err.message}`.trim() };
}
