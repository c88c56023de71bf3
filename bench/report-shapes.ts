// The report's sections on the traffic shapes: end to end against the raw limits, the psql
// commands that measure the stock-tool limit, the trace summaries' backlog, and the cost.

import { e2eRow, E2E_HEAD, f1, f2, mb, n, otherLoad, pct, storedMinusAcked, table } from './report-format.js';
import { psqlRatio } from './report-targets.js';
import type { BenchResults, ShapeResult } from './report.js';

const name = (s: ShapeResult): string => `${s.signal}: ${s.label}${s.reference ? ' ◆' : ''}`;
const seconds = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} s`);

export function shapeSections(r: BenchResults): string[] {
  const cores = r.machine.cores;
  const out: string[] = [
    '## 1. Traffic shapes: end to end vs the raw COPY limit',
    '',
    'End to end: the load generator sends OTLP/gRPC flat out to otlp-pg (a request refused as retryable is sent again after the server\'s hint, as SDKs do); rows/s is rows counted in the database after the run divided by the time from first send to last answer. ' +
      '**psql binary COPY** (the headline ratio): the rows that run stored, written to a file and loaded again by one `psql \\copy … FROM … WITH (FORMAT binary)` stream into the same table ' +
      '(same columns, indexes and partitions) of a fresh database; commands below. Each ratio uses the rows of its own shape (the attribute count changes the span rows; spans per trace changes only parent ids). ' +
      `**bench raw COPY**: the same requests decoded and mapped once, written by the project's write/ functions (COPY and dictionaries, summary parts appended; no folding) from the bench process on ${r.defaults.writers * r.defaults.workers} connections, batches of the server's size. ` +
      '◆ marks each signal\'s reference shape, the one the later sections measure.',
    '',
    table(
      ['shape', 'end-to-end rows/s', 'psql binary COPY rows/s', 'ratio', 'bench raw COPY rows/s', 'ratio', 'server µs/item', 'PostgreSQL µs/item', 'p99 ms', 'server peak RSS', 'stored − acked', 'other programs'],
      r.shapes.map((s) => {
        const ratio = psqlRatio(s);
        return [
          name(s), n(s.e2e.rowsPerSecond), s.psql ? n(s.psql.rowsPerSecond) : 'n/a', ratio === undefined ? 'n/a' : `**${f2(ratio)}**`,
          n(s.raw.rowsPerSecond), f2(s.e2e.rowsPerSecond / s.raw.rowsPerSecond), f1(s.e2e.serverUsPerItem), f1(s.e2e.postgresUsPerItem),
          f1(s.e2e.latencyMs.p99), mb(s.e2e.peakRssBytes), storedMinusAcked(s.e2e), otherLoad(s.e2e.cpu, cores),
        ];
      }),
    ),
    '',
  ];

  const withPsql = r.shapes.filter((s) => s.psql);
  if (withPsql.length > 0) {
    out.push(
      '### The psql limit, as anyone can rerun it',
      '',
      `One stream, \`${r.psqlVersion}\`, from the file to a database freshly migrated by otlp-pg (\`otlp-pg serve\` once, or the bench's own); timed from starting psql to its exit. ` +
        'The file was made from the database the end-to-end run wrote (at most the first rows of the table):',
      '',
    );
    const seen = new Set<string>();
    for (const s of withPsql) {
      const p = s.psql;
      if (!p || seen.has(p.table)) continue;
      seen.add(p.table);
      out.push('```sh', p.exportCommand, p.command, '```', '');
    }
    out.push(
      table(
        ['shape', 'rows', 'file', 'seconds', 'rows/s', 'PostgreSQL µs/row', 'psql µs/row', 'machine busy', 'other programs'],
        withPsql.map((s) => {
          const p = s.psql as NonNullable<ShapeResult['psql']>;
          return [name(s), n(p.rows), mb(p.fileBytes), f2(p.seconds), n(p.rowsPerSecond), f1((p.cpu.postgres * 1e6) / p.rows), f1((p.cpu.bench * 1e6) / p.rows), pct(p.cpu.machineBusy), otherLoad(p.cpu, cores)];
        }),
      ),
      '',
    );
  }

  const traces = r.shapes.filter((s) => s.signal === 'traces');
  if (traces.length > 0) {
    const bound = traces.find((s) => s.e2e.summaries)?.e2e.summaries?.drainBoundSeconds;
    out.push(
      '### Trace summaries off the acknowledgement path',
      '',
      'A batch commits its spans with one row of per-trace summary parts; otlp-pg folds committed parts into `traces` apart from the acknowledgements. ' +
        'Backlog: `SELECT count(*), sum(cardinality(trace_ids)) FROM trace_summary_parts` every 500 ms during the measured run, then polled after the load until empty' +
        `${bound === undefined ? '' : ` (for ${bound} s at most)`}; the measured CPU runs until then, so the folding is in the cost above. ` +
        'Lag: the server\'s histogram `otlp_pg_trace_summary_lag_seconds` (a batch\'s commit to its summaries committed in `traces`), over the measured run and the drain, quantiles interpolated within its buckets. n/a: the server or schema has neither.',
      '',
      table(
        ['shape', 'most traces waiting (parts)', 'waiting at the load\'s end', 'empty after', 'lag p50', 'lag p99', 'parts folded'],
        traces.map((s) => {
          const b = s.e2e.summaries;
          if (!b) return [name(s), 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a'];
          return [
            name(s), `${n(b.maxTraces)} (${n(b.maxParts)})`, n(b.endTraces), b.drainSeconds === undefined ? `**> ${b.drainBoundSeconds} s** (${n(b.leftTraces)} left)` : seconds(b.drainSeconds),
            seconds(b.lag?.p50), seconds(b.lag?.p99), b.lag ? n(b.lag.count) : 'n/a',
          ];
        }),
      ),
      '',
    );
  }

  out.push(
    '### Cost',
    '',
    'CPU per item committed, from /proc/<pid>/stat (utime + stime, all threads) over the measured run: the server is its primary process and its workers, PostgreSQL its postmaster and every backend. ' +
      "Peak RSS is the sum of the VmHWM of the server's processes (an upper bound of their simultaneous peak).",
    '',
    table(
      ['shape', ...E2E_HEAD, 'load generator µs/item'],
      r.shapes.map((s) => [name(s), ...e2eRow(s.e2e, cores), f1((s.e2e.cpu.bench * 1e6) / Math.max(s.e2e.committed, 1))]),
    ),
    '',
    table(
      ['bench raw COPY', 'rows/s', 'PostgreSQL µs/item', 'bench process µs/item', 'machine busy', 'other programs'],
      r.shapes.map((s) => [name(s), n(s.raw.rowsPerSecond), f1((s.raw.cpu.postgres * 1e6) / s.raw.items), f1((s.raw.cpu.bench * 1e6) / s.raw.items), pct(s.raw.cpu.machineBusy), otherLoad(s.raw.cpu, cores)]),
    ),
    '',
  );
  return out;
}
