// Replay's timing, driven by events: a clock the test sets and a transport that answers only when
// the test says so. No sleeps, no wall-clock bounds: every number asserted is exact.
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/decode/types.js';
import { replay, type Clock, type ReplayOptions } from '../../src/loadgen/replay.js';
import { RunStats } from '../../src/loadgen/stats.js';
import { formatSummary, summarize } from '../../src/loadgen/summary.js';
import { makeTemplate } from '../../src/loadgen/template.js';
import type { Outcome, Transport } from '../../src/loadgen/transport.js';

/** Time stands still until the test moves it; waiting for the schedule moves it by the wait. */
class FakeClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

/** Holds every request until the test answers it. */
class HeldTransport implements Transport {
  readonly held: { readonly signal: Signal; readonly body: Buffer; answer(outcome?: Outcome): void }[] = [];
  private onSend: (() => void) | undefined;

  send(signal: Signal, body: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      this.held.push({ signal, body, answer: (outcome = { ok: true, rejected: 0 }) => resolve(outcome) });
      this.onSend?.();
    });
  }

  /** Resolves once `count` requests have been sent in all. */
  async sent(count: number): Promise<void> {
    while (this.held.length < count) await new Promise<void>((resolve) => (this.onSend = resolve));
  }

  /** Moves the clock to `t` and answers request `index` (0-based). */
  answerAt(clock: FakeClock, t: number, index: number): void {
    clock.t = t;
    this.held[index]?.answer();
  }

  close(): void {}
}

// 10 items a request at 10 items/s: one request due every second, at 0, 1000, 2000 … ms.
const TEMPLATE = makeTemplate('traces', 'checkout', new Uint8Array(16), 10, [], []);

function setup(overrides: Partial<ReplayOptions>): { clock: FakeClock; transport: HeldTransport; stats: RunStats; options: ReplayOptions } {
  const clock = new FakeClock();
  const transport = new HeldTransport();
  const stats = new RunStats();
  const options: ReplayOptions = {
    templates: [TEMPLATE],
    builtAtMs: 0,
    weights: { traces: 1 },
    concurrency: 1,
    itemsPerSecond: 10,
    durationMs: 0,
    maxRequests: 3,
    transport,
    stats,
    clock,
    // A fixed start: the retry spread comes from the sequence number, and a random one made the
    // retry's send time a fraction of a millisecond, which latencies then carried.
    firstSeq: 0n,
    ...overrides,
  };
  return { clock, transport, stats, options };
}

/** Request 1 held until 2500 ms, then requests 2 and 3 answered 100 ms after they went out. */
async function slowFirstAnswer(transport: HeldTransport, clock: FakeClock): Promise<void> {
  await transport.sent(1);
  transport.answerAt(clock, 2500, 0);
  await transport.sent(2);
  transport.answerAt(clock, 2600, 1);
  await transport.sent(3);
  transport.answerAt(clock, 2700, 2);
}

describe('loadgen replay timing', () => {
  it('at a rate, counts the wait behind a slow answer in the latency of the requests it held back', async () => {
    const { clock, transport, stats, options } = setup({});
    const run = replay(options);
    await slowFirstAnswer(transport, clock);
    await run;
    // Due at 0, 1000 and 2000 ms, sent at 0, 2500 and 2600 ms, answered at 2500, 2600 and 2700 ms.
    const latency = stats.of('traces').latency;
    expect([latency.count, latency.min, latency.max, latency.mean]).toEqual([3, 700_000, 2_500_000, 1_600_000]);
    expect([stats.sendDelay.count, stats.sendDelay.min, stats.sendDelay.max, stats.sendDelay.mean]).toEqual([3, 0, 1_500_000, 700_000]);
  });

  it('flat out, times each request from its send and records no send delay', async () => {
    const { clock, transport, stats, options } = setup({ itemsPerSecond: 0 });
    const run = replay(options);
    await slowFirstAnswer(transport, clock);
    await run;
    const latency = stats.of('traces').latency;
    expect([latency.count, latency.min, latency.max, latency.mean]).toEqual([3, 100_000, 2_500_000, 900_000]);
    expect(stats.sendDelay.count).toBe(0);
  });

  it('says it could not keep the rate: items behind schedule and how late sends went', async () => {
    const { clock, transport, stats, options } = setup({ durationMs: 3000, maxRequests: 0 });
    const run = replay(options);
    await transport.sent(1);
    transport.answerAt(clock, 2500, 0);
    await transport.sent(2);
    transport.answerAt(clock, 3500, 1);
    const result = await run;
    // Due by 3000 ms: 30 items; sent: 20 (the second request 1500 ms late, the third never).
    expect(result).toEqual({ elapsedMs: 3500, behindItems: 10 });
    const summary = summarize(stats, runFields(result, 10));
    expect(summary.sendDelayMs).toMatchObject({ p50: 0, p99: 1500, max: 1500 });
    expect(formatSummary(summary)).toContain(
      'could not keep the rate: 10 items behind schedule, requests sent up to 1500 ms late (send delay p50 0.00 ms, p99 1500 ms)',
    );
  });

  it('keeps the rate against a server that answers in time, waiting for each due time', async () => {
    const { clock, transport, stats, options } = setup({ durationMs: 3000, maxRequests: 0 });
    const run = replay(options);
    for (const [i, due] of [0, 1000, 2000].entries()) {
      await transport.sent(i + 1);
      expect(clock.t).toBe(due);
      transport.answerAt(clock, due + 100, i);
    }
    const result = await run;
    expect(result.behindItems).toBe(0);
    expect(transport.held).toHaveLength(3);
    expect([stats.sendDelay.count, stats.sendDelay.max]).toEqual([3, 0]);
    expect(stats.of('traces').latency.max).toBe(100_000);
    expect(formatSummary(summarize(stats, runFields(result, 10)))).toContain('kept the rate: every item due was sent, requests up to 0.00 ms late');
  });
});

