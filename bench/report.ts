// The results of one bench run as data (written as JSON beside the report) and as the Markdown
// report: every figure in it comes from that run. The shape sections, the floods and the targets are
// in report-shapes.ts, report-floods.ts and report-targets.ts.

import type { Signal } from '../src/decode/types.js';
import type { RequestShape } from '../src/loadgen/build-requests.js';
import type { CopyVsInsertResult } from './copy-vs-insert.js';
import type { EndToEndResult } from './end-to-end.js';
import type { CpuDelta, Machine } from './proc.js';
import type { ProfileSummary } from './profile.js';
import type { PsqlCopyResult } from './psql-copy.js';
import type { QueryTiming } from './queries.js';
import { floodRatio, floodSection, shedShare } from './report-floods.js';
import { e2eRow, E2E_HEAD, f1, f2, ITEM, mb, n, otherLoad, pct, table } from './report-format.js';
import { shapeSections } from './report-shapes.js';
import { psqlRatio, targetChecks } from './report-targets.js';
import type { TuningResult } from './tuning.js';

export interface RawResult {
  readonly rowsPerSecond: number;
  readonly items: number;
  readonly elapsedSeconds: number;
  readonly cpu: CpuDelta;
}

/** One traffic shape: end to end, and the raw limits of its rows. */
export interface ShapeResult {
  readonly signal: Signal;
  readonly label: string;
  readonly short: string;
  /** What differs from the run's request shape. */
  readonly shape: Partial<RequestShape>;
  readonly reference: boolean;
  readonly e2e: EndToEndResult;
  /** One-stream psql binary COPY of the rows the end-to-end run stored (undefined: none stored). */
  readonly psql: PsqlCopyResult | undefined;
  /** The bench's own raw COPY through the project's write/ functions. */
  readonly raw: RawResult;
}

