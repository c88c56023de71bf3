import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Signal } from '../decode/types.js';
import type { RunStats } from './stats.js';
import { render, type Template } from './template.js';
import type { Transport } from './transport.js';

export interface ReplayOptions {
  readonly templates: readonly Template[];
  /** The wall-clock time (ms) the templates' timestamps were built around. */
  readonly builtAtMs: number;
  /** Relative share of requests per signal; signals without templates are ignored. */
  readonly weights: Readonly<Partial<Record<Signal, number>>>;
  /** Requests in flight at most: the generator's memory is this many request buffers. */
  readonly concurrency: number;
  /** Items (spans + log records + data points) per second; 0 sends as fast as answers come back. */
  readonly itemsPerSecond: number;
  /** Stop sending after this long (0: no limit). */
  readonly durationMs: number;
  /** Stop sending after this many requests (0: no limit). */
  readonly maxRequests: number;
  readonly transport: Transport;
  readonly stats: RunStats;
  /**
   * After a refusal the server asked to retry, the request is sent again, the same bytes, after the
   * server's hint (1 s without one) spread by ±50 %, as an SDK or the Collector retries; its slot stays
   * taken meanwhile. Each attempt counts as a request sent. Off, a refused request is dropped and its
   * slot sends a new one at once.
   */
  readonly backoff?: boolean;
  /** Aborting stops sending; requests in flight are still waited for. */
  readonly stop?: AbortSignal;
  /** Time and waiting; a test passes its own to control both. */
  readonly clock?: Clock;
  /** The sequence number before the run's first send (default: a random one, see randomSeq). */
  readonly firstSeq?: bigint;
}

/** Where replay reads the time (ms, monotonic) and how it waits for the next send to be due. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface ReplayResult {
  /** From the first send to the last answer. */
  readonly elapsedMs: number;
  /** Items that were due under the target rate but not sent (0 when it was kept, or flat out). */
  readonly behindItems: number;
}

/**
 * Picks the next template: signals by smooth weighted round robin (nginx's algorithm, so a
 * 3:1 mix interleaves as a a b a a a b a rather than in bursts), and each signal's templates in turn.
 */
export class TemplateMix {
  private readonly signals: { signal: Signal; weight: number; current: number; templates: Template[]; next: number }[] = [];
  private readonly totalWeight: number;
  /** Mean items per request under this mix. */
  readonly meanItems: number;

  constructor(templates: readonly Template[], weights: Readonly<Partial<Record<Signal, number>>>) {
    for (const [signal, weight] of Object.entries(weights) as [Signal, number][]) {
      const own = templates.filter((t) => t.signal === signal);
      if (weight > 0 && own.length > 0) this.signals.push({ signal, weight, current: 0, templates: own, next: 0 });
    }
    if (this.signals.length === 0) throw new Error('no requests to send: no template matches the signal mix');
    this.totalWeight = this.signals.reduce((n, s) => n + s.weight, 0);
    this.meanItems =
      this.signals.reduce((n, s) => n + (s.weight * s.templates.reduce((m, t) => m + t.items, 0)) / s.templates.length, 0) / this.totalWeight;
  }

  next(): Template {
    let best = this.signals[0] as (typeof this.signals)[number];
    for (const s of this.signals) {
      s.current += s.weight;
      if (s.current > best.current) best = s;
    }
    best.current -= this.totalWeight;
    return best.templates[best.next++ % best.templates.length] as Template;
  }
}

/**
 * Where a run's sequence numbers start: a random point, so two runs (or a warm-up and the run after
 * it) never produce the same trace ids from the same templates.
 */
export function randomSeq(): bigint {
  return BigInt(`0x${randomBytes(8).toString('hex')}`);
}

/**
 * How far a send moves its template's timestamps: to the current millisecond, plus a sub-millisecond
 * part taken from the sequence number, so that no two sends of one template carry the same bytes
 * even within a millisecond (a backend that deduplicates retried requests by digest would
 * otherwise acknowledge the second without storing it).
 */
export function sendShiftNs(builtAtMs: number, seq: bigint, nowMs = Date.now()): bigint {
  return BigInt(nowMs - builtAtMs) * 1_000_000n + (seq % 1_000_000n);
}

/** What one send renders its template with: trace ids varied by `seq`, timestamps moved by `shiftNs`. */
export interface SendKey {
  readonly seq: bigint;
  readonly shiftNs: bigint;
}

/**
 * Hands out each send's key: a new one per send, except that the later parts of a fan-in group
 * take the key of the group's first part, sent just before them. So the group's requests carry the
 * same fresh trace ids and timestamps moved alike: together, whole traces whose spans keep their
 * timing. A run that stops between the parts of a group leaves its traces incomplete.
 */
export class SendKeys {
  private seq: bigint;
  private readonly groups = new Map<number, SendKey>();

