// OTLP/HTTP receiver over real sockets, with a fake exporter standing in for the pipeline: the receiver's
// job is bytes in, status out, so nothing here touches PostgreSQL.

import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';
import { pino } from 'pino';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Signal, SignalRequests } from '../../src/decode/types.js';
import { OtlpError } from '../../src/errors.js';
import { startHttpReceiver } from '../../src/receiver/http.js';
import type { Receiver } from '../../src/receiver/types.js';
import { FakeExporter } from '../helpers/fake-exporter.js';
import { until } from '../helpers/poll.js';
import { decodeWire, traceRequestProtobuf } from '../helpers/wire.js';

const LIMIT = 1 << 20;



function traceRequestJson(spanName: string): string {
  const span = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: spanName };
  return JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
}

function firstSpanName(request: SignalRequests[Signal] | undefined): string | undefined {
  return request !== undefined && 'resourceSpans' in request
    ? request.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.name
    : undefined;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Call {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** Written in one piece; without Content-Length when `chunked`. */
  body?: Buffer | string;
  chunked?: boolean;
  /** Leave the request unfinished (the reply is expected before the body is complete). */
  open?: boolean;
  agent?: http.Agent;
}

let receiver: Receiver;
const exporter = new FakeExporter();

/** One HTTP exchange; resolves with the reply even if the server answered before the body was sent. */
function call(c: Call): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = c.body ?? '';
    const headers = { ...c.headers };
    if (!c.chunked && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = http.request(
      { host: receiver.host, port: receiver.port, path: c.path ?? '/v1/traces', method: c.method ?? 'POST', headers, agent: c.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          if (c.open) req.destroy();
        });
      },
    );
    // Writes after an early answer may fail once the server cuts the connection; the answer is what counts.
    req.on('error', (err) => reject(err));
    req.write(body);
    if (!c.open) req.end();
  });
}

