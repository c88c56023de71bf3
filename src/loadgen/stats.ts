import type { Signal } from '../decode/types.js';

// Latencies go into a log-linear histogram (the HdrHistogram idea, two significant binary digits
// short of it): fixed memory however long the run, mergeable, and within 1/64 (1.6 %) of the true
// value. Values are whole microseconds.

/** Exact buckets below this; above it each power of two is cut into SUB_BUCKETS. */
const LINEAR = 128;
const SUB_BUCKETS = 64;
const SUB_BITS = 6; // log2(SUB_BUCKETS)
/** 2^40 µs is 12.7 days: more than any request waits. Larger values are clamped. */
const MAX_EXPONENT = 40;
const BUCKETS = LINEAR + (MAX_EXPONENT - SUB_BITS) * SUB_BUCKETS;
const MAX_VALUE = 2 ** MAX_EXPONENT - 1;

function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  const e = Math.floor(Math.log2(us)) - SUB_BITS; // ≥ 1 here
  const m = Math.floor(us / 2 ** e); // in [64, 128)
  return LINEAR + (e - 1) * SUB_BUCKETS + (m - SUB_BUCKETS);
}

/** The largest value that falls in `bucket`. */
function upperBound(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const e = Math.floor((bucket - LINEAR) / SUB_BUCKETS) + 1;
  const m = ((bucket - LINEAR) % SUB_BUCKETS) + SUB_BUCKETS;
  return (m + 1) * 2 ** e - 1;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private n = 0;
  private total = 0;
  private lowest = Infinity;
  private highest = 0;

  /** Records one latency in microseconds (fractions are truncated, negatives count as 0). */
  record(us: number): void {
    const v = Math.min(Math.max(Math.trunc(us), 0), MAX_VALUE);
    this.counts[bucketOf(v)]! += 1;
    this.n++;
    this.total += v;
    if (v < this.lowest) this.lowest = v;
    if (v > this.highest) this.highest = v;
  }

  get count(): number {
    return this.n;
  }

  get max(): number {
    return this.n === 0 ? 0 : this.highest;
  }

  get min(): number {
    return this.n === 0 ? 0 : this.lowest;
  }

  get mean(): number {
    return this.n === 0 ? 0 : this.total / this.n;
  }

  /**
   * The `q`-th percentile by nearest rank: the upper bound of the bucket holding that rank, kept
   * within the smallest and largest values recorded. 0 when empty.
   */
  percentile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(q, 0), 100) / 100) * this.n));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.max(Math.min(upperBound(b), this.highest), this.lowest);
    }
    return this.highest;
  }

  add(other: LatencyHistogram): void {
    for (let b = 0; b < BUCKETS; b++) this.counts[b]! += other.counts[b]!;
    this.n += other.n;
    this.total += other.total;
    this.lowest = Math.min(this.lowest, other.lowest);
    this.highest = Math.max(this.highest, other.highest);
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.total = 0;
    this.lowest = Infinity;
    this.highest = 0;
  }
}

/** What happened to the requests of one signal. Items are spans, log records or data points. */
export class SignalStats {
  sentRequests = 0;
  sentItems = 0;
  /** Requests answered success (including partial success). */
  ackedRequests = 0;
  /** Items of acknowledged requests, minus those the answer's partial success refused. */
  ackedItems = 0;
  /** Items refused by partial success inside acknowledged requests. */
  rejectedItems = 0;
  refusedRequests = 0;
  refusedItems = 0;
  /** Latency of acknowledged requests, to the answer from the send (flat out) or from when the send was due (at a rate). */
  readonly latency = new LatencyHistogram();

  add(other: SignalStats): void {
    this.sentRequests += other.sentRequests;
    this.sentItems += other.sentItems;
    this.ackedRequests += other.ackedRequests;
    this.ackedItems += other.ackedItems;
    this.rejectedItems += other.rejectedItems;
    this.refusedRequests += other.refusedRequests;
    this.refusedItems += other.refusedItems;
    this.latency.add(other.latency);
  }
}

/** Why requests were refused: a status (`UNAVAILABLE`, `HTTP 503`, `ECONNREFUSED` …), how often, one message. */
export interface Refusal {
  readonly reason: string;
  count: number;
  readonly message: string;
}

/**
 * Counters of a whole run, per signal, plus a window (reset at each progress line) so the live
 * line shows the current rate and latency rather than the average since the start.
 */
export class RunStats {
  readonly bySignal = new Map<Signal, SignalStats>();
  readonly window = new SignalStats();
  readonly refusals = new Map<string, Refusal>();
  /** At a rate: how long after its due time on the schedule each request went out (µs). */
  readonly sendDelay = new LatencyHistogram();

  of(signal: Signal): SignalStats {
    let s = this.bySignal.get(signal);
    if (!s) this.bySignal.set(signal, (s = new SignalStats()));
    return s;
  }

  sent(signal: Signal, items: number): void {
    const s = this.of(signal);
    s.sentRequests++;
    s.sentItems += items;
    this.window.sentRequests++;
    this.window.sentItems += items;
  }

  sendDelayed(us: number): void {
    this.sendDelay.record(us);
  }

  acked(signal: Signal, items: number, rejected: number, latencyUs: number): void {
    for (const s of [this.of(signal), this.window]) {
      s.ackedRequests++;
      s.ackedItems += items - rejected;
      s.rejectedItems += rejected;
      s.latency.record(latencyUs);
    }
  }

  refused(signal: Signal, items: number, reason: string, message: string): void {
    for (const s of [this.of(signal), this.window]) {
      s.refusedRequests++;
      s.refusedItems += items;
    }
    const seen = this.refusals.get(reason);
    if (seen) seen.count++;
    else this.refusals.set(reason, { reason, count: 1, message });
  }

  total(): SignalStats {
    const t = new SignalStats();
    for (const s of this.bySignal.values()) t.add(s);
    return t;
  }

  /** Hands back the window's counters and starts a new one. */
  takeWindow(): SignalStats {
    const w = new SignalStats();
    w.add(this.window);
    this.window.sentRequests = this.window.sentItems = this.window.ackedRequests = this.window.ackedItems = 0;
    this.window.rejectedItems = this.window.refusedRequests = this.window.refusedItems = 0;
    this.window.latency.reset();
    return w;
  }
}
