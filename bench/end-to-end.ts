// One end-to-end scenario: a fresh database, otlp-pg serving it from a child process, the load
// generator (in this process) sending one signal over OTLP, and what was committed counted in the
// database. CPU comes from /proc for the server and PostgreSQL, process.cpuUsage for the loader.
// For traces, the measured window runs on until the trace summaries have caught up (bounded), so
// the folding that the acknowledgements no longer wait for is still counted in the cost.

import type { Signal } from '../src/decode/types.js';
import type { RequestShape } from '../src/loadgen/build-requests.js';
import { defaultLoadgenOptions, type LoadProtocol } from '../src/loadgen/options.js';
import { runLoad } from '../src/loadgen/run.js';
import type { LatencySummary, LoadSummary } from '../src/loadgen/summary.js';
import { countRows, freshDatabase, ROW_TABLE, type BenchServer } from './database.js';
import { delta, snapshot, treeMemory, type CpuDelta } from './proc.js';
import { startServerProcess } from './server-process.js';
import { watchBacklog, type SummaryBacklog } from './summary-backlog.js';

export interface EndToEndOptions {
  readonly server: BenchServer;
  readonly signal: Signal;
  readonly shape: RequestShape;
  /** otlp-pg flags, e.g. --batch-spans 5000 --writers 8. */
  readonly serverFlags: readonly string[];
  readonly protocol: LoadProtocol;
  readonly gzip?: boolean;
  readonly concurrency: number;
  /** gRPC connections: the server's --workers share connections, not requests. */
  readonly connections: number;
  /** Target items per second; 0 is flat out. */
  readonly rate: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Node flags for the server process (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
  /** Runs on the fresh database before otlp-pg starts on it (e.g. a PostgreSQL setting changed). */
  readonly prepare?: (databaseUrl: string) => Promise<void>;
  /** Runs on the database once otlp-pg has stopped, before it is dropped (e.g. its rows exported). */
  readonly afterRun?: (databaseUrl: string) => Promise<void>;
  /** Traces: how long to wait after the load for the summary backlog to empty (default 20 s). */
  readonly drainBoundMs?: number;
  /** A request refused as retryable is sent again after the server's hint, as SDKs do (default off). */
  readonly backoff?: boolean;
}

export interface EndToEndResult {
  readonly signal: Signal;
  readonly serverFlags: readonly string[];
  readonly protocol: string;
  readonly concurrency: number;
  readonly rate: number;
  /** Rows the measured run added to the signal's table (counted in the database). */
  readonly committed: number;
  /** Items the load generator saw acknowledged in the measured run. */
  readonly acked: number;
  /** Requests sent, each retry of a refused one counted again. */
  readonly sentRequests: number;
  readonly refusedRequests: number;
  readonly refusals: string;
  readonly elapsedSeconds: number;
  readonly rowsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /** At a rate: how late requests went out after they were due, and items never sent in time. */
  readonly sendDelayMs: LatencySummary;
  readonly behindItems: number;
  readonly cpu: CpuDelta;
  readonly serverUsPerItem: number;
  readonly postgresUsPerItem: number;
  /** Sum of the VmHWM of the server's processes (primary and --workers). */
  readonly peakRssBytes: number;
  /** VmHWM of the largest of them. */
  readonly largestPeakRssBytes: number;
  readonly serverProcesses: number;
  /** The measured run on the monotonic clock, in µs (what V8's CPU profiles time samples with). */
  readonly window: { readonly startUs: number; readonly endUs: number };
  readonly serverExitCode: number | null;
  /** Traces: the summary backlog and lag (undefined for other signals, or a schema without them). */
  readonly summaries: SummaryBacklog | undefined;
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

export async function endToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const db = await freshDatabase(options.server, `e2e_${options.signal}`, false);
  try {
    await options.prepare?.(db.url);
    const server = await startServerProcess({
      databaseUrl: db.url,
      flags: options.serverFlags,
      ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
    });
    let summary: LoadSummary;
    let committed: number;
    let cpu: CpuDelta;
    let peakRssBytes: number;
    let serverExitCode: number | null = null;
    let serverProcesses = 0;
    let largestPeakRssBytes = 0;
    let summaries: SummaryBacklog | undefined;
    const window = { startUs: 0, endUs: 0 };
    try {
      const load = defaultLoadgenOptions({
        ...options.shape,
        protocol: options.protocol,
        endpoint: options.protocol === 'grpc' ? `127.0.0.1:${server.grpcPort}` : `http://127.0.0.1:${server.httpPort}`,
        gzip: options.gzip ?? false,
        weights: { [options.signal]: 1 },
        concurrency: options.concurrency,
        connections: options.connections,
        rate: options.rate,
        backoff: options.backoff ?? false,
        quiet: true,
      });
      if (options.warmupMs > 0) await runLoad({ ...load, durationMs: options.warmupMs });
      const before = await countRows(db.url, ROW_TABLE[options.signal]);
      const backlog = options.signal === 'traces' ? await watchBacklog(db.url, server.metricsUrl) : undefined;
      const a = snapshot(server.pid, options.server.postmaster);
      window.startUs = monotonicUs();
      summary = await runLoad({ ...load, durationMs: options.durationMs });
      window.endUs = monotonicUs();
      summaries = await backlog?.finish(options.drainBoundMs ?? 20_000);
      const b = snapshot(server.pid, options.server.postmaster);
      committed = (await countRows(db.url, ROW_TABLE[options.signal])) - before;
      cpu = delta(a, b);
      const mem = treeMemory(server.pid);
      peakRssBytes = mem.peakRss;
      largestPeakRssBytes = mem.largestPeakRss;
      serverProcesses = mem.processes;
    } catch (err) {
      throw new Error(`${(err as Error).message}\notlp-pg output:\n${server.output()}`, { cause: err });
    } finally {
      serverExitCode = await server.stop();
    }
    await options.afterRun?.(db.url);
    const perItem = (seconds: number): number => (committed > 0 ? (seconds * 1e6) / committed : 0);
    return {
      signal: options.signal,
      serverFlags: options.serverFlags,
      protocol: `${options.protocol}${options.gzip ? '+gzip' : ''}`,
      concurrency: options.concurrency,
      rate: options.rate,
      committed,
      acked: summary.total.ackedItems,
      sentRequests: summary.total.requests,
      refusedRequests: summary.total.refusedRequests,
      refusals: summary.refusals.map((r) => `${r.reason} × ${r.count}`).join(', '),
      elapsedSeconds: summary.elapsedSeconds,
      rowsPerSecond: committed / summary.elapsedSeconds,
      latencyMs: summary.total.latencyMs,
      sendDelayMs: summary.sendDelayMs,
      behindItems: summary.behindItems,
      cpu,
      serverUsPerItem: perItem(cpu.server),
      postgresUsPerItem: perItem(cpu.postgres),
      peakRssBytes,
      largestPeakRssBytes,
      serverProcesses,
      window,
      serverExitCode,
      summaries,
    };
  } finally {
    await db.drop();
  }
}
