// The report's section on issue 15's floods: many more senders than the server can serve at once,
// each retrying what it was refused as SDKs do, against the same shape with fewer senders.

import type { EndToEndResult } from './end-to-end.js';
import { f1, f2, mb, n, otherLoad, storedMinusAcked, table } from './report-format.js';
import type { BenchResults, FloodResult } from './report.js';

/** Refused attempts over attempts sent: the share of the flood the server turned away. */
export const shedShare = (x: EndToEndResult): number => (x.sentRequests > 0 ? x.refusedRequests / x.sentRequests : 0);

/** Committed rows/s under the flood over the shape's rate with fewer senders. */
export const floodRatio = (f: FloodResult): number => (f.best > 0 ? f.result.rowsPerSecond / f.best : 0);

export const floodName = (f: FloodResult): string => `${f.signal}: ${f.label}, ${n(f.senders)} senders over ${f.protocol}`;

export function floodSection(r: BenchResults): string[] {
  if (r.floods.length === 0) return [];
  return [
    '## 2. Floods: many senders flat out',
    '',
    'Each flood: a shape of section 1 sent flat out by many senders (the load generator\'s concurrency, over 4 connections), with the same fresh database, server defaults and timings as section 1. ' +
      'A request refused as retryable (gRPC UNAVAILABLE, HTTP 503) is sent again, the same bytes, after the server\'s retry hint (RetryInfo, Retry-After; 1 s without one, spread by ±50 %), as the SDKs do; ' +
      'the slot waits meanwhile, and each attempt counts as a request sent. ' +
      '"Best with fewer senders" is section 1\'s run of the same shape (OTLP/gRPC; its refusals, if any, retried the same way). "Share shed": refused attempts over attempts sent. ' +
      'Latency is of the successful attempts, each from its own send. Stored − acked must be 0: nothing answered "retry" may be committed.',
    '',
    table(
      ['shape', 'protocol', 'senders', 'committed rows/s', 'best with fewer senders: rows/s (senders)', 'ratio', 'share shed', 'p50 ms', 'p99 ms', 'server peak RSS', 'stored − acked', 'other programs'],
      r.floods.map((f) => [
        `${f.signal}: ${f.label}`, f.protocol, n(f.senders), n(f.result.rowsPerSecond), `${n(f.best)} (${n(f.bestSenders)})`, `${f2(floodRatio(f))} ×`,
        `${f1(shedShare(f.result) * 100)} %`, f1(f.result.latencyMs.p50), f1(f.result.latencyMs.p99), mb(f.result.peakRssBytes),
        storedMinusAcked(f.result), otherLoad(f.result.cpu, r.machine.cores),
      ]),
    ),
    '',
  ];
}
