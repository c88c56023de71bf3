// Admission's decisions, from its own numbers: no clock, no server. Every figure asserted is exact.
import { describe, expect, it } from 'vitest';
import { OtlpError, type AdmissionLimit } from '../../src/errors.js';
import { Admission, MAX_RETRY_AFTER_MS, type AdmissionOptions } from '../../src/pipeline/admission.js';

/** The tests' unit of bytes: 10 kB, so that what they put in flight passes the delay bound's 1 MiB floor. */
const U = 10_000;

function admission(overrides: Partial<AdmissionOptions> = {}): { admission: Admission; refused: AdmissionLimit[] } {
  const refused: AdmissionLimit[] = [];
  const a = new Admission({
    maxBytes: 1_000 * U,
    maxRequests: 100,
    maxQueueDelayMs: 500,
    minRequests: 1,
    retryAfterMs: 5000,
    onRefused: (limit) => refused.push(limit),
    ...overrides,
  });
  return { admission: a, refused };
}

/** The error `enter` or `charge` threw, which must be a retryable refusal. */
function refusal(act: () => unknown): OtlpError {
  try {
    act();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpError);
    return err as OtlpError;
  }
  throw new Error('expected a refusal');
}

describe('Admission', () => {
  it('refuses by predicted queue delay before the delay is reached: in-flight bytes over the measured rate', () => {
    const { admission: a, refused } = admission();
    a.committed(1_000 * U, 1, true); // 100 units per busy second
    const first = a.enter();
    first.charge(200 * U); // 200 ms of work in flight
    const second = a.enter(); // predicted: 200 U + a mean request of 200 U = 400 ms
    second.charge(200 * U);
    expect(a.queueDelayMs()).toBe(400);
    // A third would make it 600 ms: refused now, while what is in flight still fits the 500 ms target.
    const e = refusal(() => a.enter());
    expect(e.kind).toBe('overloaded');
    expect(e.retryAfterMs).toBe(5000);
    expect(e.message).toMatch(/600 ms to commit, over --max-queue-delay/);
    expect(refused).toEqual(['queue_delay']);
    expect(a.requestsInFlight).toBe(2);

    first.release();
    a.enter().charge(200 * U);
    expect(a.requestsInFlight).toBe(2);
  });

  it('counts bodies still being read at the mean request size', () => {
    const { admission: a, refused } = admission();
    a.committed(1000 * U, 1, true);
    a.enter().charge(200 * U); // 200 ms
    a.enter(); // reading: 200 expected, 400 ms with itself
    expect(a.queueDelayMs()).toBe(400);
    expect(() => a.enter()).toThrow(OtlpError); // 600 ms
    expect(refused).toEqual(['queue_delay']);
  });

  it('stops counting a body still being read after ten times the delay bound: a stalled client does not shut the others out', () => {
    let now = 0;
    const { admission: a, refused } = admission({ now: () => now });
    a.committed(1000 * U, 1, true);
    a.enter().charge(200 * U); // the mean request: 200 ms
    a.enter(); // reading, then stalled
    expect(a.queueDelayMs()).toBe(400);
    expect(() => a.enter()).toThrow(/over --max-queue-delay/); // 600 ms with itself
    now = 5000; // not yet stalled
    expect(a.queueDelayMs()).toBe(400);
    now = 5001; // reading for longer than 10 × 500 ms
    expect(a.queueDelayMs()).toBe(200);
    a.enter();
    expect(refused).toEqual(['queue_delay']);
    expect(a.requestsInFlight).toBe(3); // the stalled one still holds its place
  });

  it('learns the rate from batches that queued; one that did not can only raise it', () => {
    const { admission: a } = admission();
    a.committed(100 * U, 1, false); // a lone small batch: below the first guess, says nothing
    const guess = a.commitBytesPerSecond;
    expect(guess).toBeGreaterThan(100 * U);
    a.committed(2_000 * U, 1, true); // the first queued batch replaces the guess
    expect(a.commitBytesPerSecond).toBe(2_000 * U);
    a.committed(500 * U, 1, false);
    expect(a.commitBytesPerSecond).toBe(2_000 * U);
    a.committed(4_000 * U, 1, false); // the pool did at least this: half of the 2 s memory towards it
    expect(a.commitBytesPerSecond).toBe(3_000 * U);
  });

  it('follows the commit rate of queued batches over the last seconds of busy time', () => {
    const { admission: a } = admission();
    a.committed(2_000 * U, 1, true); // the first measurement replaces the first guess
    expect(a.commitBytesPerSecond).toBe(2_000 * U);
    a.committed(500 * U, 1, true); // half of the 2 s memory: halfway to 500 U/s
    expect(a.commitBytesPerSecond).toBe(1_250 * U);
    a.committed(100 * U, 0, true); // no busy time: no information
    expect(a.commitBytesPerSecond).toBe(1_250 * U);
  });

  it('always lets a request in when nothing is in flight, however slow the writers', () => {
    const { admission: a, refused } = admission({ maxQueueDelayMs: 1 });
    a.committed(1, 1, true);
    const p = a.enter();
    p.charge(900 * U);
    expect(a.queueDelayMs()).toBeGreaterThan(1);
    p.release();
    a.enter().charge(900 * U);
    expect(refused).toEqual([]);
  });

  it('leaves enough requests in flight to keep the writers busy, however large they are', () => {
    const { admission: a, refused } = admission({ minRequests: 3, maxBytes: 10_000 * U });
    a.committed(1_000 * U, 1, true);
    for (let i = 0; i < 3; i++) a.enter().charge(2_000 * U); // 2 s of work each
    expect(a.queueDelayMs()).toBe(6000);
    expect(() => a.enter()).toThrow(/over --max-queue-delay/);
    expect(refused).toEqual(['queue_delay']);
  });

  it('refuses nothing by delay below 1 MiB in flight', () => {
    const { admission: a, refused } = admission({ maxQueueDelayMs: 1 });
    a.committed(1000, 1, true); // 1 kB a second: 1 MiB would take 17 minutes
    for (let i = 0; i < 20; i++) a.enter().charge(50_000);
    expect(a.bytesInFlight).toBe(1_000_000);
    a.enter().charge(100_000); // 1.1 MB: past the floor
    expect(() => a.enter()).toThrow(/over --max-queue-delay/);
    expect(refused).toEqual(['queue_delay']);
  });

  it('0 turns the delay bound off; the byte and request bounds stay', () => {
    const { admission: a, refused } = admission({ maxQueueDelayMs: 0, maxRequests: 3 });
    a.committed(1, 1, true);
    a.enter().charge(400 * U);
    expect(refusal(() => a.enter().charge(700 * U)).message).toMatch(/--max-inflight-bytes/);
    expect(a.requestsInFlight).toBe(1); // the refused place was given back
    a.enter();
    a.enter();
    expect(refusal(() => a.enter()).message).toMatch(/--max-inflight-requests/);
    expect(refused).toEqual(['bytes', 'requests']);
  });

  it('a request larger than the whole byte bound is admitted alone', () => {
    const { admission: a } = admission({ maxQueueDelayMs: 0 });
    const p = a.enter();
    p.charge(5_000 * U);
    expect(a.bytesInFlight).toBe(5_000 * U);
    expect(() => a.enter().charge(1)).toThrow(/--max-inflight-bytes/);
  });

  it('gives back exactly what it took, once, whether the body was read or not', () => {
    const { admission: a } = admission();
    const read = a.enter();
    const unread = a.enter();
    read.charge(300 * U);
    read.release();
    read.release();
    unread.release();
    unread.release();
    expect([a.requestsInFlight, a.bytesInFlight, a.queueDelayMs()]).toEqual([0, 0, 0]);
    expect(() => read.charge(1)).toThrow(/charged once/);
  });

  it('books each refusal a later retry slot, by the time a mean request takes to commit, up to 30 s', () => {
    let now = 0;
    const { admission: a } = admission({ now: () => now });
    a.committed(1_000 * U, 1, true); // 1,000 U a second
    a.enter().charge(200 * U);
    a.enter().charge(200 * U); // a mean request of 200 U: 200 ms of the writers' time
    const hints = (n: number): number[] => Array.from({ length: n }, () => refusal(() => a.enter()).retryAfterMs ?? -1);
    expect(hints(3)).toEqual([5000, 5200, 5400]);

    // 300 ms later the next refusal still takes the slot after the last one booked (5,600 ms from the start).
    now += 300;
    expect(hints(1)).toEqual([5300]);
    // Slots all passed: the shortest hint again.
    now += 10_000;
    expect(hints(1)).toEqual([5000]);

    // A flood is spread over at most 30 s: the last slot is not pushed further.
    const flood = hints(200);
    expect(flood[123]).toBe(29_800); // 5,200 + 123 × 200
    expect(flood.slice(124)).toEqual(Array.from({ length: 76 }, () => MAX_RETRY_AFTER_MS));
  });
});