/** Issue 15: one shape flat out from many senders retrying their refusals, against section 1's run of it. */
export interface FloodResult {
  readonly signal: Signal;
  readonly label: string;
  readonly short: string;
  readonly senders: number;
  readonly protocol: string;
  /** Rows/s of the shape's run in section 1, with fewer senders. */
  readonly best: number;
  readonly bestSenders: number;
  readonly result: EndToEndResult;
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
  /** `psql --version`: the client of the stock-tool limit. */
  readonly psqlVersion: string;
  /** The request shape every scenario starts from. */
  readonly shape: RequestShape;
  /** The server defaults every scenario runs with unless it says otherwise. */
  readonly defaults: { readonly batch: Readonly<Record<Signal, number>>; readonly writers: number; readonly workers: number };
  readonly timings: { readonly warmupSeconds: number; readonly measureSeconds: number; readonly warmupRunSeconds: number };
  /** What this mode leaves out, and why. */
  readonly omitted: readonly string[];
  readonly shapes: ShapeResult[];
  readonly floods: FloodResult[];
  readonly latency: { readonly signal: Signal; readonly label: string; readonly maxRate: number; readonly result: EndToEndResult }[];
  readonly transports: EndToEndResult[];
  copyVsInsert?: CopyVsInsertResult;
  readonly sweeps: SweepPoint[];
  queries?: { readonly spans: number; readonly logs: number; readonly points: number; readonly loadSeconds: number; readonly timings: QueryTiming[] };
  readonly profiles: { readonly signal: Signal; readonly label: string; readonly rowsPerSecond: number; readonly processes: number; readonly summary: ProfileSummary }[];
  /** `--tuning`: traces flat out under PostgreSQL-side variations, against a baseline of the same run. */
  readonly tuning: TuningResult[];
}

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
      `${s.spansPerRequest} spans, ${s.logsPerRequest} log records or ${s.pointsPerRequest} data points per request; ` +
      `${s.attributes} attributes of ${s.attributeSize} characters on each item; ${s.services} services; ${pct(s.errorRatio)} errors; each shape below changes a few of these`,
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
    ...(r.omitted.length > 0 ? ['Left out of this run:', '', ...r.omitted.map((o) => `- ${o}`), ''] : []),
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
    ...shapeSections(r),
    ...floodSection(r),
    '## 3. Export latency at 70 % of the maximum rate',
    '',
    'Each signal\'s reference shape at 70 % of its rows/s above, open loop: a request\'s latency runs from when it was due, so a send held back by a slow answer counts its wait (no coordinated omission). ' +
      '"behind": items due before the end that were never sent (the rate was not kept).',
    '',
    table(
      ['shape', 'max rows/s (above)', 'target rows/s', 'achieved rows/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'send delay p99 ms', 'behind', 'server µs/item', 'server peak RSS', 'other programs'],
      r.latency.map((l) => [
        `${l.signal}: ${l.label}`, n(l.maxRate), n(l.result.rate), n(l.result.rowsPerSecond), f1(l.result.latencyMs.p50), f1(l.result.latencyMs.p90),
        f1(l.result.latencyMs.p99), f1(l.result.latencyMs.max), f1(l.result.sendDelayMs.p99), n(l.result.behindItems), f1(l.result.serverUsPerItem),
        mb(l.result.peakRssBytes), otherLoad(l.result.cpu, r.machine.cores),
      ]),
    ),
    '',
  );
  if (r.transports.length > 0) {
    push('### Transports (traces, flat out)', '', table(['transport', ...E2E_HEAD], r.transports.map((x) => [x.protocol, ...e2eRow(x, r.machine.cores)])), '');
  }
  if (r.copyVsInsert) {
    const c = r.copyVsInsert;
    push(
      '## 4. COPY vs multi-row INSERT (spans)',
      '',
      `${n(c.rows)} span rows into trace_spans of a fresh database each way, batches of ${n(c.batchRows)} rows, one transaction per batch, ${c.connections} connections. ` +
        'COPY is write/traces.ts given spans only; INSERT is one prepared multi-row INSERT … VALUES per batch with bound parameters.',
      '',
      table(['method', 'rows/s'], [['COPY (write/traces.ts)', n(c.copyRowsPerSecond)], ['multi-row INSERT', n(c.insertRowsPerSecond)], ['COPY / INSERT', `${(c.copyRowsPerSecond / c.insertRowsPerSecond).toFixed(1)} ×`]]),
      '',
    );
  }
  if (r.sweeps.length > 0) {
    push('## 5. Sweeps', '', "Flat out over OTLP/gRPC, each signal's reference shape, one setting changed from the defaults at a time.", '');
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
        `### ${p.signal}: ${p.label} (${n(p.rowsPerSecond)} rows/s while profiled; ${p.processes} processes, main threads ${n(p.summary.busyMs)} ms busy, ${n(p.summary.idleMs)} ms idle)`,
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
  for (const s of r.shapes) {
    const ratio = psqlRatio(s);
    lines.push(
      `  ${`${s.signal}: ${s.short}`.padEnd(20)} ${n(s.e2e.rowsPerSecond).padStart(7)} rows/s = ${ratio === undefined ? 'n/a' : ratio.toFixed(2)} × psql binary COPY;` +
        ` server ${f1(s.e2e.serverUsPerItem)} µs/${ITEM[s.signal]}, peak RSS ${mb(s.e2e.peakRssBytes)}`,
    );
  }
  for (const f of r.floods) {
    lines.push(
      `  ${`${f.signal}: ${f.short}`.padEnd(20)} ${n(f.result.rowsPerSecond).padStart(7)} rows/s from ${f.senders} senders (${f.protocol}) = ${f2(floodRatio(f))} × from ${f.bestSenders};` +
        ` ${f1(shedShare(f.result) * 100)} % shed, p99 ${f1(f.result.latencyMs.p99)} ms, peak RSS ${mb(f.result.peakRssBytes)}`,
    );
  }
  lines.push('', 'targets:');
  for (const t of targetChecks(r)) lines.push(`  ${t.met === undefined ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.target}: ${t.measured}`);
  return lines.join('\n');
}
