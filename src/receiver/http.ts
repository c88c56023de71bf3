// OTLP/HTTP receiver (https://opentelemetry.io/docs/specs/otlp/#otlphttp). Like the Collector's
// otlphttp.go, every signal walks the same steps: authenticate → route → content type → content encoding →
// admission → body read under the size limit → decode → export → response in the request's encoding. Any failure
// becomes an OtlpError and leaves through the one status table in src/errors.ts. With TLS files configured
// the port speaks only HTTPS (HTTP/1.1).

import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { decodeRequest, encodeExportResponse, encodeStatus } from '../decode/index.js';
import type { Encoding, Signal } from '../decode/types.js';
import { OtlpError, invalidArgument, outcomeOf, toOtlpError } from '../errors.js';
import { bearerAuthenticator, cleartextTokenWarning, type Authenticate } from './auth.js';
import { loadTls } from './tls.js';
import type { Receiver, ReceiverOptions } from './types.js';

// https://opentelemetry.io/docs/specs/otlp/#otlphttp-request
const SIGNAL_BY_PATH: ReadonlyMap<string, Signal> = new Map([
  ['/v1/traces', 'traces'],
  ['/v1/logs', 'logs'],
  ['/v1/metrics', 'metrics'],
]);

const CONTENT_TYPE: Readonly<Record<Encoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

type ContentCoding = 'identity' | 'gzip' | 'deflate';

/** How long a refused body may keep arriving (discarded) before the connection is cut; see drainThenClose. */
const LINGER_MS = 1000;
/** Longer than the idle timeout of the HTTP clients exporters use (Go's 90 s the longest). */
const IDLE_KEEP_ALIVE_MS = 120_000;

const gzip = promisify(zlib.gzip);

interface Context extends ReceiverOptions {
  /** Set by shutdown: answers then carry `Connection: close` so keep-alive sockets do not outlive it. */
  closing: boolean;
  /** Undefined when no tokens are configured: every request is let in. */
  authenticate: Authenticate | undefined;
}

/** RFC 6750 §3: a 401 names the scheme the client should use. */
const WWW_AUTHENTICATE = 'Bearer realm="otlp-pg"';

