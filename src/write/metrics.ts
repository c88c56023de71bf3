import type pg from 'pg';
import type { MetricRow, MetricRows, ResourceRow, ScopeRow } from '../map/types.js';
import { copyBinary, type CopyRowWriter } from './copy-binary.js';
import { copyIn } from './copy-stream.js';
import { insertDictionaries, type KnownIds } from './dictionaries.js';

export const POINT_COLUMNS = [
  '"time"', 'metric_id', 'time_unix_nano', 'start_time_unix_nano', 'attributes', 'flags', 'value_double', 'value_int',
  'count', 'sum', 'min', 'max', 'bucket_counts', 'explicit_bounds', 'scale', 'zero_count', 'zero_threshold',
  'positive_offset', 'positive_bucket_counts', 'negative_offset', 'negative_bucket_counts', 'quantile_values',
  'exemplars', 'service_name',
].join(', ');

/**
 * New metric streams, sorted by id so concurrent writers (and processes) lock rows in one order;
 * `ON CONFLICT DO NOTHING` makes creating the same stream at once from two places safe.
 */
async function insertMetrics(client: pg.ClientBase, rows: Iterable<MetricRow>, known: KnownIds): Promise<bigint[]> {
  const fresh = new Map<bigint, MetricRow>();
  for (const m of rows) if (!known.has(m.metricId)) fresh.set(m.metricId, m);
  if (fresh.size === 0) return [];
  const ms = [...fresh.values()];
  await client.query(
    `INSERT INTO metrics (metric_id, name, description, unit, type, aggregation_temporality, is_monotonic, metadata,
                          service_name, resource_id, scope_id)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::boolean[],
                          $8::jsonb[], $9::text[], $10::bigint[], $11::bigint[]) ORDER BY 1
     ON CONFLICT (metric_id) DO NOTHING`,
    [
      ms.map((m) => m.metricId.toString()),
      ms.map((m) => m.name),
      ms.map((m) => m.description),
      ms.map((m) => m.unit),
      ms.map((m) => m.type),
      ms.map((m) => m.aggregationTemporality),
      ms.map((m) => m.isMonotonic),
      ms.map((m) => m.metadata),
      ms.map((m) => m.serviceName),
      ms.map((m) => m.resourceId.toString()),
      ms.map((m) => m.scopeId.toString()),
    ],
  );
  return [...fresh.keys()];
}

/** A metric request's rows as the batch writer takes them: its data points already as binary COPY rows. */
export interface EncodedMetrics {
  readonly resources: readonly ResourceRow[];
  readonly scopes: readonly ScopeRow[];
  readonly metrics: readonly MetricRow[];
  /** The data points as binary COPY rows (no header or trailer: copyIn adds them per batch). */
  readonly points: Buffer;
}

/** Encodes a request's data points as soon as they are mapped (see encodeTraces for why). Pure. */
export function encodeMetrics(rows: MetricRows): EncodedMetrics {
  return { resources: rows.resources, scopes: rows.scopes, metrics: rows.metrics, points: copyBinary((c) => writePoints(c, rows)) };
}

/** The data points as COPY rows of metric_data_points (POINT_COLUMNS), in either format. */
export function writePoints(c: CopyRowWriter, rows: MetricRows): void {
  for (const p of rows.points) {
    c.timestamptz(p.timeUnixNano);
    c.int8(p.metricId);
    c.int8(p.timeUnixNano);
    c.int8(p.startTimeUnixNano);
    c.attributes(p.attributes);
    c.int8(p.flags);
    c.nullableFloat8(p.valueDouble);
    c.nullableInt8(p.valueInt);
    c.nullableInt8(p.count);
    c.nullableFloat8(p.sum);
    c.nullableFloat8(p.min);
    c.nullableFloat8(p.max);
    c.int8Array(p.bucketCounts);
    c.float8Array(p.explicitBounds);
    c.nullableInt4(p.scale);
    c.nullableInt8(p.zeroCount);
    c.nullableFloat8(p.zeroThreshold);
    c.nullableInt4(p.positiveOffset);
    c.int8Array(p.positiveBucketCounts);
    c.nullableInt4(p.negativeOffset);
    c.int8Array(p.negativeBucketCounts);
    c.nullableJson(p.quantileValues);
    c.nullableJson(p.exemplars);
    c.text(p.serviceName);
    c.endRow();
  }
}

/** Writes one batch of metric requests inside the caller's transaction; returns ids to mark known after COMMIT. */
export async function writeMetricBatch(client: pg.ClientBase, batch: readonly EncodedMetrics[], known: KnownIds): Promise<bigint[]> {
  const newIds = [
    ...(await insertDictionaries(client, batch, known)),
    ...(await insertMetrics(client, batch.flatMap((r) => r.metrics), known)),
  ];
  const parts = batch.map((r) => r.points).filter((b) => b.length > 0);
  if (parts.length > 0) await copyIn(client, `COPY metric_data_points (${POINT_COLUMNS}) FROM STDIN (FORMAT binary)`, parts);
  return newIds;
}
