// otlp-pg loadgen against a running otlp-pg: what it reports acknowledged is what the database
// holds, per signal, over gRPC and HTTP (gzip), called as a function and as the CLI.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signal } from '../../src/decode/types.js';
import { defaultLoadgenOptions } from '../../src/loadgen/options.js';
import { runLoad } from '../../src/loadgen/run.js';
import type { LoadSummary } from '../../src/loadgen/summary.js';
import { packageRoot } from '../../src/package-root.js';
import type { RunningServer } from '../../src/server.js';
import { createTestDatabase, query, summariesFolded } from '../helpers/database.js';
import { startTestServer } from '../helpers/server.js';

const TABLES: Record<Signal, string> = { traces: 'trace_spans', logs: 'logs', metrics: 'metric_data_points' };

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

async function stored(): Promise<Record<Signal, number>> {
  const [row] = await query<Record<Signal, string>>(
    db.url,
    `SELECT (SELECT count(*) FROM trace_spans) AS traces, (SELECT count(*) FROM logs) AS logs,
            (SELECT count(*) FROM metric_data_points) AS metrics`,
  );
  return { traces: Number(row?.traces), logs: Number(row?.logs), metrics: Number(row?.metrics) };
}

function expectStoredAsAcked(summary: LoadSummary, before: Record<Signal, number>, after: Record<Signal, number>): void {
  for (const signal of Object.keys(TABLES) as Signal[]) {
    const acked = summary.signals[signal]?.ackedItems ?? 0;
    expect({ signal, stored: after[signal] - before[signal] }).toEqual({ signal, stored: acked });
  }
}

describe('otlp-pg loadgen', () => {
  it('over gRPC, for a few seconds: every acknowledged item is stored, once, and nothing refused', async () => {
    const before = await stored();
    const summary = await runLoad(
      defaultLoadgenOptions({ endpoint: `127.0.0.1:${server.grpc.port}`, durationMs: 2000, concurrency: 16, spansPerRequest: 50, logsPerRequest: 50, pointsPerRequest: 40 }),
    );
    // Flat out, the server may shed some requests (retryable, before reading them): none of those is stored.
    expectStoredAsAcked(summary, before, await stored());
    expect(summary.refusals.filter((r) => r.reason !== 'UNAVAILABLE')).toEqual([]);
    expect(summary.total.ackedItems).toBeGreaterThan(0);
    expect(Object.keys(summary.signals).sort()).toEqual(['logs', 'metrics', 'traces']);
    // Every send carries fresh trace ids: no trace got the spans of two requests.
    await summariesFolded(db.url);
    const [dup] = await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM traces WHERE span_count > 10');
    expect(Number(dup?.n)).toBe(0);
  });

  it('over HTTP/protobuf with gzip, at a target rate', async () => {
    const before = await stored();
    const summary = await runLoad(
      defaultLoadgenOptions({
        protocol: 'http/protobuf',
        endpoint: `http://127.0.0.1:${server.http.port}`,
        gzip: true,
        weights: { traces: 2, logs: 1 },
        rate: 3000,
        durationMs: 1500,
        concurrency: 8,
      }),
    );
    expectStoredAsAcked(summary, before, await stored());
    expect(summary.total.refusedRequests).toBe(0);
    expect(summary.signals.metrics).toBeUndefined();
  });

  it('as the CLI, with --requests and --json', async () => {
    const before = await stored();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/index.ts', 'loadgen', '--endpoint', `127.0.0.1:${server.grpc.port}`, '--requests', '6', '--duration', '0', '--json', '--quiet'],
      { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const summary = JSON.parse(out) as LoadSummary;
    expect(summary.total.requests).toBe(6);
    expect(summary.total.ackedItems).toBe(600);
    expectStoredAsAcked(summary, before, await stored());
  });

  it('says so when nothing answers, with exit code 1', async () => {
    const summary = await runLoad(defaultLoadgenOptions({ endpoint: '127.0.0.1:1', requests: 3, durationMs: 0, timeoutMs: 2000 }));
    expect(summary.total.ackedRequests).toBe(0);
    expect(summary.total.refusedRequests).toBe(3);
    expect(summary.refusals[0]?.reason).toBe('UNAVAILABLE');
  });
});
