// The results of one bench run as data (written as JSON beside the report) and as the Markdown
// report: every figure in it comes from that run.

import type { Signal } from '../src/decode/types.js';
import type { TuningResult } from './tuning.js';
import type { RequestShape } from '../src/loadgen/build-requests.js';
import type { CopyVsInsertResult } from './copy-vs-insert.js';
import type { EndToEndResult } from './end-to-end.js';
import type { CpuDelta, Machine } from './proc.js';
import type { ProfileSummary } from './profile.js';
import type { QueryTiming } from './queries.js';

export interface RawResult {
  readonly rowsPerSecond: number;
  readonly items: number;
  readonly elapsedSeconds: number;
  readonly cpu: CpuDelta;
}

export interface SweepPoint {
  readonly signal: Signal;
  readonly kind: 'batch' | 'writers' | 'workers';
  readonly value: number;
  readonly result: EndToEndResult;
}

export interface BenchResults {
  readonly mode: 'full' | 'quick' | 'tuning';
  readonly command: string;
  readonly startedAt: string;
  durationSeconds: number;
  /** Time spent waiting for other programs to leave the cores before measurements. */
  quietWaitSeconds: number;
  /** Measurements repeated because other programs disturbed them (the least disturbed is kept). */
  reruns: number;
  readonly machine: Machine;
  readonly postgres: { readonly version: string; readonly embedded: boolean; readonly settings: Readonly<Record<string, string>> };
  readonly shape: RequestShape;
  /** The server defaults every scenario runs with unless it says otherwise. */
  readonly defaults: { readonly batch: Readonly<Record<Signal, number>>; readonly writers: number; readonly workers: number };
  readonly timings: { readonly warmupSeconds: number; readonly measureSeconds: number; readonly warmupRunSeconds: number };
  readonly headline: { readonly signal: Signal; readonly e2e: EndToEndResult; readonly raw: RawResult; readonly ratio: number }[];
  readonly latency: { readonly signal: Signal; readonly maxRate: number; readonly result: EndToEndResult }[];
  readonly transports: EndToEndResult[];
  /** Traces flat out with request digests recorded (--dedupe, the default) and without. */
  dedupe?: { readonly on: EndToEndResult; readonly off: EndToEndResult };
  copyVsInsert?: CopyVsInsertResult;
  readonly sweeps: SweepPoint[];
  queries?: { readonly spans: number; readonly logs: number; readonly points: number; readonly loadSeconds: number; readonly timings: QueryTiming[] };
  readonly profiles: { readonly signal: Signal; readonly rowsPerSecond: number; readonly processes: number; readonly summary: ProfileSummary }[];
  /** `--tuning`: traces flat out under PostgreSQL-side variations, against a baseline of the same run. */
  readonly tuning: TuningResult[];
}

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const f1 = (v: number): string => v.toFixed(1);
const mb = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
const ITEM: Readonly<Record<Signal, string>> = { traces: 'span', logs: 'log record', metrics: 'data point' };

