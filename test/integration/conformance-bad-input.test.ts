// Acceptance (issue 4, bad input): every kind of bad or extreme input gets a defined answer — status
// and body — and the server keeps serving: after each case, a good request is stored.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { grpcExport, httpPost, jsonToProtobuf, type GrpcAnswer, type HttpAnswer } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';
import { decodeWire } from '../helpers/wire.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;
const LIMIT = 16 * 1024 * 1024;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { 'max-request-bytes': String(LIMIT) });
});

afterAll(async () => {
  await server?.shutdown();
  await db?.drop();
});

const JSON_TYPE = { 'Content-Type': 'application/json' };
const PROTO_TYPE = { 'Content-Type': 'application/x-protobuf' };
const NOW = BigInt(Date.now()) * 1_000_000n;

interface SpanSpec {
  name?: string;
  traceId?: string;
  spanId?: string;
  start?: string;
  end?: string;
  kind?: number;
  status?: unknown;
  attributes?: unknown[];
}

function spans(list: SpanSpec[], service = 'conformance'): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: list.map((s) => ({
              traceId: s.traceId ?? randomBytes(16).toString('hex'),
              spanId: s.spanId ?? randomBytes(8).toString('hex'),
              name: s.name ?? 'op',
              kind: s.kind ?? 1,
              startTimeUnixNano: s.start ?? NOW.toString(),
              endTimeUnixNano: s.end ?? (NOW + 1000n).toString(),
              attributes: s.attributes ?? [],
              ...(s.status ? { status: s.status } : {}),
            })),
          },
        ],
      },
    ],
  };
}

const ZIP_BOMB = gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });

const post = (body: Uint8Array | string, headers: Record<string, string> = JSON_TYPE, path = '/v1/traces'): Promise<HttpAnswer> =>
  httpPost(server.http.port, path, body, headers);
const json = (a: HttpAnswer): Record<string, unknown> => JSON.parse(a.body.toString()) as Record<string, unknown>;

async function nextGoodRequestIsStored(): Promise<void> {
  const name = `good-${randomBytes(4).toString('hex')}`;
  const res = await post(JSON.stringify(spans([{ name }])));
  expect(res.status).toBe(200);
  expect(await query(db.url, 'SELECT 1 FROM trace_spans WHERE name = $1', [name])).toHaveLength(1);
}

/** A trace request whose one span has a kvlist attribute nested `depth` levels deep, as JSON text. */
function deepJson(depth: number): string {
  const open = '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth);
  const close = '}]}}'.repeat(depth);
  const span = `{"traceId":"${randomBytes(16).toString('hex')}","spanId":"${randomBytes(8).toString('hex')}","name":"deep",` +
    `"attributes":[{"key":"deep","value":${open}{"stringValue":"bottom"}${close}}]}`;
  return `{"resourceSpans":[{"scopeSpans":[{"spans":[${span}]}]}]}`;
}

/** The same as protobuf, written field by field (encoders refuse to nest this deep themselves). */
function deepProtobuf(depth: number): Buffer {
  const field = (no: number, bytes: Uint8Array): Buffer => {
    const tag = Buffer.from([(no << 3) | 2]);
    const len: number[] = [];
    let n = bytes.length;
    do {
      len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n > 0);
    return Buffer.concat([tag, Buffer.from(len), bytes]);
  };
  let value = field(1, Buffer.from('bottom')); // AnyValue.string_value
  for (let i = 0; i < depth; i++) {
    const kv = Buffer.concat([field(1, Buffer.from('k')), field(2, value)]); // KeyValue
    value = field(6, field(1, kv)); // AnyValue.kvlist_value { values }
  }
  const span = Buffer.concat([field(1, randomBytes(16)), field(2, randomBytes(8)), field(5, Buffer.from('deep')), field(9, Buffer.concat([field(1, Buffer.from('deep')), field(2, value)]))]);
  return field(1, field(2, field(2, span)));
}

async function stored(name: string): Promise<Record<string, unknown>[]> {
  return query(db.url, 'SELECT kind, status_code, duration_ns, start_time_unix_nano, attributes::text AS attributes FROM trace_spans WHERE name = $1', [name]);
}

