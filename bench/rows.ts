// The rows of the raw COPY limit: the load generator's own requests, decoded by src/decode and
// mapped by src/map once, then handed out as fresh copies that vary exactly as the load generator
// varies its bytes on each send (trace ids XORed with the send's number, timestamps moved to the
// send time, metric name tokens rewritten, the parts of a fan-in group sent with one key). So the
// limit writes the same rows the server writes, without paying for decoding and mapping on the
// bench's side of the two shared cores.

import { decodeRequest } from '../src/decode/index.js';
import type { Signal } from '../src/decode/types.js';
import { buildTemplates, type RequestShape } from '../src/loadgen/build-requests.js';
import { SendKeys } from '../src/loadgen/replay.js';
import { variedNameToken, variedTraceId, type Template } from '../src/loadgen/template.js';
import { mapLogs } from '../src/map/logs.js';
import { mapMetrics } from '../src/map/metrics.js';
import { mapTraces } from '../src/map/traces.js';
import type { LogRows, MetricRows, TraceRows } from '../src/map/types.js';

export interface SignalRows {
  traces: TraceRows;
  logs: LogRows;
  metrics: MetricRows;
}

/** Hands out the rows of one request at a time, each as if freshly sent. */
export interface RowSource<S extends Signal> {
  readonly signal: S;
  readonly itemsPerRequest: number;
  next(): SignalRows[S];
}

const vary = (id: Uint8Array, seq: bigint): Uint8Array => variedTraceId(id, seq);

/** Event times sit inside the events jsonb text; only spans with events (errors) have any. */
function shiftEvents(events: string, shift: bigint): string {
  if (events === '[]') return events;
  return events.replace(/"time_unix_nano":"(\d+)"/g, (_m, t: string) => `"time_unix_nano":"${BigInt(t) + shift}"`);
}

function freshTraces(r: TraceRows, seq: bigint, shift: bigint): TraceRows {
  return {
    resources: r.resources,
    scopes: r.scopes,
    spans: r.spans.map((s) => ({
      ...s,
      traceId: vary(s.traceId, seq),
      startTimeUnixNano: s.startTimeUnixNano + shift,
      endTimeUnixNano: s.endTimeUnixNano + shift,
      events: shiftEvents(s.events, shift),
    })),
    traces: r.traces.map((t) => ({
      ...t,
      traceId: vary(t.traceId, seq),
      startTimeUnixNano: t.startTimeUnixNano + shift,
      endTimeUnixNano: t.endTimeUnixNano + shift,
    })),
  };
}

function freshLogs(r: LogRows, seq: bigint, shift: bigint): LogRows {
  return {
    resources: r.resources,
    scopes: r.scopes,
    logs: r.logs.map((l) => ({
      ...l,
      traceId: l.traceId === null ? null : vary(l.traceId, seq),
      timestampUnixNano: l.timestampUnixNano + shift,
      timeUnixNano: l.timeUnixNano === 0n ? 0n : l.timeUnixNano + shift,
      observedTimeUnixNano: l.observedTimeUnixNano === 0n ? 0n : l.observedTimeUnixNano + shift,
    })),
  };
}

/** A metric named with a token (--new-series) is a new stream on every send: new name, new id. */
const NAME_TOKEN = /\.([0-9a-f]{16})$/;

function freshMetrics(r: MetricRows, seq: bigint, shift: bigint): MetricRows {
  // The server's id is a hash of the stream's identity; any id unique per stream and send does
  // for the limit, and XOR with the send's number costs no hashing on the bench's cores.
  const newStream = (id: bigint): bigint => BigInt.asIntN(64, id ^ seq);
  const renamed = r.metrics.some((m) => NAME_TOKEN.test(m.name));
  return {
    ...r,
    metrics: renamed
      ? r.metrics.map((m) => {
          const token = NAME_TOKEN.exec(m.name)?.[1];
          if (token === undefined) return m;
          return { ...m, metricId: newStream(m.metricId), name: `${m.name.slice(0, -16)}${variedNameToken(BigInt(`0x${token}`), seq)}` };
        })
      : r.metrics,
    points: r.points.map((p) => ({
      ...p,
      ...(renamed ? { metricId: newStream(p.metricId) } : {}),
      timeUnixNano: p.timeUnixNano + shift,
      startTimeUnixNano: p.startTimeUnixNano + shift,
    })),
  };
}

const MAP = {
  traces: (body: Uint8Array) => mapTraces(decodeRequest('traces', body, 'protobuf')).rows,
  logs: (body: Uint8Array) => mapLogs(decodeRequest('logs', body, 'protobuf')).rows,
  metrics: (body: Uint8Array) => mapMetrics(decodeRequest('metrics', body, 'protobuf')).rows,
} as const;

const FRESH: { readonly [S in Signal]: (rows: SignalRows[S], seq: bigint, shift: bigint) => SignalRows[S] } = {
  traces: freshTraces,
  logs: freshLogs,
  metrics: freshMetrics,
};

/** The requests `otlp-pg loadgen` would send for `signal` with `shape`, as rows. */
export async function rowSource<S extends Signal>(signal: S, shape: RequestShape): Promise<RowSource<S>> {
  const builtAtMs = Date.now();
  const templates = await buildTemplates([signal], shape, builtAtMs);
  const mapped = templates.map((t) => MAP[signal](t.bytes) as SignalRows[S]);
  const items = templates[0]?.items ?? 0;
  const keys = new SendKeys(builtAtMs);
  let next = 0;
  return {
    signal,
    itemsPerRequest: items,
    next() {
      const i = next++ % mapped.length;
      const { seq, shiftNs } = keys.next(templates[i] as Template);
      return FRESH[signal](mapped[i] as SignalRows[S], seq, shiftNs);
    },
  };
}