/** A Markdown table; columns whose cells are all figures are right-aligned. */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const figure = /^(\*\*)?[-\d.,]+( ?[×%]| MB| ms| µs)?(\*\*)?$|^$/;
  const right = head.map((_, i) => i > 0 && rows.every((r) => figure.test(r[i] ?? '')));
  const out = [`| ${head.join(' | ')} |`, `|${right.map((r) => (r ? '---:' : '---')).join('|')}|`];
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  return out.join('\n');
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** The issue's targets against this run's figures (undefined: not measured in this run). */
export function targetChecks(r: BenchResults): TargetCheck[] {
  const h = (s: Signal) => r.headline.find((x) => x.signal === s);
  const traces = h('traces');
  const out: TargetCheck[] = [];
  if (traces) {
    out.push({ target: 'traces end-to-end ≥ 0.8 × raw COPY limit', measured: `${traces.ratio.toFixed(2)} × (${n(traces.e2e.rowsPerSecond)} of ${n(traces.raw.rowsPerSecond)} spans/s)`, met: traces.ratio >= 0.8 });
    out.push({ target: `traces end-to-end ≥ 25,000 spans/s (${r.shape.attributes}-attribute spans)`, measured: `${n(traces.e2e.rowsPerSecond)} spans/s`, met: traces.e2e.rowsPerSecond >= 25_000 });
  }
  const cpuTargets: [Signal, number][] = [['traces', 10], ['logs', 8], ['metrics', 5]];
  for (const [s, limit] of cpuTargets) {
    const x = h(s);
    if (x) out.push({ target: `server CPU ≤ ${limit} µs per ${ITEM[s]}`, measured: `${f1(x.e2e.serverUsPerItem)} µs`, met: x.e2e.serverUsPerItem <= limit });
  }
  for (const l of r.latency) {
    out.push({ target: `${l.signal}: p99 export latency ≤ 250 ms at 70 % of max rate`, measured: `${f1(l.result.latencyMs.p99)} ms at ${n(l.result.rate)}/s`, met: l.result.latencyMs.p99 <= 250 });
  }
  if (r.headline.length > 0) {
    const top = r.headline.map((x) => x.e2e).sort((a, b) => b.peakRssBytes - a.peakRssBytes)[0] as EndToEndResult;
    out.push({
      target: 'peak RSS ≤ 300 MB at max rate',
      measured: `${mb(top.peakRssBytes)} in ${top.serverProcesses} processes (${top.signal}; largest process ${mb(top.largestPeakRssBytes)})`,
      met: top.peakRssBytes <= 300 * 1024 ** 2,
    });
  }
  if (r.copyVsInsert) {
    const x = r.copyVsInsert.copyRowsPerSecond / r.copyVsInsert.insertRowsPerSecond;
    out.push({ target: 'COPY ≥ 10 × multi-row INSERT (spans)', measured: `${x.toFixed(1)} ×`, met: x >= 10 });
  }
  for (const re of [/trace by its hex id/i, /last 100 traces/i]) {
    const q = r.queries?.timings.find((t) => re.test(t.title));
    if (q && r.queries) {
      out.push({ target: `query p95 ≤ 10 ms: ${q.title} (${n(r.queries.spans)} spans stored)`, measured: `${q.p95Ms.toFixed(2)} ms`, met: q.p95Ms <= 10 && r.queries.spans >= 1_000_000 ? true : q.p95Ms <= 10 ? undefined : false });
    }
  }
  return out;
}

/** CPU used by other programs during a measurement, as a share of the machine; bold past 10 %. */
function otherLoad(cpu: CpuDelta, cores: number): string {
  const share = cpu.other / Math.max(cpu.seconds * cores, 1e-9);
  return share > 0.1 ? `**${pct(share)}**` : pct(share);
}

function e2eRow(x: EndToEndResult, cores: number): string[] {
  return [
    n(x.rowsPerSecond),
    f1(x.latencyMs.p50),
    f1(x.latencyMs.p99),
    f1(x.serverUsPerItem),
    f1(x.postgresUsPerItem),
    mb(x.peakRssBytes),
    pct(x.cpu.machineBusy),
    otherLoad(x.cpu, cores),
    x.refusedRequests === 0 ? '0' : `${x.refusedRequests} (${x.refusals})`,
    x.acked === x.committed ? 'yes' : `**no**: acked ${n(x.acked)}, stored ${n(x.committed)}`,
  ];
}

const E2E_HEAD = ['rows/s', 'p50 ms', 'p99 ms', 'server µs/item', 'PostgreSQL µs/item', 'server peak RSS', 'machine busy', 'other programs', 'refused requests', 'acked = stored'];