export async function startHttpReceiver(options: ReceiverOptions): Promise<Receiver> {
  const logger = options.logger.child({ receiver: 'http' });
  const ctx: Context = { ...options, logger, closing: false, authenticate: bearerAuthenticator(options.authTokens ?? []) };
  const warning = cleartextTokenWarning(options);
  if (warning !== undefined) logger.warn(warning);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res, ctx).catch((err: unknown) => {
      // handle() answers every failure itself; reaching here means even answering failed.
      ctx.logger.error({ err }, 'http handler failed');
      res.destroy();
    });
  };
  // keepAlive here is TCP keep-alive on accepted sockets; HTTP keep-alive is node's default.
  let server: http.Server | https.Server;
  if (options.tls === undefined) {
    server = http.createServer({ keepAlive: true }, listener);
  } else {
    const { cert, key, clientCa } = await loadTls(options.tls);
    // With a client CA, requestCert asks for a certificate and rejectUnauthorized (node's default, spelled
    // out because it is the point) ends the handshake when none, or one not signed by that CA, comes.
    server = https.createServer(
      { cert, key, ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }), keepAlive: true },
      listener,
    );
    // Plain-text clients, scanners and refused client certificates end here. Debug, not warn: anyone who
    // can reach the port can cause these, and they would flood the log.
    server.on('tlsClientError', (err, socket) => {
      logger.debug({ peer: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
    });
  }

  // An idle keep-alive connection is closed by the client, never by us: a client that reuses one just
  // as the server closes it sees its request reset (Node's own 5 s would race Node agents' 5 s and
  // undici's 4 s, and cut Go clients, which keep idle connections for 90 s, every 5 s).
  server.keepAliveTimeout = IDLE_KEEP_ALIVE_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => ctx.logger.error({ err }, 'http server error'));

  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('http server is not bound to a TCP port');

  let closed: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    scheme: options.tls === undefined ? 'http' : 'https',
    shutdown(deadlineMs: number): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        ctx.closing = true;
        const force = setTimeout(() => server.closeAllConnections(), deadlineMs);
        // Since node 19, close() also closes idle keep-alive sockets; busy ones close after their answer.
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closed;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  if (path === '/healthz' && req.method === 'GET') {
    return send(req, res, ctx, 200, { 'Content-Type': 'text/plain' }, Buffer.from('ok'));
  }
  const signal = SIGNAL_BY_PATH.get(path);
  const encoding = encodingOf(req.headers['content-type']);
  try {
    // First, so an unauthenticated client learns nothing else (not even which paths exist), and before
    // the body is read, so it cannot make us buffer or inflate anything.
    const refused = ctx.authenticate?.(req.headers.authorization);
    if (refused !== undefined) throw refused;
    if (signal === undefined) throw new OtlpError('not_found', `no OTLP endpoint at ${path}`);
    if (req.method !== 'POST') throw new OtlpError('method_not_allowed', `${req.method} not allowed, use POST`);
    if (encoding === undefined) {
      throw new OtlpError(
        'unsupported_media_type',
        `unsupported Content-Type "${req.headers['content-type'] ?? ''}", use application/x-protobuf or application/json`,
      );
    }
    const coding = contentCodingOf(req.headers['content-encoding']);
    // Admission before the body: a request refused under load is never buffered (drainThenClose
    // discards it as it arrives), so a flood of senders costs reading, not memory.
    const admitted = ctx.exporter.admit(signal);
    let body: Buffer;
    try {
      body = await readBody(req, coding, ctx.maxRequestBytes);
    } catch (err) {
      admitted.cancel();
      throw err;
    }
    const result = await admitted.export(body, (b) => decodeRequest(signal, b, encoding, ctx.heads));
    const response = encodeExportResponse(signal, encoding, result);
    ctx.onAnswer?.(signal, 'success');
    await send(req, res, ctx, 200, { 'Content-Type': CONTENT_TYPE[encoding] }, response);
  } catch (err) {
    const e = toOtlpError(err);
    if (signal !== undefined) ctx.onAnswer?.(signal, outcomeOf(e.kind).reason);
    await sendError(req, res, ctx, encoding ?? 'json', e);
  }
}

// https://opentelemetry.io/docs/specs/otlp/#failures-1: the body is a google.rpc.Status; a retryable
// failure with a known delay carries Retry-After (whole seconds), which the JS and Go exporters honour.
async function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: Context,
  encoding: Encoding,
  err: OtlpError,
): Promise<void> {
  const outcome = outcomeOf(err.kind);
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPE[encoding] };
  if (err.kind === 'method_not_allowed') headers['Allow'] = 'POST';
  if (err.kind === 'unauthenticated') headers['WWW-Authenticate'] = WWW_AUTHENTICATE;
  if (outcome.retryable && err.retryAfterMs !== undefined) {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  }

  const log = { status: outcome.http, path: req.url, kind: err.kind };
  // Who was refused is worth an operator's attention; the message names what was wrong, never a token.
  if (err.kind === 'unauthenticated') ctx.logger.warn({ ...log, peer: req.socket.remoteAddress }, err.message);
  else if (outcome.retryable) ctx.logger.warn(log, err.message);
  else if (err.kind === 'internal') ctx.logger.error({ ...log, err }, err.message);
  else ctx.logger.debug(log, err.message);

  const retryAfterMs = outcome.retryable ? err.retryAfterMs : undefined;
  await send(req, res, ctx, outcome.http, headers, encodeStatus(encoding, outcome.grpc, err.message, retryAfterMs));
  drainThenClose(req);
}

async function send(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: Context,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
): Promise<void> {
  // The client is gone (disconnected mid-body or while we exported): nobody to answer.
  if (res.headersSent || req.socket.destroyed) return;
  let payload = body;
  if (body.length > 0 && acceptsGzip(req.headers['accept-encoding'])) {
    payload = await gzip(body);
    res.setHeader('Content-Encoding', 'gzip');
  }
  res.setHeader('Vary', 'Accept-Encoding');
  if (ctx.closing) res.setHeader('Connection', 'close');
  res.writeHead(status, { ...headers, 'Content-Length': String(payload.length) });
  res.end(payload);
}