describe('loadgen replay with --backoff', () => {
  const retryable = (afterMs: number | undefined): Outcome => ({ ok: false, reason: 'HTTP 503', message: 'busy', retry: { afterMs } });

  it('sends the same bytes again after the server\'s hint, spread by ±50 %, and counts every attempt', async () => {
    const { clock, transport, stats, options } = setup({ itemsPerSecond: 0, maxRequests: 1, backoff: true });
    const run = replay(options);
    await transport.sent(1);
    transport.held[0]?.answer(retryable(2000));
    await transport.sent(2);
    // The spread is 0.5 + (sequence number mod 1000) / 1000 of the hint: the first send is number 1.
    expect(clock.t).toBe(2000 * 0.501);
    expect(transport.held[1]?.body).toBe(transport.held[0]?.body);
    const retriedAt = clock.t;
    transport.answerAt(clock, retriedAt + 100, 1);
    await run;
    const traces = stats.of('traces');
    expect([traces.sentRequests, traces.refusedRequests, traces.ackedRequests]).toEqual([2, 1, 1]);
    // The acknowledged attempt is timed from its own send.
    expect(traces.latency.max).toBe(100_000);
  });

  it('waits 1 s, spread, when the server gave no hint; a permanent refusal is not sent again', async () => {
    const { clock, transport, stats, options } = setup({ itemsPerSecond: 0, maxRequests: 2, backoff: true });
    const run = replay(options);
    await transport.sent(1);
    transport.held[0]?.answer(retryable(undefined));
    await transport.sent(2);
    expect(clock.t).toBe(1000 * 0.501);
    transport.held[1]?.answer({ ok: false, reason: 'HTTP 400', message: 'bad' });
    await transport.sent(3);
    expect(transport.held[2]?.body).not.toBe(transport.held[0]?.body);
    transport.held[2]?.answer();
    await run;
    expect(stats.of('traces').refusedRequests).toBe(2);
    expect(transport.held).toHaveLength(3);
  });

  it('without it, a refused request is dropped and the slot sends a new one at once', async () => {
    const { clock, transport, stats, options } = setup({ itemsPerSecond: 0, maxRequests: 2 });
    const run = replay(options);
    await transport.sent(1);
    transport.held[0]?.answer(retryable(2000));
    await transport.sent(2);
    expect(clock.t).toBe(0);
    expect(transport.held[1]?.body).not.toBe(transport.held[0]?.body);
    transport.held[1]?.answer();
    await run;
    expect([stats.of('traces').sentRequests, stats.of('traces').refusedRequests]).toEqual([2, 1]);
  });
});

function runFields(result: { elapsedMs: number; behindItems: number }, rate: number): Parameters<typeof summarize>[1] {
  return {
    protocol: 'grpc',
    endpoint: 'fake',
    gzip: false,
    concurrency: 1,
    rate,
    behindItems: result.behindItems,
    elapsedSeconds: result.elapsedMs / 1000,
    shape: {
      spansPerRequest: 10,
      spansPerTrace: 10,
      logsPerRequest: 1,
      pointsPerRequest: 1,
      attributes: 0,
      attributeSize: 0,
      services: 1,
      errorRatio: 0,
      seed: 1,
    },
  };
}
