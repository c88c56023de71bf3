// `npx tsx bench/copy-format.ts [--rows N] [--rounds N]`: COPY text vs COPY binary. The same
// rows of each signal (the load generator's requests, mapped once: bench/rows.ts) go into the real
// schema in one COPY stream per run, one transaction, one request per part as the writer sends a
// batch; each run reports
//   - PostgreSQL: CPU µs per row of the backend that ran the COPY (/proc/<pg_backend_pid()>/stat),
//   - encoder:    CPU µs per row of encoding the rows (the least of three passes over the same rows),
//   - send:       CPU µs per row of this process while it streamed the payload,
// and the payload size. Each run is a child process of its own, so the row writers see one encoder
// class only, as in the server. Runs alternate the order of the formats; the table is emptied and
// a checkpoint taken before each. Run on a quiet machine: other programs disturb the CPU times.

import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Signal } from '../src/decode/types.js';
import { defaultLoadgenOptions } from '../src/loadgen/options.js';
import { copyBinary, type CopyRowWriter } from '../src/write/copy-binary.js';
import { copyIn } from '../src/write/copy-stream.js';
import { copyText } from '../src/write/copy-text.js';
import { LOG_COLUMNS, writeLogs } from '../src/write/logs.js';
import { POINT_COLUMNS, writePoints } from '../src/write/metrics.js';
import { SPAN_COLUMNS, writeSpans } from '../src/write/traces.js';
import { freshDatabase, startBenchServer } from './database.js';
import { cpuSeconds, machineCpu, waitForQuiet } from './proc.js';
import { rowSource, type SignalRows } from './rows.js';

const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];
const FORMATS = ['text', 'binary'] as const;
type Format = (typeof FORMATS)[number];
const ENCODE_PASSES = 3;
const CHILD_ENV = 'OTLP_PG_COPY_FORMAT_RUN';

const TABLES: { readonly [S in Signal]: { table: string; columns: string; write: (c: CopyRowWriter, rows: SignalRows[S]) => void } } = {
  traces: { table: 'trace_spans', columns: SPAN_COLUMNS, write: writeSpans },
  logs: { table: 'logs', columns: LOG_COLUMNS, write: writeLogs },
  metrics: { table: 'metric_data_points', columns: POINT_COLUMNS, write: writePoints },
};

interface Run {
  readonly signal: Signal;
  readonly format: Format;
  readonly rows: number;
  readonly bytes: number;
  readonly postgresUs: number;
  readonly encodeUs: number;
  readonly sendUs: number;
  readonly copyMs: number;
  /** Share of the machine's cores busy during the COPY, all processes. */
  readonly machineBusy: number;
}

interface ChildTask {
  readonly url: string;
  readonly signal: Signal;
  readonly format: Format;
  readonly rows: number;
}

const cpuUs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

