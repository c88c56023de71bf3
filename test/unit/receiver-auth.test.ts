// Bearer-token authentication: the check itself (pure), then both receivers over real sockets with a fake
// exporter standing in for the pipeline, and what they log (a token must never show up, at any level).

import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Signal, SignalRequests } from '../../src/decode/types.js';
import type { Reason } from '../../src/errors.js';
import type { Admitted, ExportResult, Exporter } from '../../src/pipeline/types.js';
import { bearerAuthenticator, bearerToken, cleartextTokenWarning } from '../../src/receiver/auth.js';
import { startGrpcReceiver } from '../../src/receiver/grpc.js';
import { startHttpReceiver } from '../../src/receiver/http.js';
import type { Receiver } from '../../src/receiver/types.js';

const TOKENS = ['sekret-alpha-0123456789', 'sekret-beta'];
const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

class FakeExporter implements Exporter {
  calls: Signal[] = [];
  admit<S extends Signal>(signal: S): Admitted<S> {
    return {
      export: async (body: Uint8Array, decode: (body: Uint8Array) => SignalRequests[S]): Promise<ExportResult> => {
        decode(body);
        this.calls.push(signal);
        return { rejected: 0, message: '' };
      },
      cancel: () => undefined,
    };
  }
}

// google.rpc.Status written out here rather than loaded from proto/, so the test does not share a mistake with it.
const wire = protobuf.Root.fromJSON({
  nested: { Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } } },
});
const decodeStatus = (bytes: Uint8Array): Record<string, unknown> =>
  wire.lookupType('Status').toObject(wire.lookupType('Status').decode(bytes), { defaults: true });

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['  Bearer    abc  ', 'abc'],
    ['Bearer a b', 'a b'],
  ])('reads %j as %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each(['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearerabc', 'abc', ''])('finds no bearer token in %j', (header) => {
    expect(bearerToken(header)).toBeUndefined();
  });

  it('stays linear on a long run of spaces (no backtracking on client-controlled input)', () => {
    // A backtracking pattern would take on the order of 10^12 steps here, far past the test's
    // timeout; a linear one takes milliseconds. No clock is read.
    const header = `Bearer x${' '.repeat(1_000_000)}y`;
    expect(bearerToken(header)).toBe(`x${' '.repeat(1_000_000)}y`);
  });
});

describe('bearerAuthenticator', () => {
  const authenticate = bearerAuthenticator(TOKENS);

  it('is off without tokens', () => {
    expect(bearerAuthenticator([])).toBeUndefined();
  });

  it('accepts any one of the configured tokens', () => {
    expect(authenticate?.('Bearer sekret-alpha-0123456789')).toBeUndefined();
    expect(authenticate?.('bearer sekret-beta')).toBeUndefined();
  });

  it.each([
    [undefined, /missing credentials/],
    ['', /missing credentials/],
    ['Basic c2VrcmV0LWJldGE=', /unsupported authorization scheme/],
    ['Bearer sekret-bet', /invalid bearer token/],
    ['Bearer sekret-beta-and-more', /invalid bearer token/],
    ['Bearer SEKRET-BETA', /invalid bearer token/],
    ['Bearer sekret-alpha-0123456789,sekret-beta', /invalid bearer token/],
  ])('refuses %j as unauthenticated', (header, message) => {
    const refused = authenticate?.(header);
    expect(refused?.kind).toBe('unauthenticated');
    expect(refused?.message).toMatch(message);
  });

  it('never echoes the presented token', () => {
    expect(authenticate?.('Bearer sekret-guess')?.message).not.toContain('sekret');
  });
});

describe('cleartextTokenWarning', () => {
  it('warns when tokens would cross the network in plain text', () => {
    expect(cleartextTokenWarning({ host: '0.0.0.0', authTokens: ['t'] })).toMatch(/plain text on 0\.0\.0\.0/);
  });

  it.each([
    { host: '127.0.0.1', authTokens: ['t'] },
    { host: '::1', authTokens: ['t'] },
    { host: '0.0.0.0', authTokens: ['t'], tls: { certFile: 'c', keyFile: 'k' } },
    { host: '0.0.0.0', authTokens: [] },
  ])('is quiet for %j', (options) => {
    expect(cleartextTokenWarning(options)).toBeUndefined();
  });
});

/** Every log line both receivers write, at the most verbose level. */
const logLines: string[] = [];
const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
const answers: [Signal, 'success' | Reason][] = [];
const exporter = new FakeExporter();
let httpReceiver: Receiver;
let grpcReceiver: Receiver;

beforeAll(async () => {
  const options = {
    host: '127.0.0.1',
    port: 0,
    maxRequestBytes: 1 << 20,
    exporter,
    logger,
    authTokens: TOKENS,
    onAnswer: (signal: Signal, outcome: 'success' | Reason) => void answers.push([signal, outcome]),
  };
  httpReceiver = await startHttpReceiver(options);
  grpcReceiver = await startGrpcReceiver(options);
});

