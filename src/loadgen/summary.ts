import type { Signal } from '../decode/types.js';
import type { RequestShape } from './build-requests.js';
import type { LatencyHistogram, Refusal, RunStats, SignalStats } from './stats.js';

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface SignalSummary {
  readonly requests: number;
  readonly items: number;
  readonly ackedRequests: number;
  readonly ackedItems: number;
  readonly rejectedItems: number;
  readonly refusedRequests: number;
  readonly refusedItems: number;
  /** Acknowledged items per second over the run. */
  readonly itemsPerSecond: number;
  /**
   * Of acknowledged requests, in milliseconds: from the send flat out, from when the send was due
   * at a rate (so time spent waiting to be sent counts).
   */
  readonly latencyMs: LatencySummary;
}

/** What `otlp-pg loadgen --json` prints, and what the programmatic run returns. */
export interface LoadSummary {
  readonly protocol: string;
  readonly endpoint: string;
  readonly gzip: boolean;
  readonly concurrency: number;
  /** Target items per second, 0 for flat out. */
  readonly rate: number;
  /** Items due on the rate's schedule before the end that were never sent: the rate was not kept. */
  readonly behindItems: number;
  /** At a rate: how late requests went out after their due time, in milliseconds (all 0 flat out). */
  readonly sendDelayMs: LatencySummary;
  readonly elapsedSeconds: number;
  readonly shape: RequestShape;
  readonly signals: Partial<Record<Signal, SignalSummary>>;
  readonly total: SignalSummary;
  readonly refusals: readonly Refusal[];
}

const ms = (us: number): number => Math.round(us) / 1000;

export function latencySummary(h: LatencyHistogram): LatencySummary {
  return { p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) };
}

export function signalSummary(s: SignalStats, elapsedSeconds: number): SignalSummary {
  return {
    requests: s.sentRequests,
    items: s.sentItems,
    ackedRequests: s.ackedRequests,
    ackedItems: s.ackedItems,
    rejectedItems: s.rejectedItems,
    refusedRequests: s.refusedRequests,
    refusedItems: s.refusedItems,
    itemsPerSecond: Math.round(s.ackedItems / Math.max(elapsedSeconds, 1e-3)),
    latencyMs: latencySummary(s.latency),
  };
}

export function summarize(
  stats: RunStats,
  run: Omit<LoadSummary, 'signals' | 'total' | 'refusals' | 'sendDelayMs'>,
): LoadSummary {
  const signals: Partial<Record<Signal, SignalSummary>> = {};
  for (const [signal, s] of stats.bySignal) signals[signal] = signalSummary(s, run.elapsedSeconds);
  return {
    ...run,
    sendDelayMs: latencySummary(stats.sendDelay),
    signals,
    total: signalSummary(stats.total(), run.elapsedSeconds),
    refusals: [...stats.refusals.values()].sort((a, b) => b.count - a.count),
  };
}

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const f = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The live line: counts so far, and rate and latency over the last window. */
export function progressLine(elapsedSeconds: number, total: SignalStats, window: SignalStats, windowSeconds: number): string {
  return (
    `${elapsedSeconds.toFixed(0).padStart(4)}s  sent ${n(total.sentRequests)} req  acked ${n(total.ackedItems)} items` +
    `  refused ${n(total.refusedRequests)} req  ${n(window.ackedItems / Math.max(windowSeconds, 1e-3))} items/s` +
    `  p50 ${f(window.latency.percentile(50) / 1000)} ms  p99 ${f(window.latency.percentile(99) / 1000)} ms`
  );
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

/** Whether a run at a rate kept it, and how late its sends went. */
export function rateLine(s: Pick<LoadSummary, 'behindItems' | 'sendDelayMs'>): string {
  const d = s.sendDelayMs;
  const delay = `send delay p50 ${f(d.p50)} ms, p99 ${f(d.p99)} ms`;
  return s.behindItems > 0
    ? `could not keep the rate: ${n(s.behindItems)} items behind schedule, requests sent up to ${f(d.max)} ms late (${delay}); ` +
        'raise --concurrency, or the endpoint is at its limit'
    : `kept the rate: every item due was sent, requests up to ${f(d.max)} ms late (${delay})`;
}

/** The human summary printed at the end of a run. */
export function formatSummary(s: LoadSummary): string {
  const target = s.rate > 0 ? `target ${n(s.rate)} items/s, latency from each request's due time` : 'flat out';
  const lines = [
    `otlp-pg loadgen: ${s.protocol}${s.gzip ? '+gzip' : ''} → ${s.endpoint}, ${s.elapsedSeconds.toFixed(1)} s, ` +
      `concurrency ${s.concurrency}, ${target}`,
    '',
  ];
  const head = ['signal', 'requests', 'items', 'acked', 'rejected', 'refused', 'items/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'];
  const body = [...(Object.entries(s.signals) as [Signal, SignalSummary][]), ['total', s.total] as const].map(([name, x]) => [
    name,
    n(x.requests),
    n(x.items),
    n(x.ackedItems),
    n(x.rejectedItems),
    n(x.refusedItems),
    n(x.itemsPerSecond),
    f(x.latencyMs.p50),
    f(x.latencyMs.p90),
    f(x.latencyMs.p99),
    f(x.latencyMs.max),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  lines.push(row(head, widths), ...body.map((r) => row(r, widths)));
  if (s.rate > 0) lines.push('', rateLine(s));
  if (s.refusals.length > 0) {
    lines.push('', 'refused requests:');
    for (const r of s.refusals) lines.push(`  ${r.reason} × ${n(r.count)}: ${r.message}`);
  }
  return lines.join('\n');
}