/** One run, in a child process: encode the rows, then COPY them, measuring both. */
async function runChild(task: ChildTask): Promise<Run> {
  const { signal, format } = task;
  const target = TABLES[signal] as (typeof TABLES)[Signal] & { write: (c: CopyRowWriter, rows: SignalRows[Signal]) => void };
  const source = await rowSource(signal, defaultLoadgenOptions());
  const requests: SignalRows[Signal][] = [];
  for (let n = 0; n < task.rows; n += source.itemsPerRequest) requests.push(source.next());
  const rows = requests.length * source.itemsPerRequest;

  const encode = format === 'text' ? copyText : copyBinary;
  let parts: Buffer[] = [];
  let encodeUs = Infinity;
  for (let pass = 0; pass < ENCODE_PASSES; pass++) {
    const start = process.cpuUsage();
    parts = requests.map((r) => encode((c) => target.write(c, r)));
    encodeUs = Math.min(encodeUs, cpuUs(start) / rows);
  }

  const client = new pg.Client({ connectionString: task.url, application_name: 'otlp-pg-bench copy-format' });
  await client.connect();
  try {
    await client.query(`TRUNCATE ${target.table}`);
    await client.query('CHECKPOINT');
    const [row] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    const backend = row?.pid ?? 0;
    const sql = `COPY ${target.table} (${target.columns}) FROM STDIN${format === 'binary' ? ' (FORMAT binary)' : ''}`;
    await client.query('BEGIN');
    const pgBefore = cpuSeconds(backend);
    const machineBefore = machineCpu();
    const sendStart = process.cpuUsage();
    const wallStart = performance.now();
    await copyIn(client, sql, parts);
    await client.query('COMMIT');
    const copyMs = performance.now() - wallStart;
    const sendUs = cpuUs(sendStart) / rows;
    const postgresUs = ((cpuSeconds(backend) - pgBefore) * 1e6) / rows;
    const machineAfter = machineCpu();
    const [count] = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${target.table}`)).rows;
    if (Number(count?.n) !== rows) throw new Error(`${signal} ${format}: ${count?.n} rows stored of ${rows}`);
    return {
      signal,
      format,
      rows,
      bytes: parts.reduce((sum, p) => sum + p.length, 0),
      postgresUs,
      encodeUs,
      sendUs,
      copyMs,
      machineBusy: (machineAfter.busy - machineBefore.busy) / Math.max(machineAfter.total - machineBefore.total, 1e-9),
    };
  } finally {
    await client.end();
  }
}

function spawnRun(task: ChildTask): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      env: { ...process.env, [CHILD_ENV]: JSON.stringify(task) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Run);
      else reject(new Error(`${task.signal} ${task.format} run exited with ${code}`));
    });
  });
}

const fixed = (n: number, digits = 2): string => n.toFixed(digits);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '2' } },
  });
  const rows = Number(values.rows);
  const rounds = Number(values.rounds);
  const server = await startBenchServer();
  const db = await freshDatabase(server, 'copy_format', true);
  const runs: Run[] = [];
  try {
    for (const signal of SIGNALS) {
      for (let round = 0; round < rounds; round++) {
        for (const format of round % 2 === 0 ? FORMATS : [...FORMATS].reverse()) {
          await waitForQuiet(10_000);
          const run = await spawnRun({ url: db.url, signal, format, rows });
          runs.push(run);
          process.stderr.write(
            `${signal} ${format}: PostgreSQL ${fixed(run.postgresUs)} µs/row, encode ${fixed(run.encodeUs)}, send ${fixed(run.sendUs)}, ` +
              `${fixed(run.bytes / run.rows, 0)} B/row, ${fixed(run.copyMs, 0)} ms, machine ${fixed(run.machineBusy * 100, 0)} % busy\n`,
          );
        }
      }
    }
  } finally {
    await db.drop();
    await server.stop();
  }

  const lines = [
    `COPY text vs binary: CPU µs per row, median of ${rounds} run(s) of ${rows} rows in one COPY stream each; PostgreSQL ${server.version}`,
    '',
    '| signal | format | PostgreSQL | encode (JS) | send (JS) | PostgreSQL + encode | bytes/row | COPY ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const signal of SIGNALS) {
    for (const format of FORMATS) {
      const of = runs.filter((r) => r.signal === signal && r.format === format);
      if (of.length === 0) continue;
      const m = (f: (r: Run) => number): number => median(of.map(f));
      lines.push(
        `| ${signal} | ${format} | ${fixed(m((r) => r.postgresUs))} | ${fixed(m((r) => r.encodeUs))} | ${fixed(m((r) => r.sendUs))} | ` +
          `${fixed(m((r) => r.postgresUs + r.encodeUs))} | ${fixed(m((r) => r.bytes / r.rows), 0)} | ${fixed(m((r) => r.copyMs), 0)} |`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

const childTask = process.env[CHILD_ENV];
if (childTask) process.stdout.write(`${JSON.stringify(await runChild(JSON.parse(childTask) as ChildTask))}\n`);
else await main();
