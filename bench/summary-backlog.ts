// How far `traces` lags behind the acknowledged spans while otlp-pg ingests flat out: the backlog of
// summary parts not yet folded (sampled from trace_summary_parts during the run, then polled until
// empty once the load stops) and the server's own histogram of commit-to-fold seconds
// (otlp_pg_trace_summary_lag_seconds on its /metrics), over the measured run only.

import { performance } from 'node:perf_hooks';
import pg from 'pg';

export interface SummaryBacklog {
  /** The most traces (and parts: one per committed batch) waiting to be folded at any sample. */
  readonly maxTraces: number;
  readonly maxParts: number;
  /** Waiting when the load stopped. */
  readonly endTraces: number;
  /** Seconds from the end of the load until nothing was waiting; undefined: not within the bound. */
  readonly drainSeconds: number | undefined;
  readonly drainBoundSeconds: number;
  /** Still waiting when the wait ended (0 once drained): with endTraces, how fast the fold went. */
  readonly leftTraces: number;
  /** Commit-to-fold seconds of the parts folded during the run and the drain (undefined: no histogram). */
  readonly lag: { readonly p50: number; readonly p99: number; readonly count: number } | undefined;
}

const BACKLOG_SQL = 'SELECT count(*)::int AS parts, coalesce(sum(cardinality(trace_ids)), 0)::int AS traces FROM trace_summary_parts';
const LAG_HISTOGRAM = 'otlp_pg_trace_summary_lag_seconds';

/** Cumulative bucket counts by upper bound, summed over label sets; undefined when absent. */
export type Buckets = ReadonlyMap<number, number>;

export function parseHistogram(text: string, name: string): Buckets | undefined {
  const out = new Map<number, number>();
  const line = new RegExp(`^${name}_bucket\\{(.*)\\}\\s+(\\S+)`, 'gm');
  for (const m of text.matchAll(line)) {
    const le = /(?:^|,)le="([^"]+)"/.exec(m[1] ?? '')?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(m[2]));
  }
  return out.size > 0 ? out : undefined;
}

/**
 * The q-quantile of the observations between two scrapes, interpolated linearly inside its bucket
 * as Prometheus' histogram_quantile does; in the +Inf bucket, the highest finite bound.
 */
export function quantileBetween(before: Buckets | undefined, after: Buckets, q: number): { value: number; count: number } | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before?.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const upTo = counts[i] as number;
    if (upTo < rank) continue;
    const upper = bounds[i] as number;
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    if (upper === Infinity) return { value: lower, count: total };
    const below = i === 0 ? 0 : (counts[i - 1] as number);
    return { value: lower + ((upper - lower) * (rank - below)) / Math.max(upTo - below, 1), count: total };
  }
  return undefined;
}

async function scrape(metricsUrl: string | undefined): Promise<Buckets | undefined> {
  if (!metricsUrl) return undefined;
  try {
    const res = await fetch(metricsUrl);
    return res.ok ? parseHistogram(await res.text(), LAG_HISTOGRAM) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface BacklogWatch {
  /** Ends the sampling, polls until nothing waits (at most `boundMs`) and reads the lag histogram. */
  finish(boundMs: number): Promise<SummaryBacklog | undefined>;
}

/**
 * Starts sampling the backlog every `everyMs` on a connection of its own, and takes the first
 * scrape of the lag histogram. Without the table (a schema before it) everything is undefined.
 */
export async function watchBacklog(databaseUrl: string, metricsUrl: string | undefined, everyMs = 500): Promise<BacklogWatch> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'otlp-pg-bench' });
  await client.connect();
  const sample = async (): Promise<{ parts: number; traces: number } | undefined> => {
    try {
      return (await client.query<{ parts: number; traces: number }>(BACKLOG_SQL)).rows[0];
    } catch {
      return undefined; // no such table (a schema before it): the figures are n/a, the run goes on
    }
  };
  const first = await sample();
  const before = await scrape(metricsUrl);
  let maxTraces = first?.traces ?? 0;
  let maxParts = first?.parts ?? 0;
  let sampling = first !== undefined;
  const loop = (async () => {
    while (sampling) {
      await sleep(everyMs);
      if (!sampling) break;
      const s = await sample();
      maxTraces = Math.max(maxTraces, s?.traces ?? 0);
      maxParts = Math.max(maxParts, s?.parts ?? 0);
    }
  })();
  return {
    async finish(boundMs) {
      sampling = false;
      try {
        await loop;
        if (first === undefined) return undefined;
        const stopped = performance.now();
        const end = await sample();
        let left = end;
        while (left && left.parts > 0 && performance.now() - stopped < boundMs) {
          await sleep(100);
          left = await sample();
        }
        const drainSeconds = left && left.parts === 0 ? (performance.now() - stopped) / 1000 : undefined;
        const after = await scrape(metricsUrl);
        const p50 = after && quantileBetween(before, after, 0.5);
        const p99 = after && quantileBetween(before, after, 0.99);
        return {
          maxTraces: Math.max(maxTraces, end?.traces ?? 0),
          maxParts: Math.max(maxParts, end?.parts ?? 0),
          endTraces: end?.traces ?? 0,
          drainSeconds,
          drainBoundSeconds: boundMs / 1000,
          leftTraces: left?.traces ?? 0,
          lag: p50 && p99 ? { p50: p50.value, p99: p99.value, count: p50.count } : undefined,
        };
      } finally {
        await client.end();
      }
    },
  };
}
