#!/usr/bin/env -S node --initial-heap-size=128
// The compiled CLI: `npm run build` makes dist/, and `npm start` builds first.
//
// The flags above are the ones otlp-pg runs with (`npm start` passes the same; bench/server-process.ts
// reads them from here, and a test holds the two equal). --initial-heap-size: V8 otherwise starts the
// heap small and, with a few tens of MB live, ran a full mark-compact every 200–400 ms under load (55 in
// a 20 s run); measured in paired runs of `otlp-pg serve` against `otlp-pg loadgen --signals traces
// --spans 512 --concurrency 32`: 22 mark-compacts, 12.3/10.6 → 8.8/8.6 µs of CPU per span, 50,113/57,616
// → 61,615/61,184 spans/s, for 26–30 MB more peak RSS (docs/TUNING.md).
import '../dist/cli/index.js';
