import { performance } from 'node:perf_hooks';
import { OtlpError, type AdmissionLimit } from '../errors.js';

export interface AdmissionOptions {
  readonly maxBytes: number;
  readonly maxRequests: number;
  /** Longest predicted wait from admission to commit; 0 leaves only the byte and request bounds. */
  readonly maxQueueDelayMs: number;
  /**
   * Requests always let in whatever the predicted delay: enough to keep every writer busy while one
   * more batch fills, or large requests (a Collector's 8,192 spans) would leave writers idle.
   */
  readonly minRequests: number;
  /** The shortest retry hint; refusals in quick succession are told later and later times (`refuse`). */
  readonly retryAfterMs: number;
  readonly onRefused?: (limit: AdmissionLimit) => void;
  /** Milliseconds on a monotonic clock; a test passes its own. */
  readonly now?: () => number;
}

/** One request's place in flight, taken before its body is read. */
export interface Place {
  /** Charges the body's size once read; throws (and gives the place back) past the byte bound. */
  charge(bytes: number): void;
  /** Gives the place back, with whatever it was charged. Only the first call counts. */
  release(): void;
}

/**
 * How fast the writers commit request bytes, before any batch has been measured: low on purpose, so
 * a flood at start-up is held to a short queue until the first batches say what the machine does.
 */
const FIRST_GUESS_BYTES_PER_SECOND = 16 * 1024 * 1024;
/** What a body still being read is counted at until one has been read: a few hundred spans. */
const FIRST_GUESS_REQUEST_BYTES = 64 * 1024;
/**
 * Below this many request bytes in flight the delay bound refuses nothing: too little work to be late
 * for long, and a rate measured on tiny batches (mostly round trips) would overstate their delay.
 */
const DELAY_FLOOR_BYTES = 1024 * 1024;
/**
 * A body still being read after this many times the delay bound is taken for stalled (a slow or
 * hostile client), and stops counting towards the predicted delay. Under a flood, bodies being read
 * count in full: it is how a burst of senders is held back before its bodies arrive.
 */
const STALLED_READS = 10;
/** The commit rate follows the last seconds of batches: one batch moves it by (its duration / this). */
const RATE_MEMORY_SECONDS = 2;
/** The longest retry hint: the Collector's exporterhelper backs off at most 30 s between retries too. */
export const MAX_RETRY_AFTER_MS = 30_000;

/**
 * Decides, before a body is read, whether a request may enter, and holds what entered until it
 * leaves. Three bounds, each a retryable refusal:
 * - requests in flight (bodies being read included), and their bytes: the hard stops, which set the
 *   memory a burst can pin (the Collector's memory_limiter does the same: refuse, never grow);
 * - the predicted queue delay: the bytes in flight, plus what the bodies still being read are likely
 *   to weigh, over the measured commit rate. Past `maxQueueDelayMs` a request is refused at once, so
 *   under overload the queue stays short and the requests let in are answered quickly, instead of
 *   every request waiting until the timeout (the exporterhelper's queue refuses when full for the
 *   same reason; here "full" is measured in time, as CoDel does, because bytes cost different time
 *   per signal and per machine).
 * A request is always let in when nothing else is in flight, or it could never be stored, and the
 * delay bound leaves `minRequests` and 1 MiB in flight to keep the writers busy.
 */
export class Admission {
  private bytes = 0;
  private requests = 0;
  /**
   * Places whose body is still being read, by when they entered (a Map keeps that order). A body
   * stalled for long stops counting towards the predicted delay (STALLED_READS): a slow or hostile
   * client must not make the server refuse everyone else.
   */
  private readonly reading = new Map<number, number>();
  private nextPlace = 0;
  private readonly now: () => number;
  private meanRequestBytes = FIRST_GUESS_REQUEST_BYTES;
  private requestsCharged = 0;
  private bytesPerSecond = FIRST_GUESS_BYTES_PER_SECOND;
  private measured = false;
  /** The time the last refused request was told to come back at (monotonic ms). */
  private retrySlot = -Infinity;

