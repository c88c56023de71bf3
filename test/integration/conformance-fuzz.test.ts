// Acceptance (issue 4, fuzz): mutated valid payloads — both encodings, all three signals, a bounded
// number of iterations from a fixed seed — each get a valid OTLP answer (success, partial success, or
// a permanent error with a google.rpc.Status), never a 5xx or a hang, and the server stays up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signal } from '../../src/decode/types.js';
import { packageRoot } from '../../src/package-root.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { grpcExport, httpPost, jsonToProtobuf } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
});

afterAll(async () => {
  await server?.shutdown();
  await db?.drop();
});

/** mulberry32: a small seeded PRNG, so a failure replays exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Longer or other runs: OTLP_PG_FUZZ_SEED=7 OTLP_PG_FUZZ_ITERATIONS=20000 npx vitest run test/integration/conformance-fuzz.test.ts
const SEED = Number(process.env.OTLP_PG_FUZZ_SEED ?? 20261125);
const ITERATIONS = Number(process.env.OTLP_PG_FUZZ_ITERATIONS ?? 400);

const examples: [Signal, string][] = [
  ['traces', 'trace.json'],
  ['logs', 'logs.json'],
  ['logs', 'events.json'],
  ['metrics', 'metrics.json'],
];
const seeds = examples.map(([signal, file]) => {
  const text = readFileSync(path.join(packageRoot, 'test/fixtures/otlp-examples', file), 'utf8');
  return { signal, text, proto: jsonToProtobuf(signal, JSON.parse(text)) };
});

const JSON_TOKENS = ['"', '{', '}', '[', ']', ',', ':', '-1', '1e999', '"NaN"', 'null', 'true', '18446744073709551616', '"\\u0000"', '"\\ud800"', '0.5'];

function mutateBytes(input: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(input);
  const kind = Math.floor(rand() * 4);
  if (kind === 0) {
    for (let i = 0; i < 1 + Math.floor(rand() * 4); i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
    return out;
  }
  if (kind === 1) return out.subarray(0, Math.floor(rand() * out.length));
  const at = Math.floor(rand() * out.length);
  if (kind === 2) return Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * 256))), out.subarray(at)]);
  const len = Math.floor(rand() * 32);
  return Buffer.concat([out.subarray(0, at), out.subarray(at, at + len), out.subarray(at)]); // a repeated slice
}

function mutateText(input: string, rand: () => number): string {
  const at = Math.floor(rand() * input.length);
  const kind = Math.floor(rand() * 3);
  if (kind === 0) return input.slice(0, at) + input.slice(at + 1 + Math.floor(rand() * 5));
  const token = JSON_TOKENS[Math.floor(rand() * JSON_TOKENS.length)] as string;
  if (kind === 1) return input.slice(0, at) + token + input.slice(at);
  // Replace a value after a colon: types change while the structure stays mostly valid.
  const colon = input.indexOf(':', at);
  if (colon < 0) return input;
  const end = input.slice(colon + 1).search(/[,}\]]/);
  return end < 0 ? input : input.slice(0, colon + 1) + token + input.slice(colon + 1 + end);
}

function isStatusBody(body: Buffer, type: string | null): boolean {
  if (!type?.includes('json')) return body.length > 0; // a protobuf google.rpc.Status
  const parsed = JSON.parse(body.toString()) as { code?: unknown; message?: unknown };
  return typeof parsed.code === 'number' && typeof parsed.message === 'string';
}

describe('fuzzed requests', () => {
  it(`${ITERATIONS} mutations of valid payloads each get a valid OTLP answer, and the server stays up`, async () => {
    const rand = prng(SEED);
    const seen = new Map<string, number>();
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = seeds[i % seeds.length] as (typeof seeds)[number];
      const how = i % 3; // JSON over HTTP, protobuf over HTTP, protobuf over gRPC
      let outcome: string;
      if (how === 2) {
        const res = await grpcExport(server.grpc.port, seed.signal, mutateBytes(seed.proto, rand));
        expect([0, 3], `iteration ${i}: gRPC ${res.code} ${res.details}`).toContain(res.code);
        outcome = `grpc ${res.code}`;
      } else {
        const json = how === 0;
        const body = json ? mutateText(seed.text, rand) : mutateBytes(seed.proto, rand);
        const res = await httpPost(server.http.port, `/v1/${seed.signal}`, body, {
          'Content-Type': json ? 'application/json' : 'application/x-protobuf',
        });
        expect([200, 400], `iteration ${i}: HTTP ${res.status} ${res.body.toString().slice(0, 200)}`).toContain(res.status);
        if (res.status === 200 && json) expect(JSON.parse(res.body.toString())).toBeTypeOf('object');
        if (res.status !== 200) expect(isStatusBody(res.body, res.headers.get('content-type'))).toBe(true);
        outcome = `http ${res.status}`;
      }
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    }
    // The mutations reach both sides: some still decode and are stored, some are refused.
    expect(seen.get('http 200')).toBeGreaterThan(0);
    expect(seen.get('http 400')).toBeGreaterThan(0);

    const good = await httpPost(server.http.port, '/v1/traces', seeds[0]?.text.replace('EEE19B7EC3C1B174', 'EEE19B7EC3C1B999') ?? '', { 'Content-Type': 'application/json' });
    expect(good.status).toBe(200);
    expect(await query(db.url, `SELECT 1 FROM trace_spans WHERE span_id = decode('eee19b7ec3c1b999', 'hex')`)).toHaveLength(1);
  }, 600_000);
});
