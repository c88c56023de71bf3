// Acceptance (issue 5, retry after a lost answer): the same request sent again after its first
// commit leaves its rows once under the default configuration; with --dedupe false, twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, summariesFolded } from '../helpers/database.js';
import { sendOnce, spanRequest, succeeded, type Transport } from '../helpers/sender.js';
import { startTestServer } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dedupe: RunningServer;
let plain: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase();
  dedupe = await startTestServer(db.url);
  plain = await startTestServer(db.url, { dedupe: 'false' });
});

afterAll(async () => {
  await dedupe?.shutdown();
  await plain?.shutdown();
  await db?.drop();
});

const ports = (s: RunningServer) => ({ grpc: s.grpc.port, http: s.http.port });

async function copies(spanIds: string[]): Promise<number> {
  const [row] = await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM trace_spans WHERE encode(span_id, 'hex') = ANY($1)`, [spanIds]);
  return Number(row?.n);
}

async function traceSpanCount(spanIds: string[]): Promise<number> {
  await summariesFolded(db.url);
  const [row] = await query<{ n: number }>(
    db.url,
    `SELECT t.span_count AS n FROM traces t WHERE t.trace_id = (SELECT trace_id FROM trace_spans WHERE encode(span_id, 'hex') = $1 LIMIT 1)`,
    [spanIds[0]],
  );
  return Number(row?.n);
}

describe.each<Transport>(['http/json', 'http/protobuf', 'grpc'])('a retried request over %s', (transport) => {
  it('is stored once by default, and its trace counts its spans once', async () => {
    const req = spanRequest(4);
    expect(succeeded(await sendOnce(transport, ports(dedupe), req.body))).toBe(true);
    // The retry of a client that never saw the first answer: the very same request.
    expect(succeeded(await sendOnce(transport, ports(dedupe), req.body))).toBe(true);
    expect(await copies(req.spanIds)).toBe(4);
    expect(await traceSpanCount(req.spanIds)).toBe(4);
  });

  it('is stored twice with --dedupe false', async () => {
    const req = spanRequest(4);
    expect(succeeded(await sendOnce(transport, ports(plain), req.body))).toBe(true);
    expect(succeeded(await sendOnce(transport, ports(plain), req.body))).toBe(true);
    expect(await copies(req.spanIds)).toBe(8);
  });
});

describe('the same request twice at the same moment', () => {
  it('is stored once', async () => {
    const req = spanRequest(3);
    const answers = await Promise.all([sendOnce('http/json', ports(dedupe), req.body), sendOnce('http/json', ports(dedupe), req.body)]);
    expect(answers.every(succeeded)).toBe(true);
    expect(await copies(req.spanIds)).toBe(3);
  });
});
