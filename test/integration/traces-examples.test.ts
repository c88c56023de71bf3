// Acceptance: the upstream OTLP/JSON trace example, posted as curl would post it, answers 200 {}
// and is stored; the same request as protobuf and gzip-compressed too.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-root.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query } from '../helpers/database.js';
import { httpPost, jsonToProtobuf } from '../helpers/otlp.js';
import { startTestServer } from '../helpers/server.js';

const exampleText = readFileSync(path.join(packageRoot, 'test/fixtures/otlp-examples/trace.json'), 'utf8');
const example = JSON.parse(exampleText);
// The example's ids are upper-case hex: 5B8EFFF798038103D269B633813FC60C / EEE19B7EC3C1B174.
const SPAN_ID = 'eee19b7ec3c1b174';
/** The example with another span id: the same request sent again would be a retry, stored once (--dedupe). */
const variant = (spanId: string): string => exampleText.replace('EEE19B7EC3C1B174', spanId.toUpperCase());

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

async function storedCopies(spanId = SPAN_ID): Promise<number> {
  const rows = await query(db.url, `SELECT 1 FROM trace_spans WHERE span_id = decode($1, 'hex')`, [spanId]);
  return rows.length;
}

describe('the upstream trace example', () => {
  it('as JSON: 200 {} and stored, upper-case hex ids accepted', async () => {
    const res = await httpPost(server.http.port, '/v1/traces', exampleText, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(res.body.toString())).toEqual({});
    expect(await storedCopies()).toBe(1);

    const [row] = await query<Record<string, unknown>>(
      db.url,
      `SELECT encode(trace_id, 'hex') AS trace_id, encode(parent_span_id, 'hex') AS parent, name, kind,
              start_time_unix_nano, end_time_unix_nano, attributes, service_name
         FROM trace_spans WHERE span_id = decode($1, 'hex')`,
      [SPAN_ID],
    );
    expect(row).toEqual({
      trace_id: '5b8efff798038103d269b633813fc60c',
      parent: 'eee19b7ec3c1b173',
      name: 'I\'m a server span',
      kind: 2,
      start_time_unix_nano: '1544712660000000000',
      end_time_unix_nano: '1544712661000000000',
      attributes: { 'my.span.attr': 'some value' },
      service_name: 'my.service',
    });
  });

  it('as protobuf: 200 with an empty ExportTraceServiceResponse', async () => {
    const res = await httpPost(server.http.port, '/v1/traces', jsonToProtobuf('traces', example), { 'Content-Type': 'application/x-protobuf' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(res.body.length).toBe(0);
    expect(await storedCopies()).toBe(2);
  });

  it('gzip-compressed, in both encodings', async () => {
    const json = await httpPost(server.http.port, '/v1/traces', gzipSync(variant('00000000000000b1')), {
      'Content-Type': 'application/json',
      'Content-Encoding': 'gzip',
    });
    expect(json.status, json.body.toString()).toBe(200);
    expect(JSON.parse(json.body.toString())).toEqual({});
    const proto = await httpPost(server.http.port, '/v1/traces', gzipSync(jsonToProtobuf('traces', JSON.parse(variant('00000000000000b2')))), {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'gzip',
    });
    expect(proto.status).toBe(200);
    expect(await storedCopies('00000000000000b1')).toBe(1);
    expect(await storedCopies('00000000000000b2')).toBe(1);
  });

  it('sent again as it was (a retry), is answered 200 and not stored twice', async () => {
    const res = await httpPost(server.http.port, '/v1/traces', exampleText, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(200);
    expect(await storedCopies()).toBe(2); // once as JSON, once as protobuf: two different requests
  });
});