  constructor(
    private readonly builtAtMs: number,
    start: bigint = randomSeq(),
    private readonly nowMs: () => number = Date.now,
  ) {
    this.seq = start;
  }

  next(t: Template): SendKey {
    const shared = t.fanIn && t.fanIn.part > 0 ? this.groups.get(t.fanIn.group) : undefined;
    if (shared) return shared;
    this.seq = BigInt.asUintN(64, this.seq + 1n);
    const key = { seq: this.seq, shiftNs: sendShiftNs(this.builtAtMs, this.seq, this.nowMs()) };
    if (t.fanIn) this.groups.set(t.fanIn.group, key);
    return key;
  }
}

/**
 * Sends the templates, each send with fresh trace ids and current timestamps, with at most
 * `concurrency` requests in flight: flat out, or at `itemsPerSecond` (open loop: sends are due
 * on a fixed schedule; when the concurrency bound holds them back they go late, and the
 * shortfall is reported rather than hidden). Resolves once every request sent is answered.
 *
 * At a rate, a request's latency runs from when it was due, not from when it went out: a server
 * that answers slowly holds back the sends behind it, and timing those from their late send would
 * leave that wait out of every latency (coordinated omission). How late each send went is
 * recorded apart, as the send delay.
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const mix = new TemplateMix(options.templates, options.weights);
  const { transport, stats } = options;
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  let inFlight = 0;
  let requests = 0;
  let itemsSent = 0;
  const keys = new SendKeys(options.builtAtMs, options.firstSeq);
  let lastAnswer = start;
  let wake: (() => void) | undefined;
  const freeSlot = (): void => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const answered = (): void => {
    lastAnswer = clock.now();
    freeSlot();
  };
  // Once the run is over, slots backing off are let go at once rather than after their wait.
  let endRun: () => void = () => undefined;
  const runOver = new Promise<void>((resolve) => (endRun = resolve));
  const slotFree = (): Promise<void> => new Promise((resolve) => (wake = resolve));

  /** Sends `t`, due at `due` on the rate's schedule (undefined flat out: its latency counts from the send). */
  let over = false;
  const send = (t: Template, due: number | undefined): void => {
    const { seq, shiftNs } = keys.next(t);
    const body = render(t, seq, shiftNs);
    if (due !== undefined) stats.sendDelayed((clock.now() - due) * 1000);
    inFlight++;
    attempt(t, body, seq, due);
  };

  /** One attempt at `body`; with backoff, a refusal the server asked to retry is sent again after its hint. */
  const attempt = (t: Template, body: Buffer, seq: bigint, due: number | undefined): void => {
    const from = due ?? clock.now();
    stats.sent(t.signal, t.items);
    transport.send(t.signal, body).then(
      (outcome) => {
        if (outcome.ok) stats.acked(t.signal, t.items, outcome.rejected, (clock.now() - from) * 1000);
        else {
          stats.refused(t.signal, t.items, outcome.reason, outcome.message);
          if (options.backoff && outcome.retry && !over) {
            // As an SDK does: the same bytes again, after the hint. The spread comes from the send's
            // sequence number: reproducible, and senders refused together part.
            const spread = 0.5 + Number(seq % 1000n) / 1000;
            lastAnswer = clock.now();
            void Promise.race([clock.sleep((outcome.retry.afterMs ?? 1000) * spread), runOver]).then(() =>
              over ? freeSlot() : attempt(t, body, seq, undefined),
            );
            return;
          }
        }
        answered();
      },
      (err: unknown) => {
        stats.refused(t.signal, t.items, 'client error', (err as Error).message);
        answered();
      },
    );
  };

  for (;;) {
    const now = clock.now();
    // Past the duration, or stopped, nothing more is sent, retries included; after the last of
    // `maxRequests`, the refused among them are still retried.
    if (options.stop?.aborted || (options.durationMs > 0 && now - start >= options.durationMs)) {
      over = true;
      break;
    }
    if (options.maxRequests > 0 && requests >= options.maxRequests) break;
    if (inFlight >= options.concurrency) {
      await slotFree();
      continue;
    }
    const due = options.itemsPerSecond > 0 ? start + (itemsSent / options.itemsPerSecond) * 1000 : undefined;
    if (due !== undefined && due > now) {
      await clock.sleep(Math.max(1, Math.min(due - now, options.durationMs > 0 ? start + options.durationMs - now : Infinity)));
      continue;
    }
    const t = mix.next();
    send(t, due);
    requests++;
    itemsSent += t.items;
  }
  if (over) endRun();
  while (inFlight > 0) await slotFree();

  const elapsedMs = Math.max(lastAnswer - start, 1);
  const asked = options.itemsPerSecond > 0 && options.durationMs > 0 ? (options.itemsPerSecond * Math.min(elapsedMs, options.durationMs)) / 1000 : 0;
  return { elapsedMs, behindItems: Math.max(0, Math.round(asked - itemsSent)) };
}