describe('bad input: permanent errors with a google.rpc.Status body, and the server keeps serving', () => {
  it.each<[string, () => Promise<HttpAnswer>, number, RegExp]>([
    ['truncated protobuf', async () => post(jsonToProtobuf('traces', spans([{}])).subarray(0, 20), PROTO_TYPE), 400, /protobuf/i],
    ['garbage protobuf', async () => post(randomBytes(512), PROTO_TYPE), 400, /protobuf/i],
    ['a known field with the wrong wire type', async () => post(Buffer.from([0x08, 0x01]), PROTO_TYPE), 400, /wire type/i],
    ['malformed JSON', async () => post('{"resourceSpans": [', JSON_TYPE), 400, /JSON/],
    ['wrongly typed JSON', async () => post('{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 42}]}]}]}', JSON_TYPE), 400, /spans\[0\]\.name/],
    ['a span id that is not hex', async () => post(JSON.stringify(spans([{ spanId: 'zzzzzzzzzzzzzzzz' }])), JSON_TYPE), 400, /spanId/],
    ['a kvlist nested 5000 deep (JSON)', async () => post(deepJson(5000), JSON_TYPE), 400, /deeper than 64/],
    ['a kvlist nested 5000 deep (protobuf)', async () => post(deepProtobuf(5000), PROTO_TYPE), 400, /deep|nest/i],
    ['corrupt gzip', async () => post(Buffer.from('1f8b0800000000000003deadbeef', 'hex'), { ...JSON_TYPE, 'Content-Encoding': 'gzip' }), 400, /gzip|decompress|compress/i],
    ['a zip bomb (256 MiB of zeros in 256 KiB)', async () => post(ZIP_BOMB, { ...JSON_TYPE, 'Content-Encoding': 'gzip' }), 413, /limit|large/i],
    ['a body over the limit', async () => post(Buffer.alloc(LIMIT + 1, 0x20), JSON_TYPE), 413, /limit|large/i],
    ['an unknown content type', async () => post('x', { 'Content-Type': 'text/plain' }), 415, /Content-Type/],
    ['an unknown content encoding', async () => post('x', { ...JSON_TYPE, 'Content-Encoding': 'br' }), 415, /Content-Encoding/],
  ])('%s', async (_name, send, status, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    // The google.rpc.Status in the request's encoding: JSON, or protobuf decoded here.
    const body = res.headers.get('content-type')?.includes('protobuf') ? decodeWire('Status', res.body) : json(res);
    expect(body.code).toBe(status === 413 ? 8 : 3);
    expect(String(body.message)).toMatch(message);
    expect(body.details ?? []).toEqual([]); // permanent: no RetryInfo
    await nextGoodRequestIsStored();
  });

  it('GET on an OTLP path: 405 with Allow: POST; an unknown path: 404', async () => {
    const get = await fetch(`http://127.0.0.1:${server.http.port}/v1/traces`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post('{}', JSON_TYPE, '/v1/nothing')).status).toBe(404);
    await nextGoodRequestIsStored();
  });

  it('gRPC: garbage is INVALID_ARGUMENT, oversize RESOURCE_EXHAUSTED without RetryInfo', async () => {
    const garbage: GrpcAnswer = await grpcExport(server.grpc.port, 'traces', randomBytes(256));
    expect(garbage.code).toBe(3);
    const big = await grpcExport(server.grpc.port, 'traces', Buffer.alloc(LIMIT + 10, 0), { 'grpc.max_send_message_length': 64 << 20 });
    expect(big.code).toBe(8);
    expect(big.metadata?.get('grpc-status-details-bin') ?? []).toEqual([]);
    await nextGoodRequestIsStored();
  });
});