/**
 * Reads the body, decompressing as it arrives, and refuses it as soon as either the wire bytes or the
 * decompressed bytes pass `limit`: JS exporters send chunked bodies without Content-Length, and a small
 * gzip body may inflate to gigabytes, so neither count can be trusted in advance.
 */
function readBody(req: IncomingMessage, coding: ContentCoding, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(`Content-Length ${declared}`, limit));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const inflater =
      coding === 'gzip' ? zlib.createGunzip() : coding === 'deflate' ? zlib.createInflate() : undefined;
    const output = inflater ?? req;
    const chunks: Buffer[] = [];
    let wireBytes = 0;
    let bodyBytes = 0;
    let done = false;

    const finish = (err: OtlpError | undefined): void => {
      if (done) return;
      done = true;
      req.off('data', onWire).off('error', onAbort).off('close', onClose);
      output.off('data', onData).off('end', onEnd);
      if (inflater !== undefined) {
        req.unpipe(inflater);
        inflater.destroy();
      }
      if (err === undefined) resolve(Buffer.concat(chunks, bodyBytes));
      else reject(err);
    };
    const onWire = (chunk: Buffer): void => {
      wireBytes += chunk.length;
      if (wireBytes > limit) finish(tooLarge('request body', limit));
    };
    const onData = (chunk: Buffer): void => {
      bodyBytes += chunk.length;
      if (bodyBytes > limit) finish(tooLarge('decompressed request body', limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    // The client went away mid-body: nobody will read the answer, but the handler still settles.
    const onAbort = (): void => finish(invalidArgument('client closed the connection before the body was complete'));
    // A complete request closes too, possibly before the inflater has flushed its last bytes.
    const onClose = (): void => {
      if (!req.complete) onAbort();
    };

    if (inflater !== undefined) {
      req.on('data', onWire);
      inflater.on('error', (err) => finish(invalidArgument(`corrupt ${coding} body: ${err.message}`, err)));
      req.pipe(inflater);
    }
    output.on('data', onData).on('end', onEnd);
    req.on('error', onAbort).on('close', onClose);
  });
}

/**
 * Answering before the whole body is in (413, 415, …) is allowed, but closing the socket while the client
 * is still sending makes its TCP stack reset the connection and may drop our answer (RFC 9112 §9.6).
 * So the rest of the body is discarded, unbuffered, for a moment; a client still sending after that is cut
 * off. One that finishes keeps its keep-alive connection.
 */
function drainThenClose(req: IncomingMessage): void {
  if (req.complete || req.socket.destroyed) return;
  const cut = setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
  const spare = (): void => clearTimeout(cut);
  req.once('end', spare).once('close', spare);
  req.resume();
}

function tooLarge(what: string, limit: number): OtlpError {
  return new OtlpError('too_large', `${what} exceeds the limit of ${limit} bytes`);
}

/** Media type without parameters (`application/json; charset=utf-8` is JSON). */
function encodingOf(contentType: string | undefined): Encoding | undefined {
  switch (contentType?.split(';', 1)[0]?.trim().toLowerCase()) {
    case 'application/x-protobuf':
      return 'protobuf';
    case 'application/json':
      return 'json';
    default:
      return undefined;
  }
}

function contentCodingOf(header: string | undefined): ContentCoding {
  const coding = header?.trim().toLowerCase() ?? '';
  switch (coding) {
    case '':
    case 'identity':
      return 'identity';
    case 'gzip':
    case 'x-gzip': // RFC 9110 §8.4.1.3: recipients should treat x-gzip as gzip
      return 'gzip';
    case 'deflate': // RFC 9110 §8.4.1.2: the zlib format (RFC 1950)
      return 'deflate';
    default:
      throw new OtlpError('unsupported_media_type', `unsupported Content-Encoding "${coding}", use gzip or deflate`);
  }
}

/** RFC 9110 §12.5.3: a listed coding is acceptable unless its qvalue is 0. */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(',').some((item) => {
    const [coding, ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') return false;
    const q = params.find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
