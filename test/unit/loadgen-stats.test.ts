import { describe, expect, it } from 'vitest';
import { LatencyHistogram, RunStats } from '../../src/loadgen/stats.js';

describe('LatencyHistogram', () => {
  it('is exact below 128 µs (nearest rank)', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.count).toBe(100);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.min).toBe(1);
    expect(h.max).toBe(100);
    expect(h.mean).toBe(50.5);
  });

  it('stays within 1/64 of the true value for large latencies, never above the maximum', () => {
    const h = new LatencyHistogram();
    const values = [150, 999, 12_345, 250_000, 1_234_567, 98_765_432];
    for (const v of values) {
      h.reset();
      h.record(v);
      h.record(v * 2);
      const p = h.percentile(50);
      expect(Math.abs(p - v) / v).toBeLessThanOrEqual(1 / 64);
      expect(h.percentile(100)).toBe(v * 2);
    }
  });

  it('answers 0 when empty and clamps what it cannot hold', () => {
    const h = new LatencyHistogram();
    expect([h.percentile(50), h.max, h.min, h.mean]).toEqual([0, 0, 0, 0]);
    h.record(-5);
    h.record(1e15);
    expect(h.min).toBe(0);
    expect(h.max).toBe(2 ** 40 - 1);
  });

  it('adds another histogram as if its values were recorded here', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let v = 1; v <= 50; v++) a.record(v);
    for (let v = 51; v <= 100; v++) b.record(v);
    a.add(b);
    expect(a.count).toBe(100);
    expect(a.percentile(90)).toBe(90);
    expect(a.max).toBe(100);
  });
});

describe('RunStats', () => {
  it('counts per signal and in total; partial success lowers the acknowledged items', () => {
    const s = new RunStats();
    s.sent('traces', 100);
    s.acked('traces', 100, 3, 1500);
    s.sent('logs', 50);
    s.refused('logs', 50, 'UNAVAILABLE', 'at its limit');
    s.sent('logs', 50);
    s.refused('logs', 50, 'UNAVAILABLE', 'again');
    expect(s.of('traces')).toMatchObject({ sentItems: 100, ackedRequests: 1, ackedItems: 97, rejectedItems: 3 });
    expect(s.total()).toMatchObject({ sentRequests: 3, sentItems: 200, ackedItems: 97, refusedRequests: 2, refusedItems: 100 });
    // The first message of a reason is kept.
    expect([...s.refusals.values()]).toEqual([{ reason: 'UNAVAILABLE', count: 2, message: 'at its limit' }]);
  });

  it('hands out the window and starts a new one, keeping the totals', () => {
    const s = new RunStats();
    s.sent('metrics', 10);
    s.acked('metrics', 10, 0, 2000);
    const w = s.takeWindow();
    expect(w).toMatchObject({ sentItems: 10, ackedItems: 10 });
    expect(w.latency.count).toBe(1);
    expect(s.window).toMatchObject({ sentItems: 0, ackedItems: 0 });
    expect(s.window.latency.count).toBe(0);
    expect(s.total().ackedItems).toBe(10);
  });
});