export function markdownReport(r: BenchResults): string {
  const s = r.shape;
  const lines: string[] = [];
  const push = (...l: string[]): void => void lines.push(...l);
  push(
    `# otlp-pg bench — ${r.mode} run`,
    '',
    `- When: ${r.startedAt} (took ${Math.round(r.durationSeconds)} s)`,
    `- Command: \`${r.command}\``,
    `- Machine: ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}, Node ${r.machine.node}`,
    `- PostgreSQL ${r.postgres.version} (${r.postgres.embedded ? 'embedded, same machine' : 'DATABASE_URL'}): ${Object.entries(r.postgres.settings).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    `- Requests (built once with the OpenTelemetry JS SDK, serialized by otlp-transformer, replayed with fresh trace ids and timestamps): ` +
      `${s.spansPerRequest} spans (${s.spansPerTrace} per trace), ${s.logsPerRequest} log records or ${s.pointsPerRequest} data points per request; ` +
      `${s.attributes} attributes of ${s.attributeSize} characters on each item; ${s.services} services; ${pct(s.errorRatio)} errors`,
    `- Server defaults: batch ${r.defaults.batch.traces} spans / ${r.defaults.batch.logs} logs / ${r.defaults.batch.metrics} points, ` +
      `${r.defaults.writers} writers in each of ${r.defaults.workers} worker(s) (--workers 0: one per core, or per two cores with PostgreSQL on the same machine), so ${r.defaults.writers * r.defaults.workers} concurrent COPYs. ` +
      `Each scenario: fresh database, otlp-pg started as a child process (\`node dist/cli/index.js serve\`), ${r.timings.warmupSeconds} s warm-up, ${r.timings.measureSeconds} s measured. ` +
      `The run starts with ${r.timings.warmupRunSeconds} s of traces flat out, not measured: a fresh PostgreSQL creates its WAL files as it first fills them, and recycles them afterwards.`,
    '',
    `**All ${r.machine.cores} cores are shared** by otlp-pg, PostgreSQL and the load generator (and by anything else running: ` +
      `"other programs" is the share of the machine used during a measurement by processes that are none of the three, in bold past 10 %: ` +
      `such figures were disturbed). Each scenario waits for the machine to be quiet before it starts (${Math.round(r.quietWaitSeconds)} s waited in all), ` +
      `and a disturbed measurement is taken again while the run's budget lasts, keeping the less disturbed (${r.reruns} taken again). ` +
      'One run per figure: figures are from this machine and this run only.',
    '',
  );
  if (r.mode === 'tuning') {
    const base = (signal: Signal): number => r.tuning.find((t) => t.signal === signal)?.result.rowsPerSecond ?? 0;
    push(
      '## PostgreSQL-side choices (OTLP/gRPC flat out)',
      '',
      'Each row: a fresh database, otlp-pg with its defaults, one change. "vs defaults" is rows/s against the first row of the same signal in this run.',
      '',
      table(
        ['signal', 'change', 'why it matters', 'vs defaults', ...E2E_HEAD],
        r.tuning.map((t) => [
          t.signal,
          t.label,
          t.why,
          base(t.signal) ? `${(t.result.rowsPerSecond / base(t.signal)).toFixed(2)} ×` : '',
          ...e2eRow(t.result, r.machine.cores),
        ]),
      ),
    );
    return lines.join('\n');
  }
  push(
    '## Targets',
    '',
    table(['target', 'measured', 'met'], targetChecks(r).map((t) => [t.target, t.measured, t.met === undefined ? 'n/a (quick mode: too few rows)' : t.met ? 'yes' : '**no**'])),
    '',
    '## 1. End-to-end vs the raw COPY limit',
    '',
    'End-to-end: the load generator sends OTLP/gRPC flat out to otlp-pg; rows/s is rows counted in the database after the run divided by the time from first send to last answer. ' +
      'Raw COPY limit: the same rows (the same requests decoded by src/decode and mapped by src/map, varied the same way) written by the project\'s write/ functions from the bench process, ' +
      `in batches of the same size on as many connections as the server writes on (${r.defaults.writers * r.defaults.workers}), one transaction per batch, no OTLP in front.`,
    '',
    table(
      ['signal', 'end-to-end rows/s', 'raw COPY rows/s', 'ratio', 'concurrency'],
      r.headline.map((h) => [h.signal, n(h.e2e.rowsPerSecond), n(h.raw.rowsPerSecond), h.ratio.toFixed(2), String(h.e2e.concurrency)]),
    ),
    '',
    '## 2. Cost',
    '',
    'CPU per item committed, from /proc/<pid>/stat (utime + stime, all threads) over the measured run: the server is its primary process and its workers, PostgreSQL its postmaster and every backend. ' +
      "Peak RSS is the sum of the VmHWM of the server's processes (an upper bound of their simultaneous peak).",
    '',
    table(['signal', ...E2E_HEAD, 'load generator µs/item'], r.headline.map((h) => [h.signal, ...e2eRow(h.e2e, r.machine.cores), f1((h.e2e.cpu.bench * 1e6) / Math.max(h.e2e.committed, 1))])),
    '',
    table(
      ['raw COPY', 'rows/s', 'PostgreSQL µs/item', 'bench process µs/item', 'machine busy', 'other programs'],
      r.headline.map((h) => [h.signal, n(h.raw.rowsPerSecond), f1((h.raw.cpu.postgres * 1e6) / h.raw.items), f1((h.raw.cpu.bench * 1e6) / h.raw.items), pct(h.raw.cpu.machineBusy), otherLoad(h.raw.cpu, r.machine.cores)]),
    ),
    '',
    '## 3. Export latency at 70 % of the maximum rate',
    '',
    table(
      ['signal', 'max rows/s (above)', 'target rows/s', 'achieved rows/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'server µs/item', 'server peak RSS', 'other programs'],
      r.latency.map((l) => [
        l.signal, n(l.maxRate), n(l.result.rate), n(l.result.rowsPerSecond), f1(l.result.latencyMs.p50), f1(l.result.latencyMs.p90),
        f1(l.result.latencyMs.p99), f1(l.result.latencyMs.max), f1(l.result.serverUsPerItem), mb(l.result.peakRssBytes), otherLoad(l.result.cpu, r.machine.cores),
      ]),
    ),
    '',
  );
  if (r.transports.length > 0) {
    push('### Transports (traces, flat out)', '', table(['transport', ...E2E_HEAD], r.transports.map((x) => [x.protocol, ...e2eRow(x, r.machine.cores)])), '');
  }
  if (r.dedupe) {
    const { on, off } = r.dedupe;
    push(
      '### Request-digest dedupe (traces, flat out)',
      '',
      `The cost of recording every committed request's digest in its transaction (\`--dedupe\`, the default) against plain COPY (\`--dedupe false\`): ${((1 - on.rowsPerSecond / off.rowsPerSecond) * 100).toFixed(1)} % of the rows/s.`,
      '',
      table(['dedupe', ...E2E_HEAD], [['on (default)', ...e2eRow(on, r.machine.cores)], ['off', ...e2eRow(off, r.machine.cores)]]),
      '',
    );
  }
  if (r.copyVsInsert) {
    const c = r.copyVsInsert;
    push(
      '## 4. COPY vs multi-row INSERT (spans)',
      '',
      `${n(c.rows)} span rows into trace_spans of a fresh database each way, batches of ${n(c.batchRows)} rows, one transaction per batch, ${c.connections} connections. ` +
        'COPY is write/traces.ts given spans only; INSERT is one prepared multi-row INSERT … VALUES per batch with bound parameters.',
      '',
      table(['method', 'rows/s'], [['COPY (text)', n(c.copyRowsPerSecond)], ['multi-row INSERT', n(c.insertRowsPerSecond)], ['COPY / INSERT', `${(c.copyRowsPerSecond / c.insertRowsPerSecond).toFixed(1)} ×`]]),
      '',
    );
  }
  if (r.sweeps.length > 0) {
    push('## 5. Sweeps', '', 'Flat out over OTLP/gRPC, one setting changed from the defaults at a time.', '');
    const titles = {
      batch: ['Batch size (--batch-spans / --batch-logs / --batch-points)', 'batch items'],
      writers: ['Writers per worker (--writers)', 'writers'],
      workers: ['Receiver processes (--workers)', 'workers'],
    } as const;
    for (const kind of ['batch', 'writers', 'workers'] as const) {
      const pts = r.sweeps.filter((p) => p.kind === kind);
      if (pts.length === 0) continue;
      push(`### ${titles[kind][0]}`, '');
      push(table(['signal', titles[kind][1], ...E2E_HEAD], pts.map((p) => [p.signal, n(p.value), ...e2eRow(p.result, r.machine.cores)])), '');
    }
    push(
      '### Best settings measured',
      '',
      table(['signal', 'best batch (rows/s)', 'best writers (rows/s)', 'best workers (rows/s)', 'defaults (batch, writers, workers)'], bestSettings(r)),
      '',
    );
    push('"Best" is the highest rows/s; a setting within 3 % of it with lower p99 latency is preferred. One run per point: differences of a few percent are noise on a shared machine.', '');
  }
  if (r.queries) {
    const q = r.queries;
    push(
      '## 6. README queries',
      '',
      `${n(q.spans)} spans, ${n(q.logs)} log records and ${n(q.points)} data points stored (by the write/ functions, ${f1(q.loadSeconds)} s), then ANALYZE. ` +
        `Each query of the README run ${q.timings[0]?.runs ?? 0} times after warm-up, one at a time, timed at the client over loopback.${r.mode === 'quick' ? ' **Quick mode: fewer rows than the 1M of the targets.**' : ''}`,
      '',
      table(['query', 'rows returned (mean)', 'p50 ms', 'p95 ms', 'max ms', 'note'], q.timings.map((t) => [t.title, n(t.rows), t.p50Ms.toFixed(2), t.p95Ms.toFixed(2), t.maxMs.toFixed(2), t.note])),
      '',
    );
  }
  if (r.profiles.length > 0) {
    push(
      '## 7. Where the server spends its CPU',
      '',
      'The flat-out run repeated with `node --cpu-prof` on the server (profiling slows it), counting only the samples of the measured run. ' +
        "Self time as a share of the main threads' busy time, summed over the primary and its workers; \"GC\" is V8's collector, \"native/builtins\" is V8 builtins and C++ with no script behind them.",
      '',
    );
    for (const p of r.profiles) {
      push(
        `### ${p.signal} (${n(p.rowsPerSecond)} rows/s while profiled; ${p.processes} processes, main threads ${n(p.summary.busyMs)} ms busy, ${n(p.summary.idleMs)} ms idle)`,
        '',
        table(
          ['stage (with what it calls)', 'share', 'ms', '', 'area (self time)', 'share', 'ms'],
          Array.from({ length: Math.min(12, Math.max(p.summary.stages.length, p.summary.areas.length)) }, (_, i) => {
            const st = p.summary.stages[i];
            const ar = p.summary.areas[i];
            return [st?.name ?? '', st ? pct(st.share) : '', st ? n(st.ms) : '', '', ar?.name ?? '', ar ? pct(ar.share) : '', ar ? n(ar.ms) : ''];
          }),
        ),
        '',
        table(['function', 'share', 'ms'], p.summary.functions.slice(0, 20).map((a) => [`\`${a.name}\``, pct(a.share), n(a.ms)])),
        '',
      );
    }
  }
  return lines.join('\n');
}

/** Per signal: the sweep values with the highest rows/s (near-ties go to the lower p99). */
export function bestSettings(r: BenchResults): string[][] {
  const best = (pts: SweepPoint[]): SweepPoint | undefined => {
    const top = Math.max(...pts.map((p) => p.result.rowsPerSecond));
    return pts.filter((p) => p.result.rowsPerSecond >= top * 0.97).sort((a, b) => a.result.latencyMs.p99 - b.result.latencyMs.p99)[0];
  };
  const out: string[][] = [];
  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    const cell = (kind: SweepPoint['kind']): string => {
      const b = best(r.sweeps.filter((p) => p.signal === signal && p.kind === kind));
      return b ? `${n(b.value)} (${n(b.result.rowsPerSecond)})` : '–';
    };
    if (!r.sweeps.some((p) => p.signal === signal)) continue;
    out.push([signal, cell('batch'), cell('writers'), cell('workers'), `${n(r.defaults.batch[signal])}, ${r.defaults.writers}, ${r.defaults.workers}`]);
  }
  return out;
}

/** The few lines printed at the end of a run. */
export function consoleSummary(r: BenchResults): string {
  const lines = [`otlp-pg bench (${r.mode}): ${r.machine.cores} cores shared by server, PostgreSQL ${r.postgres.version} and load generator`];
  for (const t of r.tuning) lines.push(`  ${t.signal.padEnd(8)} ${t.label.padEnd(40)} ${n(t.result.rowsPerSecond).padStart(7)} rows/s`);
  if (r.mode === 'tuning') return lines.join('\n');
  for (const h of r.headline) {
    lines.push(
      `  ${h.signal.padEnd(8)} end-to-end ${n(h.e2e.rowsPerSecond).padStart(7)} rows/s = ${h.ratio.toFixed(2)} × raw COPY ${n(h.raw.rowsPerSecond)}/s;` +
        ` server ${f1(h.e2e.serverUsPerItem)} µs/${ITEM[h.signal]}, peak RSS ${mb(h.e2e.peakRssBytes)}`,
    );
  }
  lines.push('', 'targets:');
  for (const t of targetChecks(r)) lines.push(`  ${t.met === undefined ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.target}: ${t.measured}`);
  return lines.join('\n');
}
