// `npm run bench:stages`: CPU microseconds per item spent in each in-process stage of the ingest
// path (decode, map, COPY encoding) on the load generator's own requests, with no sockets and no
// database. The end-to-end bench says how fast the whole is; this says which stage to work on, and
// shows a change to one stage in seconds rather than minutes. Run alone on a quiet machine. Takes the
// load generator's shape flags (`npm run bench:stages -- --logs-per-resource 1 --spans-per-trace 1`).

import { performance } from 'node:perf_hooks';
import { decodeRequest, HeadMemo } from '../src/decode/index.js';
import type { Signal, SignalRequests } from '../src/decode/types.js';
import { buildTemplates } from '../src/loadgen/build-requests.js';
import { defaultLoadgenOptions, parseLoadgenArgs } from '../src/loadgen/options.js';
import { DictionaryMemo } from '../src/map/dictionary.js';
import { mapLogs } from '../src/map/logs.js';
import { mapMetrics } from '../src/map/metrics.js';
import { mapTraces } from '../src/map/traces.js';
import type { Mapped } from '../src/map/types.js';
import { encodeLogs } from '../src/write/logs.js';
import { encodeMetrics } from '../src/write/metrics.js';
import { encodeTraces } from '../src/write/traces.js';

const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];
/** Each stage is timed in ROUNDS rounds that together last MIN_MS; the least disturbed round counts. */
const ROUNDS = 5;
const MIN_MS = 1500;

interface Stages<S extends Signal> {
  map(request: SignalRequests[S]): Mapped<unknown>;
  encode(rows: unknown): unknown;
}

// As in the server: resources and scopes a request repeats are decoded and made into rows once.
const heads = new HeadMemo();
const dictionary = new DictionaryMemo();

const STAGES: { readonly [S in Signal]: Stages<S> } = {
  traces: { map: (request) => mapTraces(request, dictionary), encode: (rows) => encodeTraces(rows as never) },
  logs: { map: (request) => mapLogs(request, dictionary), encode: (rows) => encodeLogs(rows as never) },
  metrics: { map: (request) => mapMetrics(request, dictionary), encode: (rows) => encodeMetrics(rows as never) },
};

/** CPU µs per call of `fn`: the lowest of ROUNDS rounds of MIN_MS / ROUNDS each. */
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
  const shape = process.argv.slice(2);
  const options = parseLoadgenArgs(shape) ?? defaultLoadgenOptions();
  const templates = await buildTemplates(SIGNALS, options);
  const rows: string[] = [];
  for (const signal of SIGNALS) {
    const template = templates.find((t) => t.signal === signal);
    if (!template) continue;
    const stages = STAGES[signal] as Stages<Signal>;
    const request = decodeRequest(signal, template.bytes, 'protobuf', heads);
    const decode = cpuMicros(() => decodeRequest(signal, template.bytes, 'protobuf', heads)) / template.items;
    const map = cpuMicros(() => stages.map(request)) / template.items;
    // Encoding what was just mapped, as the server does: fresh strings each time (encoding the
    // same rows again would find their strings already flattened by the first time).
    const encode = cpuMicros(() => stages.encode(stages.map(request).rows)) / template.items - map;
    rows.push(`| ${signal} | ${template.items} | ${decode.toFixed(2)} | ${map.toFixed(2)} | ${encode.toFixed(2)} | ${(decode + map + encode).toFixed(2)} |`);
  }
  process.stdout.write(
    [
      `CPU µs per item, one process, no I/O (the load generator's requests${shape.length > 0 ? `, ${shape.join(' ')}` : ', its defaults'}: ${options.attributes} attributes per item)`,
      '',
      '| signal | items/request | decode | map | COPY binary | total |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