const post = (path: string, contentType: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<Reply> =>
  call({ path, body, headers: { 'content-type': contentType, ...headers } });

const json = (reply: Reply): Record<string, unknown> => JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;

beforeAll(async () => {
  receiver = await startHttpReceiver({
    host: '127.0.0.1',
    port: 0,
    maxRequestBytes: LIMIT,
    exporter,
    logger: pino({ level: 'silent' }),
  });
});

afterAll(() => receiver.shutdown(1000));

beforeEach(() => {
  exporter.calls = [];
  exporter.outcome = { rejected: 0, message: '' };
  exporter.gate = undefined;
  exporter.refusal = undefined;
});

describe('HTTP receiver: export', () => {
  it('binds a free port when asked for port 0', () => {
    expect(receiver.port).toBeGreaterThan(0);
    expect(receiver.host).toBe('127.0.0.1');
  });

  it('decodes protobuf, hands it to the exporter and answers an empty protobuf body', async () => {
    const body = traceRequestProtobuf('proto-span');
    const reply = await post('/v1/traces', 'application/x-protobuf', body);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-protobuf');
    expect(reply.body.length).toBe(0);
    expect(exporter.calls).toHaveLength(1);
    expect(exporter.calls[0]?.signal).toBe('traces');
    expect(exporter.calls[0]?.bytes).toBe(body.length);
    expect(firstSpanName(exporter.calls[0]?.request)).toBe('proto-span');
  });

  it('decodes JSON (content type parameters allowed) and answers {}', async () => {
    const reply = await post('/v1/traces', 'application/json; charset=utf-8', traceRequestJson('json-span'));
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(json(reply)).toEqual({});
    expect(firstSpanName(exporter.calls[0]?.request)).toBe('json-span');
  });

  it.each([
    ['/v1/logs', 'logs'],
    ['/v1/metrics', 'metrics'],
  ] as const)('routes %s to the %s signal', async (path, signal) => {
    const reply = await post(path, 'application/json', '{}');
    expect(reply.status).toBe(200);
    expect(exporter.calls.map((c) => c.signal)).toEqual([signal]);
  });

  it('inflates gzip and deflate request bodies', async () => {
    const gz = await post('/v1/traces', 'application/json', zlib.gzipSync(traceRequestJson('gz')), { 'content-encoding': 'gzip' });
    const df = await post('/v1/traces', 'application/x-protobuf', zlib.deflateSync(traceRequestProtobuf('df')), {
      'content-encoding': 'deflate',
    });
    expect([gz.status, df.status]).toEqual([200, 200]);
    expect(exporter.calls.map((c) => firstSpanName(c.request))).toEqual(['gz', 'df']);
    // bytes charged to admission are the decoded size, not the compressed one
    expect(exporter.calls[1]?.bytes).toBe(traceRequestProtobuf('df').length);
  });

  it('reads chunked bodies without Content-Length', async () => {
    const reply = await call({ body: traceRequestJson('chunked'), chunked: true, headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(200);
    expect(firstSpanName(exporter.calls[0]?.request)).toBe('chunked');
  });

  it('reports partial success in the request encoding', async () => {
    exporter.outcome = { rejected: 3, message: '3 spans had an empty trace id' };
    const asJson = json(await post('/v1/traces', 'application/json', traceRequestJson('x')));
    const partial = asJson['partialSuccess'] as Record<string, unknown>;
    expect(Number(partial['rejectedSpans'])).toBe(3);
    expect(partial['errorMessage']).toBe('3 spans had an empty trace id');

    const asProto = await post('/v1/traces', 'application/x-protobuf', traceRequestProtobuf('x'));
    expect(decodeWire('ExportTraceServiceResponse', asProto.body)).toEqual({
      partial_success: { rejected_spans: 3, error_message: '3 spans had an empty trace id' },
    });
  });

  it('names the partial success field after the signal', async () => {
    exporter.outcome = { rejected: 2, message: 'bad' };
    const logs = json(await post('/v1/logs', 'application/json', '{}'));
    const metrics = json(await post('/v1/metrics', 'application/json', '{}'));
    expect(Number((logs['partialSuccess'] as Record<string, unknown>)['rejectedLogRecords'])).toBe(2);
    expect(Number((metrics['partialSuccess'] as Record<string, unknown>)['rejectedDataPoints'])).toBe(2);
  });

  it('gzips the response when the client accepts gzip, and not when q=0', async () => {
    exporter.outcome = { rejected: 1, message: 'one bad span' };
    const zipped = await post('/v1/traces', 'application/json', traceRequestJson('x'), { 'accept-encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const body = JSON.parse(zlib.gunzipSync(zipped.body).toString('utf8')) as Record<string, unknown>;
    expect((body['partialSuccess'] as Record<string, unknown>)['errorMessage']).toBe('one bad span');

    const refused = await post('/v1/traces', 'application/json', traceRequestJson('x'), { 'accept-encoding': 'gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(json(refused)).toHaveProperty('partialSuccess');
  });

  it('keeps the connection alive between requests, and tells clients it stays open when idle for 120 s', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = http.request(
            { host: receiver.host, port: receiver.port, path: '/v1/traces', method: 'POST', agent, headers: { 'content-type': 'application/json' } },
            (res) => {
              // Longer than clients keep an idle connection, so the client closes it first (no reset race).
              expect(res.headers['keep-alive']).toBe('timeout=120');
              sockets.add(req.socket);
              res.resume().on('end', resolve);
            },
          );
          req.on('error', reject).end('{}');
        });
      }
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

describe('HTTP receiver: refusals', () => {
  it('answers 405 with Allow: POST for other methods', async () => {
    const reply = await call({ method: 'GET', path: '/v1/traces' });
    expect(reply.status).toBe(405);
    expect(reply.headers['allow']).toBe('POST');
  });

  it('answers 404 for unknown paths', async () => {
    expect((await post('/v1/spans', 'application/json', '{}')).status).toBe(404);
    expect((await call({ method: 'GET', path: '/' })).status).toBe(404);
  });

  it('answers 415 for an unknown content type, with a JSON status body', async () => {
    const reply = await post('/v1/traces', 'text/plain', 'hello');
    expect(reply.status).toBe(415);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(json(reply)['message']).toMatch(/Content-Type/);
    expect((await call({ body: '{}' })).status).toBe(415); // no Content-Type at all
  });

  it('answers 415 for an unknown content encoding', async () => {
    const reply = await post('/v1/traces', 'application/json', '{}', { 'content-encoding': 'br' });
    expect(reply.status).toBe(415);
    expect(json(reply)['message']).toMatch(/Content-Encoding/);
  });

  it('answers 400 for bodies that do not decode', async () => {
    const proto = await post('/v1/traces', 'application/x-protobuf', Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(proto.status).toBe(400);
    expect(decodeWire('Status', proto.body)['code']).toBe(3);
    expect((await post('/v1/traces', 'application/json', '{"resourceSpans": [')).status).toBe(400);
    expect(exporter.calls).toHaveLength(0);
  });

  it('answers 400 for a corrupt gzip body', async () => {
    const reply = await post('/v1/traces', 'application/json', Buffer.from('this is not gzip'), { 'content-encoding': 'gzip' });
    expect(reply.status).toBe(400);
    expect(json(reply)['message']).toMatch(/gzip/);
    const truncated = zlib.gzipSync(traceRequestJson('x')).subarray(0, 20);
    expect((await post('/v1/traces', 'application/json', truncated, { 'content-encoding': 'gzip' })).status).toBe(400);
  });

  it('refuses a Content-Length over the limit at once, without waiting for the body', async () => {
    const reply = await call({
      headers: { 'content-type': 'application/x-protobuf', 'content-length': String(100 * LIMIT) },
      body: Buffer.alloc(1024),
      open: true,
    });
    expect(reply.status).toBe(413);
    expect(exporter.calls).toHaveLength(0);
  });

  it('cuts a refused keep-alive client that never finishes its body, after a moment', async () => {
    // Plain node would keep this socket waiting for the announced 100 MB until requestTimeout (5 min).
    const agent = new http.Agent({ keepAlive: true });
    try {
      // Taken before the request is sent, so before the server starts counting its moment.
      const sent = performance.now();
      const req = http.request({
        host: receiver.host,
        port: receiver.port,
        path: '/v1/traces',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(100 * LIMIT) },
      });
      req.on('error', () => {});
      req.write(Buffer.alloc(1024));
      const [res] = (await once(req, 'response')) as [http.IncomingMessage];
      expect(res.statusCode).toBe(413);
      expect(res.headers['connection']).toBe('keep-alive');
      // This client never closes it: the server cuts it (a server that waited for the body would leave
      // the test to time out), and not at once, so the client could read the answer first.
      await once(res.socket, 'close');
      expect(performance.now() - sent).toBeGreaterThanOrEqual(500);
    } finally {
      agent.destroy();
    }
  });

  it('keeps the connection of a refused client that finishes its body', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      const statuses: number[] = [];
      for (const body of [Buffer.alloc(2 * LIMIT), Buffer.from('{}')]) {
        await new Promise<void>((resolve, reject) => {
          const req = http.request(
            { host: receiver.host, port: receiver.port, path: '/v1/traces', method: 'POST', agent, headers: { 'content-type': 'application/json' } },
            (res) => {
              sockets.add(req.socket);
              statuses.push(res.statusCode ?? 0);
              res.resume().on('end', resolve);
            },
          );
          req.on('error', reject).end(body);
        });
      }
      expect(statuses).toEqual([413, 200]);
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('refuses a chunked body once it passes the limit', async () => {
    const reply = await call({
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.alloc(LIMIT + 1),
      chunked: true,
    });
    expect(reply.status).toBe(413);
    expect(decodeWire('Status', reply.body)['code']).toBe(8);
  });

  it('accepts a body of exactly the limit', async () => {
    // a protobuf body of LIMIT bytes: one unknown length-delimited field (number 15), which decoders skip
    const header = protobuf.Writer.create().uint32((15 << 3) | 2).uint32(LIMIT - 4).finish();
    const body = Buffer.concat([header, Buffer.alloc(LIMIT - header.length)]);
    expect(body.length).toBe(LIMIT);
    const reply = await call({ headers: { 'content-type': 'application/x-protobuf' }, body, chunked: true });
    expect(reply.status).toBe(200);
  });

  it('stops a gzip bomb at the limit instead of inflating it, and keeps serving', async () => {
    const bomb = await gzipZeros(200 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(LIMIT);
    // Counts what the receiver's gunzip gives out: the work and the memory the bomb cost, measured
    // against the limit rather than by the clock or the process's memory.
    const createGunzip = zlib.createGunzip;
    const gunzips: zlib.Gunzip[] = [];
    let inflated = 0;
    const spy = vi.spyOn(zlib, 'createGunzip').mockImplementation((options) => {
      const gunzip = createGunzip(options);
      gunzip.on('data', (chunk: Buffer) => (inflated += chunk.length));
      gunzips.push(gunzip);
      return gunzip;
    });
    let reply: Reply;
    try {
      reply = await post('/v1/traces', 'application/x-protobuf', bomb, { 'content-encoding': 'gzip' });
    } finally {
      spy.mockRestore();
    }
    expect(reply.status).toBe(413);
    expect(decodeWire('Status', reply.body)['message']).toMatch(/decompressed/);
    // Stopped for good within a chunk of the limit, instead of inflating the 200 MiB.
    expect(gunzips.map((g) => g.destroyed)).toEqual([true]);
    expect(inflated).toBeGreaterThan(LIMIT);
    expect(inflated).toBeLessThan(2 * LIMIT);
    expect(exporter.calls).toHaveLength(0);
    expect((await post('/v1/traces', 'application/json', '{}')).status).toBe(200);
  });

  it('survives a client that disconnects mid-body', async () => {
    const req = http.request({
      host: receiver.host,
      port: receiver.port,
      path: '/v1/traces',
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': '1000' },
    });
    req.on('error', () => {});
    req.write('{"resourceSpans": [');
    // Gone once the server has taken the request in and waits for the rest of its body.
    await until(() => exporter.held === 1, 'the request admitted');
    req.destroy();
    await until(() => exporter.held === 0, 'the place of the abandoned request given back');
    expect(exporter.calls).toHaveLength(0);
    expect((await post('/v1/traces', 'application/json', '{}')).status).toBe(200);
  });
});

describe('HTTP receiver: export failures', () => {
  it('answers 503 with Retry-After and a google.rpc.Status carrying RetryInfo when retryable', async () => {
    exporter.outcome = new OtlpError('unavailable', 'database is down', 2000);
    const reply = await post('/v1/traces', 'application/x-protobuf', traceRequestProtobuf('x'));
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('2');
    expect(reply.headers['content-type']).toBe('application/x-protobuf');
    const status = decodeWire('Status', reply.body);
    expect(status['code']).toBe(14);
    expect(status['message']).toBe('database is down');
    const [detail] = status['details'] as { type_url: string; value: Uint8Array }[];
    expect(detail?.type_url).toBe('type.googleapis.com/google.rpc.RetryInfo');
    expect(decodeWire('RetryInfo', detail?.value ?? new Uint8Array())).toEqual({ retry_delay: { seconds: 2, nanos: 0 } });
  });

  it('asks admission before reading the body: a refusal is 503 with Retry-After, and nothing is exported', async () => {
    exporter.refusal = new OtlpError('overloaded', 'otlp-pg is at its limit', 3000);
    const reply = await post('/v1/traces', 'application/x-protobuf', traceRequestProtobuf('refused'));
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('3');
    expect([exporter.calls.length, exporter.held]).toEqual([0, 0]);
  });

  it('gives the admitted place back when the body cannot be read', async () => {
    const reply = await post('/v1/traces', 'application/json', zlib.gzipSync(Buffer.from('not json')).subarray(0, 12), { 'content-encoding': 'gzip' });
    expect(reply.status).toBe(400);
    expect([exporter.calls.length, exporter.held]).toEqual([0, 0]);
  });

  it('rounds Retry-After up to whole seconds, at least 1', async () => {
    exporter.outcome = new OtlpError('overloaded', 'admission limit reached', 1500);
    expect((await post('/v1/traces', 'application/json', '{}')).headers['retry-after']).toBe('2');
    exporter.outcome = new OtlpError('overloaded', 'admission limit reached', 10);
    const reply = await post('/v1/traces', 'application/json', '{}');
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(json(reply)['code']).toBe(14);
  });

  it('answers 400 without Retry-After when the database rejected the data', async () => {
    exporter.outcome = new OtlpError('data_rejected', 'invalid byte sequence');
    const reply = await post('/v1/traces', 'application/json', '{}');
    expect(reply.status).toBe(400);
    expect(reply.headers['retry-after']).toBeUndefined();
    expect(json(reply)).toMatchObject({ code: 3, message: 'invalid byte sequence' });
  });

  it('answers 500 for an unexpected exception and keeps serving', async () => {
    exporter.outcome = new TypeError('undefined is not a function');
    const reply = await post('/v1/traces', 'application/json', '{}', { 'accept-encoding': 'gzip' });
    expect(reply.status).toBe(500);
    expect(JSON.parse(zlib.gunzipSync(reply.body).toString('utf8'))).toMatchObject({ code: 13 });
    exporter.outcome = { rejected: 0, message: '' };
    expect((await post('/v1/traces', 'application/json', '{}')).status).toBe(200);
  });
});

describe('HTTP receiver: shutdown', () => {
  it('lets an in-flight request finish, then stops accepting', async () => {
    const own = new FakeExporter();
    let open!: () => void;
    own.gate = new Promise((resolve) => (open = resolve));
    const r = await startHttpReceiver({ host: '127.0.0.1', port: 0, maxRequestBytes: LIMIT, exporter: own, logger: pino({ level: 'silent' }) });
    const inFlight = callAt(r, '{}');
    await until(() => own.calls.length === 1, 'the request handed to the exporter');
    const stopped = r.shutdown(5000);
    // New connections are refused at once, while the request in flight still waits for its answer.
    await expect(callAt(r, '{}')).rejects.toThrow(/ECONNREFUSED/);
    open();
    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.headers['connection']).toBe('close');
    await stopped;
    await expect(callAt(r, '{}')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('cuts what is still in flight at the deadline', async () => {
    const own = new FakeExporter();
    own.gate = new Promise(() => {});
    const r = await startHttpReceiver({ host: '127.0.0.1', port: 0, maxRequestBytes: LIMIT, exporter: own, logger: pino({ level: 'silent' }) });
    const inFlight = callAt(r, '{}');
    await until(() => own.calls.length === 1, 'the request handed to the exporter');
    // Resolves although the exporter never answers (the test would time out otherwise); the test above
    // shows a request answered before the deadline is not cut.
    await r.shutdown(100);
    await expect(inFlight).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});

function callAt(r: Receiver, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: r.host, port: r.port, path: '/v1/traces', method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject).end(body);
  });
}

/** `bytes` of zeros, gzipped as a stream (the bomb is ~1000× smaller than what it inflates to). */
async function gzipZeros(bytes: number): Promise<Buffer> {
  const gz = zlib.createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (chunk: Buffer) => out.push(chunk));
  const zeros = Buffer.alloc(1 << 20);
  for (let written = 0; written < bytes; written += zeros.length) {
    if (!gz.write(zeros)) await once(gz, 'drain');
  }
  gz.end();
  await once(gz, 'end');
  return Buffer.concat(out);
}
