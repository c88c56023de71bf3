// `npm run bench:stages`: CPU microseconds per item spent in each in-process stage of the ingest
// path (decode, map, COPY encoding) on the load generator's own requests, with no sockets and no
// database. The end-to-end bench says how fast the whole is; this says which stage to work on, and
// shows a change to one stage in seconds rather than minutes. Run alone on a quiet machine.

import { performance } from 'node:perf_hooks';
import { decodeRequest } from '../src/decode/index.js';
import type { Signal, SignalRequests } from '../src/decode/types.js';
import { buildTemplates } from '../src/loadgen/build-requests.js';
import { defaultLoadgenOptions } from '../src/loadgen/options.js';
import { mapLogs } from '../src/map/logs.js';
import { mapMetrics } from '../src/map/metrics.js';
import { mapTraces } from '../src/map/traces.js';
import type { Mapped } from '../src/map/types.js';
import { logCopyPayload } from '../src/write/logs.js';
import { pointCopyPayload } from '../src/write/metrics.js';
import { spanCopyPayload } from '../src/write/traces.js';

const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];
/** Requests per timed round; enough for a few hundred milliseconds per stage. */
const ROUNDS = 5;
const MIN_MS = 1500;

interface Stages<S extends Signal> {
  map(request: SignalRequests[S]): Mapped<unknown>;
  encode(rows: readonly unknown[]): Buffer | undefined;
}

const STAGES: { readonly [S in Signal]: Stages<S> } = {
  traces: { map: mapTraces, encode: (rows) => spanCopyPayload(rows as never) },
  logs: { map: mapLogs, encode: (rows) => logCopyPayload(rows as never) },
  metrics: { map: mapMetrics, encode: (rows) => pointCopyPayload(rows as never) },
};

/** CPU µs per call of `fn`, repeated for at least MIN_MS, best of ROUNDS (least disturbed). */
function cpuMicros(fn: () => void): number {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const until = performance.now() + MIN_MS / ROUNDS;
    const start = process.cpuUsage();
    let calls = 0;
    while (performance.now() < until) {
      fn();
      calls++;
    }
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / calls);
  }
  return best;
}

async function main(): Promise<void> {
  const options = defaultLoadgenOptions();
  const templates = await buildTemplates(SIGNALS, options);
  const rows: string[] = [];
  for (const signal of SIGNALS) {
    const template = templates.find((t) => t.signal === signal);
    if (!template) continue;
    const stages = STAGES[signal] as Stages<Signal>;
    const request = decodeRequest(signal, template.bytes, 'protobuf');
    const mapped = stages.map(request);
    // A batch as the writer sees it: as many requests as the default batch holds, give or take.
    const batch = Array.from({ length: Math.max(1, Math.round(2000 / template.items)) }, () => mapped.rows);
    const decode = cpuMicros(() => decodeRequest(signal, template.bytes, 'protobuf')) / template.items;
    const map = cpuMicros(() => stages.map(request)) / template.items;
    const encode = cpuMicros(() => stages.encode(batch)) / (template.items * batch.length);
    rows.push(`| ${signal} | ${template.items} | ${decode.toFixed(2)} | ${map.toFixed(2)} | ${encode.toFixed(2)} | ${(decode + map + encode).toFixed(2)} |`);
  }
  process.stdout.write(
    [
      `CPU µs per item, one process, no I/O (loadgen defaults: ${options.attributes} attributes per item)`,
      '',
      '| signal | items/request | decode | map | COPY text | total |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