  constructor(private readonly options: AdmissionOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Takes a place for one request, or throws a retryable `overloaded` error naming the bound. */
  enter(): Place {
    if (this.requests >= this.options.maxRequests) this.refuse('requests', 'requests in flight are at --max-inflight-requests');
    if (this.requests >= this.options.minRequests && this.aheadBytes() >= DELAY_FLOOR_BYTES && this.options.maxQueueDelayMs > 0) {
      const delay = this.queueDelayMs(this.meanRequestBytes);
      if (delay > this.options.maxQueueDelayMs) {
        this.refuse('queue_delay', `the requests in flight would take ${Math.round(delay)} ms to commit, over --max-queue-delay`);
      }
    }
    this.requests++;
    const id = this.nextPlace++;
    this.reading.set(id, this.now());
    let charged = -1;
    let released = false;
    return {
      charge: (bytes) => {
        if (charged >= 0 || released) throw new Error('a place is charged once, before it is released');
        this.reading.delete(id);
        // A single request larger than the whole budget is let in when nothing else is charged.
        if (this.bytes + bytes > this.options.maxBytes && this.bytes > 0) {
          this.requests--;
          released = true;
          this.refuse('bytes', 'request bytes in flight are at --max-inflight-bytes');
        }
        charged = bytes;
        this.bytes += bytes;
        this.meanRequestBytes = this.requestsCharged++ === 0 ? bytes : 0.9 * this.meanRequestBytes + 0.1 * bytes;
      },
      release: () => {
        if (released) return;
        released = true;
        this.requests--;
        if (charged < 0) this.reading.delete(id);
        else this.bytes -= charged;
      },
    };
  }

  /**
   * One batch committed: `bytes` of requests, after the writers were busy `busySeconds` since the
   * previous batch; `saturated` when other batches were waiting for a writer meanwhile. A saturated
   * rate is what the pool can do, whatever number of writers share the machine: the estimate follows
   * it over the last few seconds of busy time. An unsaturated one only shows what the pool did at
   * least (a small batch is mostly round trips), so it can raise the estimate, never lower it; that
   * is also how an estimate too low to let a queue form is corrected.
   */
  committed(bytes: number, busySeconds: number, saturated: boolean): void {
    if (bytes <= 0 || busySeconds <= 0) return;
    const rate = bytes / busySeconds;
    if (!saturated && rate <= this.bytesPerSecond) return;
    if (saturated && !this.measured) {
      this.measured = true;
      this.bytesPerSecond = rate;
      return;
    }
    const weight = Math.min(1, busySeconds / RATE_MEMORY_SECONDS);
    this.bytesPerSecond += weight * (rate - this.bytesPerSecond);
  }

  /** How long the requests in flight, plus `extraBytes`, are predicted to take to commit. */
  queueDelayMs(extraBytes = 0): number {
    return ((this.aheadBytes() + extraBytes) / this.bytesPerSecond) * 1000;
  }

  /** The bytes in flight, with each body being read (and not stalled) counted at the mean request size. */
  private aheadBytes(): number {
    const stale = this.now() - STALLED_READS * this.options.maxQueueDelayMs;
    for (const [id, since] of this.reading) {
      if (since >= stale) break;
      this.reading.delete(id);
    }
    return this.bytes + this.reading.size * this.meanRequestBytes;
  }

  get bytesInFlight(): number {
    return this.bytes;
  }

  get requestsInFlight(): number {
    return this.requests;
  }

  /** Request bytes the writer pool is measured to commit per second while it has work. */
  get commitBytesPerSecond(): number {
    return this.bytesPerSecond;
  }

  /**
   * Refuses with a retry hint that books the request a later slot than the one refused before it:
   * each refusal moves the slot on by the time the writers take to commit a mean request. A flood of
   * senders refused together is told to come back spread out, at about the rate the writers can take
   * them, instead of all at once after the same delay to be refused again; the senders let in are
   * then answered within the delay bound instead of sharing the machine with everyone's retries. Time passing frees the slots, so with no refusals for a while
   * the hint is back to its shortest.
   */
  private refuse(limit: AdmissionLimit, why: string): never {
    this.options.onRefused?.(limit);
    const now = this.now();
    const perRequestMs = (this.meanRequestBytes / this.bytesPerSecond) * 1000;
    this.retrySlot = Math.min(Math.max(this.retrySlot + perRequestMs, now + this.options.retryAfterMs), now + MAX_RETRY_AFTER_MS);
    throw new OtlpError('overloaded', `otlp-pg is at its limit: ${why}; retry later`, Math.ceil(this.retrySlot - now));
  }
}
