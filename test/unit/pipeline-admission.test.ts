// Admission's decisions, from its own numbers: no clock, no server. Every figure asserted is exact.
import { describe, expect, it } from 'vitest';
import { OtlpError, type AdmissionLimit } from '../../src/errors.js';
import { Admission, type AdmissionOptions } from '../../src/pipeline/admission.js';

const KB = 1000;

function admission(overrides: Partial<AdmissionOptions> = {}): { admission: Admission; refused: AdmissionLimit[] } {
  const refused: AdmissionLimit[] = [];
  const a = new Admission({
    maxBytes: 1_000 * KB,
    maxRequests: 100,
    maxQueueDelayMs: 500,
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
    a.committed(1_000 * KB, 1); // 1 MB per busy second
    const first = a.enter();
    first.charge(200 * KB); // 200 ms of work in flight
    const second = a.enter(); // predicted: 200 KB + a mean request of 200 KB = 400 ms
    second.charge(200 * KB);
    expect(a.queueDelayMs()).toBe(400);
    // A third would make it 600 ms: refused now, while what is in flight still fits the 500 ms target.
    const e = refusal(() => a.enter());
    expect(e.kind).toBe('overloaded');
    expect(e.retryAfterMs).toBe(5000);
    expect(e.message).toMatch(/600 ms to commit, over --max-queue-delay/);
    expect(refused).toEqual(['queue_delay']);
    expect(a.requestsInFlight).toBe(2);

    first.release();
    a.enter().charge(200 * KB);
    expect(a.requestsInFlight).toBe(2);
  });

  it('counts bodies still being read at the mean request size', () => {
    const { admission: a, refused } = admission();
    a.committed(1_000 * KB, 1);
    a.enter().charge(100 * KB);
    a.enter(); // reading: 100 KB expected
    a.enter(); // reading
    expect(a.queueDelayMs()).toBe(300);
    a.enter(); // 400 ms with itself: admitted
    a.enter(); // 500 ms with itself: admitted, the bound is "over"
    expect(() => a.enter()).toThrow(OtlpError); // 600 ms
    expect(a.queueDelayMs()).toBe(500);
    expect(refused).toEqual(['queue_delay']);
  });

  it('follows the commit rate over the last seconds of busy time', () => {
    const { admission: a } = admission();
    a.committed(2_000 * KB, 1); // the first measurement replaces the first guess
    expect(a.commitBytesPerSecond).toBe(2_000 * KB);
    a.committed(500 * KB, 1); // half of the 2 s memory: halfway to 500 KB/s
    expect(a.commitBytesPerSecond).toBe(1_250 * KB);
    a.committed(100 * KB, 0); // no busy time: no information
    expect(a.commitBytesPerSecond).toBe(1_250 * KB);
  });

  it('always lets a request in when nothing is in flight, however slow the writers', () => {
    const { admission: a, refused } = admission({ maxQueueDelayMs: 1 });
    a.committed(1, 1);
    const p = a.enter();
    p.charge(900 * KB);
    expect(a.queueDelayMs()).toBeGreaterThan(1);
    p.release();
    a.enter().charge(900 * KB);
    expect(refused).toEqual([]);
  });

  it('0 turns the delay bound off; the byte and request bounds stay', () => {
    const { admission: a, refused } = admission({ maxQueueDelayMs: 0, maxRequests: 3 });
    a.committed(1, 1);
    a.enter().charge(400 * KB);
    expect(refusal(() => a.enter().charge(700 * KB)).message).toMatch(/--max-inflight-bytes/);
    expect(a.requestsInFlight).toBe(1); // the refused place was given back
    a.enter();
    a.enter();
    expect(refusal(() => a.enter()).message).toMatch(/--max-inflight-requests/);
    expect(refused).toEqual(['bytes', 'requests']);
  });

  it('a request larger than the whole byte bound is admitted alone', () => {
    const { admission: a } = admission({ maxQueueDelayMs: 0 });
    const p = a.enter();
    p.charge(5_000 * KB);
    expect(a.bytesInFlight).toBe(5_000 * KB);
    expect(() => a.enter().charge(1)).toThrow(/--max-inflight-bytes/);
  });

  it('gives back exactly what it took, once, whether the body was read or not', () => {
    const { admission: a } = admission();
    const read = a.enter();
    const unread = a.enter();
    read.charge(300 * KB);
    read.release();
    read.release();
    unread.release();
    unread.release();
    expect([a.requestsInFlight, a.bytesInFlight, a.queueDelayMs()]).toEqual([0, 0, 0]);
    expect(() => read.charge(1)).toThrow(/charged once/);
  });
});