afterAll(async () => {
  await httpReceiver.shutdown(1000);
  await grpcReceiver.shutdown(1000);
  // Last, so it covers every exchange above: no token, right or wrong, was ever logged.
  expect(logLines.join('\n')).not.toContain('sekret');
});

beforeEach(() => {
  exporter.calls = [];
  answers.length = 0;
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A POST of `body` to /v1/traces. With `unfinished`, the body is started but never completed, so only an
 * answer given before reading it can arrive.
 */
function post(headers: Record<string, string>, body: string, unfinished = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: httpReceiver.host, port: httpReceiver.port, path: '/v1/traces', method: 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          req.destroy();
        });
      },
    );
    req.on('error', reject);
    req.write(body);
    if (!unfinished) req.end();
  });
}

const JSON_BODY = JSON.stringify({ resourceSpans: [] });

describe('HTTP receiver with tokens', () => {
  it('exports a request carrying a configured token', async () => {
    const reply = await post({ 'content-type': 'application/json', authorization: 'Bearer sekret-beta' }, JSON_BODY);
    expect(reply.status).toBe(200);
    expect(exporter.calls).toEqual(['traces']);
    expect(answers).toEqual([['traces', 'success']]);
  });

  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer sekret-wrong' }],
    ['another scheme', { authorization: 'Basic c2VrcmV0LWJldGE=' }],
  ])('answers 401 with WWW-Authenticate and a google.rpc.Status (code 16) to %s', async (_, headers) => {
    const reply = await post({ 'content-type': 'application/json', ...headers }, JSON_BODY);
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer\b/);
    expect(reply.headers['content-type']).toBe('application/json');
    const status = JSON.parse(reply.body.toString('utf8')) as { code: number; message: string };
    expect(status.code).toBe(16);
    expect(status.message).not.toContain('sekret');
    expect(exporter.calls).toEqual([]);
    expect(answers).toEqual([['traces', 'unauthenticated']]);
  });

  it('answers a protobuf request with a protobuf google.rpc.Status', async () => {
    const reply = await post({ 'content-type': 'application/x-protobuf' }, '');
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toBe('application/x-protobuf');
    expect(decodeStatus(reply.body)).toMatchObject({ code: 16, message: expect.stringMatching(/missing credentials/) });
  });

  it('refuses before reading the body: the answer comes while the body is still unfinished', async () => {
    const reply = await post({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, '{"resourceSpans":', true);
    expect(reply.status).toBe(401);
    expect(exporter.calls).toEqual([]);
  });

  it('refuses before routing, so an unauthenticated client cannot probe for paths', async () => {
    const reply = await new Promise<number>((resolve, reject) => {
      http
        .request({ host: httpReceiver.host, port: httpReceiver.port, path: '/secret-path', method: 'POST', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject)
        .end();
    });
    expect(reply).toBe(401);
  });

  it('keeps /healthz open for probes', async () => {
    const res = await fetch(`http://${httpReceiver.host}:${httpReceiver.port}/healthz`);
    expect(res.status).toBe(200);
  });

  it('logs the refusal with the peer address', async () => {
    logLines.length = 0;
    await post({ 'content-type': 'application/json', authorization: 'Bearer sekret-wrong' }, JSON_BODY);
    const refusal = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry['kind'] === 'unauthenticated');
    expect(refusal).toMatchObject({ level: 40, receiver: 'http', peer: '127.0.0.1', status: 401, msg: 'invalid bearer token' });
  });
});

interface Answer {
  err: grpc.ServiceError | null;
}

function exportTraces(metadata: grpc.Metadata): Promise<Answer> {
  const client = new grpc.Client(`127.0.0.1:${grpcReceiver.port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(TRACES, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), metadata, (err) => {
      client.close();
      resolve({ err });
    });
  });
}

const withAuthorization = (value?: string): grpc.Metadata => {
  const metadata = new grpc.Metadata();
  if (value !== undefined) metadata.set('authorization', value);
  return metadata;
};

describe('gRPC receiver with tokens', () => {
  it('exports a call whose metadata carries a configured token', async () => {
    const { err } = await exportTraces(withAuthorization('Bearer sekret-alpha-0123456789'));
    expect(err).toBeNull();
    expect(exporter.calls).toEqual(['traces']);
    expect(answers).toEqual([['traces', 'success']]);
  });

  it.each([
    ['no authorization metadata', undefined],
    ['a wrong token', 'Bearer sekret-wrong'],
    ['another scheme', 'Basic c2VrcmV0LWJldGE='],
  ])('answers UNAUTHENTICATED to %s, before decoding', async (_, value) => {
    const { err } = await exportTraces(withAuthorization(value));
    expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err?.details).not.toContain('sekret');
    expect(exporter.calls).toEqual([]);
    expect(answers).toEqual([['traces', 'unauthenticated']]);
  });

  it('logs the refusal with the peer address', async () => {
    logLines.length = 0;
    await exportTraces(withAuthorization('Bearer sekret-wrong'));
    const refusal = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry['kind'] === 'unauthenticated');
    expect(refusal).toMatchObject({ level: 40, receiver: 'grpc', code: 16, msg: 'invalid bearer token' });
    expect(refusal?.['peer']).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
