import { describe, expect, it } from 'vitest';
import { defaultLoadgenOptions, loadgenHelp, parseDuration, parseLoadgenArgs, parseSignalMix, UsageError } from '../../src/loadgen/options.js';

describe('otlp-pg loadgen arguments', () => {
  it('defaults to all three signals over gRPC to the local otlp-pg, for 10 s', () => {
    const o = defaultLoadgenOptions();
    expect(o).toMatchObject({
      protocol: 'grpc',
      endpoint: '127.0.0.1:4317',
      weights: { traces: 1, logs: 1, metrics: 1 },
      spansPerRequest: 100,
      attributes: 10,
      rate: 0,
      durationMs: 10_000,
      requests: 0,
    });
  });

  it('takes the HTTP endpoint, headers, a weighted mix and a rate', () => {
    const o = parseLoadgenArgs([
      '--protocol', 'http/protobuf', '--header', 'Authorization=Bearer abc', '--header', 'x-tenant=t1',
      '--signals', 'traces=3,logs=1', '--rate', '20000', '--duration', '2m', '--gzip', '--spans', '512',
    ]);
    expect(o).toMatchObject({
      protocol: 'http/protobuf',
      endpoint: 'http://127.0.0.1:4318',
      headers: { authorization: 'Bearer abc', 'x-tenant': 't1' },
      weights: { traces: 3, logs: 1 },
      rate: 20_000,
      durationMs: 120_000,
      gzip: true,
      spansPerRequest: 512,
    });
  });

  it('reports every violation at once, by flag', () => {
    let error: unknown;
    try {
      parseLoadgenArgs(['--protocol', 'udp', '--spans', '0', '--signals', 'profiles', '--duration', 'soon', '--header', 'novalue']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    for (const flag of ['--protocol', '--spans', '--signals', '--duration', '--header']) expect(message).toContain(flag);
  });

  it('refuses a run that would never stop, and unknown flags', () => {
    expect(() => parseLoadgenArgs(['--duration', '0'])).toThrow(/--requests/);
    expect(() => parseLoadgenArgs(['--duration', '0', '--requests', '10'])).not.toThrow();
    expect(() => parseLoadgenArgs(['--no-such-flag'])).toThrow(UsageError);
  });

  it('takes --fan-in as a whole number ≥ 0, no wider than the services and the traces', () => {
    expect(defaultLoadgenOptions().fanIn).toBe(0);
    expect(defaultLoadgenOptions({ fanIn: 5, spansPerTrace: 10 })).toMatchObject({ fanIn: 5, spansPerTrace: 10 });
    expect(parseLoadgenArgs(['--fan-in', '3'])?.fanIn).toBe(3);
    for (const bad of ['-1', '1.5', 'x']) expect(() => parseLoadgenArgs([`--fan-in=${bad}`])).toThrow(/--fan-in: .* whole number/);
    expect(() => parseLoadgenArgs(['--fan-in', '6'])).toThrow(/--fan-in: a fan-in of 6 needs as many services \(5\)/);
    expect(() => parseLoadgenArgs(['--fan-in', '5', '--spans-per-trace', '4'])).toThrow(/--fan-in: .*spans per trace/);
    expect(loadgenHelp()).toContain('--fan-in');
  });

  it('answers --help with undefined, and the help lists every flag', () => {
    expect(parseLoadgenArgs(['--help'])).toBeUndefined();
    for (const flag of ['--protocol', '--endpoint', '--signals', '--concurrency', '--rate', '--duration', '--json']) {
      expect(loadgenHelp()).toContain(flag);
    }
  });

  it('parses durations and signal mixes', () => {
    expect([parseDuration('500ms'), parseDuration('30s'), parseDuration('5m'), parseDuration('2'), parseDuration('x')]).toEqual([500, 30_000, 300_000, 2000, undefined]);
    expect(parseSignalMix('traces, metrics')).toEqual({ traces: 1, metrics: 1 });
    expect(parseSignalMix('logs=0')).toMatch(/above 0/);
  });
});
