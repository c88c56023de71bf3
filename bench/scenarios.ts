// The traffic shapes the bench measures (issue 11): what users send, not one shape. Each is the
// load generator's defaults (requests of BASE_SHAPE's sizes) with a few fields changed.

import type { Signal } from '../src/decode/types.js';
import type { RequestShape } from '../src/loadgen/build-requests.js';

export interface Scenario {
  readonly signal: Signal;
  /** What it is, in the report's words. */
  readonly label: string;
  /** A few characters for the chart's axis. */
  readonly short: string;
  readonly shape: Partial<RequestShape>;
  /** The signal's shape for everything measured once per signal (latency, sweeps, profile…). */
  readonly reference?: boolean;
}

/**
 * Changed from the load generator's defaults for every scenario: 512 spans per request is what
 * the OpenTelemetry SDKs' batch span processor exports at most (maxExportBatchSize), and what the
 * issue's first measurement sent.
 */
export const BASE_SHAPE: Partial<RequestShape> = { spansPerRequest: 512 };

export const SCENARIOS: readonly Scenario[] = [
  // A request carries spans of many traces: an edge service's SDK exports whole one-span traces;
  // deeper in a call graph each service's SDK exports a few spans of each of many traces.
  { signal: 'traces', label: '1 span per trace', short: '1/trace', shape: { spansPerTrace: 1 } },
  { signal: 'traces', label: '3 spans per trace', short: '3/trace', shape: { spansPerTrace: 3 } },
  { signal: 'traces', label: '10 spans per trace', short: '10/trace', shape: { spansPerTrace: 10 }, reference: true },
  { signal: 'traces', label: '100 spans per trace', short: '100/trace', shape: { spansPerTrace: 100 } },
  {
    signal: 'traces',
    label: 'fan-in: traces of 10 spans from 5 services, each request one service\'s spans',
    short: 'fan-in 5',
    shape: { spansPerTrace: 10, fanIn: 5 },
  },
  { signal: 'traces', label: '5 attributes per span (10 spans per trace)', short: '5 attrs', shape: { spansPerTrace: 10, attributes: 5 } },
  { signal: 'traces', label: '20 attributes per span (10 spans per trace)', short: '20 attrs', shape: { spansPerTrace: 10, attributes: 20 } },
  // A Collector forwarding the logs of many pods: each record its own resource, or batches of 50.
  { signal: 'logs', label: '1 record per resource', short: 'logs 1/res', shape: { logsPerResource: 1 } },
  { signal: 'logs', label: '50 records per resource', short: 'logs 50/res', shape: { logsPerResource: 50 }, reference: true },
  { signal: 'metrics', label: 'few series (the same 4 streams per service every request)', short: 'few series', shape: {}, reference: true },
  { signal: 'metrics', label: 'new series (every data point a stream never seen before)', short: 'new series', shape: { newSeries: true } },
];

export const referenceScenario = (signal: Signal): Scenario =>
  SCENARIOS.find((s) => s.signal === signal && s.reference) as Scenario;
