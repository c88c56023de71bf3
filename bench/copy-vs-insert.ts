// The same span rows into trace_spans two ways: the project's COPY (write/traces.ts, given spans
// only, so it does nothing but the COPY) and multi-row INSERT … VALUES with bound parameters (a
// prepared statement per batch size, the best case for INSERT). Same batches, same connections.

import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { keyValuesOf } from '../src/decode/wire-attributes.js';
import type { SpanRow, TraceRows } from '../src/map/types.js';
import { attributesJson } from '../src/map/values.js';
import { KnownIds } from '../src/write/dictionaries.js';
import { encodeTraces, writeTraceBatch } from '../src/write/traces.js';
import type { RowSource } from './rows.js';

const COLUMNS = [
  'start_time', 'trace_id', 'span_id', 'parent_span_id', 'trace_state', 'flags', 'name', 'kind',
  'start_time_unix_nano', 'end_time_unix_nano', 'duration_ns', 'status_code', 'status_message',
  'attributes', 'dropped_attributes_count', 'events', 'dropped_events_count', 'links',
  'dropped_links_count', 'service_name', 'resource_id', 'scope_id',
];

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function isoMicros(unixNano: bigint): string {
  const micros = unixNano / 1000n;
  return new Date(Number(micros / 1000n)).toISOString().replace('Z', `${String(micros % 1000n).padStart(3, '0')}Z`);
}

/** One span's 22 parameters, in COLUMNS order. */
function params(s: SpanRow): unknown[] {
  return [
    isoMicros(s.startTimeUnixNano), buf(s.traceId), buf(s.spanId), s.parentSpanId === null ? null : buf(s.parentSpanId),
    s.traceState, s.flags, s.name, s.kind, s.startTimeUnixNano.toString(), s.endTimeUnixNano.toString(),
    (s.endTimeUnixNano - s.startTimeUnixNano).toString(), s.statusCode, s.statusMessage, attributesJson(keyValuesOf(s.attributes)),
    s.droppedAttributesCount, s.events, s.droppedEventsCount, s.links, s.droppedLinksCount, s.serviceName,
    s.resourceId.toString(), s.scopeId.toString(),
  ];
}

const sqlByRows = new Map<number, string>();

function insertSql(rows: number): string {
  const cached = sqlByRows.get(rows);
  if (cached) return cached;
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) tuples.push(`(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(',')})`);
  const sql = `INSERT INTO trace_spans (${COLUMNS.join(', ')}) VALUES ${tuples.join(',')}`;
  sqlByRows.set(rows, sql);
  return sql;
}

async function insertBatch(client: pg.ClientBase, spans: readonly SpanRow[]): Promise<void> {
  await client.query({ name: `bench_insert_${spans.length}`, text: insertSql(spans.length), values: spans.flatMap(params) });
}

async function copyBatch(client: pg.ClientBase, spans: readonly SpanRow[]): Promise<void> {
  // Spans only: no dictionaries and no trace summaries, so writeTraceBatch runs just its COPY.
  const rows: TraceRows = { resources: [], scopes: [], spans, traces: [] };
  await writeTraceBatch(client, [encodeTraces(rows)], new KnownIds());
}

export interface CopyVsInsertResult {
  readonly rows: number;
  readonly batchRows: number;
  readonly connections: number;
  readonly copyRowsPerSecond: number;
  readonly insertRowsPerSecond: number;
}

async function timed(
  url: string,
  batches: readonly (readonly SpanRow[])[],
  connections: number,
  write: (client: pg.ClientBase, spans: readonly SpanRow[]) => Promise<void>,
): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: connections });
  let next = 0;
  const start = performance.now();
  let seconds: number;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        const client = await pool.connect();
        try {
          for (let i = next++; i < batches.length; i = next++) {
            await client.query('BEGIN');
            await write(client, batches[i] as readonly SpanRow[]);
            await client.query('COMMIT');
          }
        } finally {
          client.release();
        }
      }),
    );
    seconds = (performance.now() - start) / 1000;
  } finally {
    // Also after a failure: an idle connection left open would outlive the database being dropped.
    await pool.end();
  }
  return batches.reduce((n, b) => n + b.length, 0) / seconds;
}

/**
 * Writes `rows` spans by COPY into `copyUrl` and the same spans by INSERT into `insertUrl` (two
 * fresh databases, so neither finds the other's index pages warm), and returns rows per second of each.
 */
export async function copyVsInsert(
  copyUrl: string,
  insertUrl: string,
  source: RowSource<'traces'>,
  rows: number,
  batchRows: number,
  connections: number,
): Promise<CopyVsInsertResult> {
  // INSERT binds at most 65535 parameters: 22 per span.
  const perBatch = Math.min(batchRows, Math.floor(65535 / COLUMNS.length));
  const spans: SpanRow[] = [];
  while (spans.length < rows) spans.push(...source.next().spans);
  const batches: SpanRow[][] = [];
  for (let i = 0; i < rows; i += perBatch) batches.push(spans.slice(i, Math.min(i + perBatch, rows)));
  const insertRowsPerSecond = await timed(insertUrl, batches, connections, insertBatch);
  const copyRowsPerSecond = await timed(copyUrl, batches, connections, copyBatch);
  return { rows, batchRows: perBatch, connections, copyRowsPerSecond, insertRowsPerSecond };
}
