// Batcher: whole requests into batches by size or by the flush interval. Timers are vitest's fake
// ones, moved by the test, so every flush asserted happens exactly when the test says.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OtlpError } from '../../src/errors.js';
import { Batcher, type Pending, type Submission } from '../../src/pipeline/batcher.js';

const submission = (name: string, weight: number): Submission<string> => ({ rows: name, weight, items: weight, bytes: weight * 10, key: null, claim: () => true });

function batcher(maxWeight: number, flushIntervalMs = 200): { b: Batcher<string>; batches: string[][]; pending: Pending<string>[][] } {
  const batches: string[][] = [];
  const pending: Pending<string>[][] = [];
  const b = new Batcher<string>({
    maxWeight,
    flushIntervalMs,
    onBatch: (batch) => {
      pending.push(batch);
      batches.push(batch.map((p) => p.rows));
    },
  });
  return { b, batches, pending };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('Batcher', () => {
  it('flushes as soon as the rows reach the batch size, never splitting a request', () => {
    const { b, batches } = batcher(10);
    void b.submit(submission('a', 4));
    void b.submit(submission('b', 4));
    expect(batches).toEqual([]);
    expect(b.buffered).toEqual({ rows: 8, bytes: 80 });
    void b.submit(submission('c', 7)); // 15 rows: over the size, and c stays whole
    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(b.buffered).toEqual({ rows: 0, bytes: 0 });
  });

  it('flushes what waits when the oldest request has waited the flush interval', () => {
    const { b, batches } = batcher(100, 200);
    void b.submit(submission('a', 1));
    vi.advanceTimersByTime(150);
    void b.submit(submission('b', 1)); // the interval runs from the oldest, not the newest
    vi.advanceTimersByTime(49);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([['a', 'b']]);
    vi.advanceTimersByTime(1000); // nothing waits: no empty batch
    expect(batches).toEqual([['a', 'b']]);
  });

  it('answers each request by its own outcome, as the writer settles it', async () => {
    const { b, pending } = batcher(2);
    const ok = b.submit(submission('ok', 1));
    const bad = b.submit(submission('bad', 1));
    const [first, second] = pending[0] as Pending<string>[];
    first?.resolve();
    second?.reject(new OtlpError('data_rejected', 'refused'));
    await expect(ok).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('refused');
  });

  it('flush() hands over what waits at once, and cancels the interval', () => {
    const { b, batches } = batcher(100, 200);
    void b.submit(submission('a', 1));
    b.flush();
    expect(batches).toEqual([['a']]);
    vi.advanceTimersByTime(500);
    expect(batches).toEqual([['a']]);
    b.flush();
    expect(batches).toEqual([['a']]);
  });
});