describe('extreme but valid input: stored, answered 200', () => {
  it('an empty request, and a request of empty lists', async () => {
    expect(json(await post('{}'))).toEqual({});
    expect(json(await post('{"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]}'))).toEqual({});
    expect((await post(Buffer.alloc(0), PROTO_TYPE)).status).toBe(200);
  });

  it('an attribute value of 5 MB', async () => {
    const res = await post(JSON.stringify(spans([{ name: 'big-attr', attributes: [{ key: 'blob', value: { stringValue: 'y'.repeat(5_000_000) } }] }])));
    expect(res.status).toBe(200);
    const [row] = await query<{ n: number }>(db.url, `SELECT length(attributes->>'blob') AS n FROM trace_spans WHERE name = 'big-attr'`);
    expect(row?.n).toBe(5_000_000);
  });

  it('100,000 spans in one request', async () => {
    const list = Array.from({ length: 100_000 }, () => ({ name: 'bulk' }));
    const res = await post(jsonToProtobuf('traces', spans(list, 'bulk')), PROTO_TYPE);
    expect(res.status).toBe(200);
    const [row] = await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM trace_spans WHERE service_name = 'bulk'`);
    expect(row?.n).toBe('100000');
  });

  it('duplicate attribute keys: the last value is kept', async () => {
    const attributes = [
      { key: 'dup', value: { stringValue: 'first' } },
      { key: 'dup', value: { intValue: '2' } },
    ];
    expect((await post(JSON.stringify(spans([{ name: 'dup-keys', attributes }])))).status).toBe(200);
    expect(await stored('dup-keys')).toEqual([expect.objectContaining({ attributes: '{"dup": 2}' })]);
  });

  it('timestamps of 0, of the year 2200, and an end before the start', async () => {
    const y2200 = '7258118400000000000';
    const res = await post(
      JSON.stringify(
        spans([
          { name: 'ts-zero', start: '0', end: '0' },
          { name: 'ts-2200', start: y2200, end: y2200 },
          { name: 'ts-backwards', start: (NOW + 5000n).toString(), end: NOW.toString() },
        ]),
      ),
    );
    expect(json(res)).toEqual({});
    expect(await stored('ts-zero')).toEqual([expect.objectContaining({ start_time_unix_nano: '0', duration_ns: '0' })]);
    expect(await stored('ts-2200')).toEqual([expect.objectContaining({ start_time_unix_nano: y2200 })]);
    expect(await stored('ts-backwards')).toEqual([expect.objectContaining({ duration_ns: '-5000' })]);
  });

  it('unknown enum values are kept as sent', async () => {
    expect((await post(JSON.stringify(spans([{ name: 'enum-unknown', kind: 99, status: { code: 7 } }])))).status).toBe(200);
    expect(await stored('enum-unknown')).toEqual([expect.objectContaining({ kind: 99, status_code: 7 })]);
  });

  it('U+0000 is stored as U+FFFD, and the answer says so', async () => {
    const res = await post(JSON.stringify(spans([{ name: 'nul\u0000name' }])));
    expect(json(res)).toEqual({
      partialSuccess: { errorMessage: expect.stringContaining('1 string(s) held U+0000 or unpaired UTF-16 surrogates') },
    });
    expect(await stored('nul\uFFFDname')).toHaveLength(1);
  });
});

describe('items that cannot be stored are refused alone (partial success)', () => {
  it('a span with a missing, all-zero or wrong-length id, next to good ones', async () => {
    const res = await post(
      JSON.stringify(
        spans([
          { name: 'partial-good' },
          { name: 'partial-bad', traceId: '' },
          { name: 'partial-bad', traceId: '00000000000000000000000000000000' },
          { name: 'partial-bad', spanId: '0102' },
          { name: 'partial-good' },
        ]),
      ),
    );
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({
      partialSuccess: {
        rejectedSpans: 3,
        errorMessage: 'rejected 3 of 5 spans: trace_id must be 16 bytes and not all zero (2); span_id must be 8 bytes and not all zero (1)',
      },
    });
    expect(await stored('partial-good')).toHaveLength(2);
    expect(await stored('partial-bad')).toHaveLength(0);

    const grpc = await grpcExport(
      server.grpc.port,
      'traces',
      jsonToProtobuf('traces', spans([{ name: 'partial-grpc' }, { name: 'partial-grpc-bad', traceId: '' }])),
    );
    expect(grpc.code).toBe(0);
    expect(decodeWire('ExportTraceServiceResponse', grpc.response ?? Buffer.alloc(0))).toEqual({
      partial_success: { rejected_spans: 1, error_message: 'rejected 1 of 2 spans: trace_id must be 16 bytes and not all zero (1)' },
    });
  });
});
