// metrics and metric_data_points rows → OTLP/JSON metrics (opentelemetry/proto/metrics/v1/metrics.proto).
// A metric's type picks its data message and its points' shape; value_int/value_double pick asInt or
// asDouble; float8 columns come back with NaN and ±Infinity, written as OTLP/JSON's strings.
import type pg from 'pg';
import type { TextRow } from './cursor.js';
import { RenderedCache, resourceCache, scopeCache } from './dictionary.js';
import type { ReadQuery, SignalReader } from './export.js';
import {
  arrayItems,
  doubleText,
  float8Of,
  int32Of,
  objectText,
  optBool,
  optDouble,
  optHex,
  optInt,
  optInt64,
  optList,
  optString,
  type FieldText,
} from './json-text.js';
import type { Entry, Group } from './request-builder.js';
import { isNarrowedByTimeOrTrace, whereOf, type Selection } from './selection.js';
import { attributesText, fieldAttributes, fieldDigits, fieldString, numberValueField, storedDouble, storedObjects } from './values.js';

/** metrics.type → the Metric oneof field holding its data; 'empty' has none. */
const DATA_FIELDS: Readonly<Record<string, string>> = {
  gauge: 'gauge',
  sum: 'sum',
  histogram: 'histogram',
  exponential_histogram: 'exponentialHistogram',
  summary: 'summary',
};

const METRIC_COLUMNS = `metric_id, name, description, unit, type, aggregation_temporality, is_monotonic,
  metadata::text AS metadata, resource_id, scope_id`;

const POINT_COLUMNS = `metric_id, time_unix_nano, start_time_unix_nano, attributes::text AS attributes, flags,
  value_double, value_int, count, sum, min, max, bucket_counts, explicit_bounds, scale, zero_count,
  zero_threshold, positive_offset, positive_bucket_counts, negative_offset, negative_bucket_counts,
  quantile_values::text AS quantile_values, exemplars::text AS exemplars`;

/** Where the points go in a metric's text; JSON text never holds a raw U+0000. */
const POINTS_MARK = '\u0000';

/** A metrics row rendered: the text around its points, and the dictionary entries it belongs to. */
export interface RenderedMetric extends Group {
  readonly id: string;
  readonly type: string;
  readonly resourceId: string | null;
  readonly scopeId: string | null;
}

/** One metrics row as an OTLP/JSON Metric; `points` is the dataPoints array text, or undefined for none. */
export function metricText(row: TextRow, points: string | undefined): string {
  const type = row.type ?? '';
  const dataField = DATA_FIELDS[type];
  const fields: Record<string, FieldText> = {
    name: optString(row.name ?? ''),
    description: optString(row.description ?? ''),
    unit: optString(row.unit ?? ''),
  };
  if (dataField !== undefined) {
    const temporal = type !== 'gauge' && type !== 'summary';
    fields[dataField] = objectText({
      dataPoints: points,
      aggregationTemporality: temporal ? optInt(int32Of(row.aggregation_temporality)) : undefined,
      isMonotonic: type === 'sum' ? optBool(row.is_monotonic === 't') : undefined,
    });
  }
  fields.metadata = optList(attributesText(row.metadata ?? '{}'));
  return objectText(fields);
}

function renderMetric(row: TextRow, points: boolean): RenderedMetric {
  const id = row.metric_id ?? '';
  const base = { id, key: id, type: row.type ?? '', resourceId: row.resource_id ?? null, scopeId: row.scope_id ?? null };
  if (!points) return { ...base, open: metricText(row, undefined), close: '' };
  const [open = '', close = ''] = metricText(row, `[${POINTS_MARK}]`).split(POINTS_MARK);
  return { ...base, open, close };
}

// ---- points

function exemplarsText(jsonbText: string | null | undefined): FieldText {
  const exemplars = storedObjects(jsonbText).map((e) =>
    objectText({
      filteredAttributes: optList(fieldAttributes(e, 'filtered_attributes')),
      timeUnixNano: optInt64(fieldDigits(e, 'time_unix_nano')),
      ...numberValueField(e.value),
      spanId: optHex(fieldString(e, 'span_id')),
      traceId: optHex(fieldString(e, 'trace_id')),
    }),
  );
  return optList(exemplars);
}

/** A float8 column with presence (histogram sum/min/max): NULL is unset, anything else is written. */
function presentDouble(text: string | null | undefined): FieldText {
  return text === null || text === undefined ? undefined : doubleText(float8Of(text));
}

function countsText(text: string | null | undefined): FieldText {
  return text ? optList(arrayItems(text).map((digits) => `"${digits}"`)) : undefined;
}

function bucketsText(offset: string | null | undefined, counts: string | null | undefined): FieldText {
  // NULL offset: the point had no such buckets message (map/ stores absent buckets as NULL).
  if (offset === null || offset === undefined) return undefined;
  return objectText({ offset: optInt(int32Of(offset)), bucketCounts: countsText(counts) });
}

function pointText(type: string, p: TextRow): string {
  const common = {
    attributes: optList(attributesText(p.attributes ?? '{}')),
    startTimeUnixNano: optInt64(p.start_time_unix_nano ?? '0'),
    timeUnixNano: optInt64(p.time_unix_nano ?? '0'),
  };
  const flags = optInt(int32Of(p.flags));
  switch (type) {
    case 'gauge':
    case 'sum': {
      // The oneof is written even at 0: {"asInt":"0"} is a value, no field is none.
      const value =
        p.value_int !== null && p.value_int !== undefined ? { asInt: `"${p.value_int}"` }
        : p.value_double !== null && p.value_double !== undefined ? { asDouble: doubleText(float8Of(p.value_double)) }
        : {};
      return objectText({ ...common, ...value, exemplars: exemplarsText(p.exemplars), flags });
    }
    case 'histogram':
      return objectText({
        ...common,
        count: optInt64(p.count ?? '0'),
        sum: presentDouble(p.sum),
        bucketCounts: countsText(p.bucket_counts),
        explicitBounds: p.explicit_bounds ? optList(arrayItems(p.explicit_bounds).map((t) => doubleText(float8Of(t)))) : undefined,
        exemplars: exemplarsText(p.exemplars),
        flags,
        min: presentDouble(p.min),
        max: presentDouble(p.max),
      });
    case 'exponential_histogram':
      return objectText({
        ...common,
        count: optInt64(p.count ?? '0'),
        sum: presentDouble(p.sum),
        scale: optInt(int32Of(p.scale)),
        zeroCount: optInt64(p.zero_count ?? '0'),
        positive: bucketsText(p.positive_offset, p.positive_bucket_counts),
        negative: bucketsText(p.negative_offset, p.negative_bucket_counts),
        flags,
        exemplars: exemplarsText(p.exemplars),
        min: presentDouble(p.min),
        max: presentDouble(p.max),
        zeroThreshold: optDouble(float8Of(p.zero_threshold ?? '0')),
      });
    case 'summary':
      return objectText({
        ...common,
        count: optInt64(p.count ?? '0'),
        // Unlike a histogram's, a summary's sum has no presence: 0 is its default.
        sum: optDouble(float8Of(p.sum ?? '0')),
        quantileValues: optList(
          storedObjects(p.quantile_values).map((q) =>
            objectText({ quantile: optDouble(storedDouble(q.quantile)), value: optDouble(storedDouble(q.value)) }),
          ),
        ),
        flags,
      });
    default:
      throw new Error(`metric type ${JSON.stringify(type)} has no data points in OTLP`);
  }
}

// ---- the reader

function metricCache(): RenderedCache<RenderedMetric> {
  return new RenderedCache('metrics', `SELECT ${METRIC_COLUMNS} FROM metrics WHERE metric_id = ANY($1::bigint[])`, (row) => renderMetric(row, true));
}

export function metricsReader(): SignalReader {
  const metrics = metricCache();
  const resources = resourceCache();
  const scopes = scopeCache();

  const entries = async (client: pg.Client, items: readonly { metric: RenderedMetric; item: string | undefined }[]): Promise<Entry[]> => {
    const resource = await resources.lookup(client, items.map((i) => i.metric.resourceId));
    const scope = await scopes.lookup(client, items.map((i) => i.metric.scopeId));
    return items.map(({ metric, item }) => ({ resource: resource(metric.resourceId), scope: scope(metric.scopeId), group: metric, item }));
  };

  const points = (selection: Selection): ReadQuery => {
    const where = whereOf(selection, { service: 'service_name', time: '"time"', metricId: 'metric_id' });
    return {
      sql: `SELECT ${POINT_COLUMNS} FROM metric_data_points ${where.sql} ORDER BY time_unix_nano, metric_id`,
      params: where.params,
      async resolve(client, rows) {
        const metric = await metrics.lookup(client, rows.map((row) => row.metric_id ?? null));
        return entries(
          client,
          rows.map((row) => {
            const m = metric(row.metric_id ?? null);
            return { metric: m, item: pointText(m.type, row) };
          }),
        );
      },
    };
  };

  // A metric stored without points (sent with none, or of no type) has no time of its own: it is
  // exported when the selection does not ask for a time range or a trace.
  const pointless = (selection: Selection): ReadQuery => {
    const noPoints = 'NOT EXISTS (SELECT 1 FROM metric_data_points p WHERE p.metric_id = metrics.metric_id)';
    const where = whereOf({ ...selection, since: undefined, until: undefined }, { service: 'service_name', time: 'first_seen', metricId: 'metric_id' }, [noPoints]);
    return {
      sql: `SELECT ${METRIC_COLUMNS} FROM metrics ${where.sql} ORDER BY metric_id`,
      params: where.params,
      resolve: (client, rows) => entries(client, rows.map((row) => ({ metric: renderMetric(row, false), item: undefined }))),
    };
  };

  return {
    shape: { resourceList: 'resourceMetrics', scopeList: 'scopeMetrics', itemList: 'metrics' },
    items: 'data points',
    queries: (selection) => (isNarrowedByTimeOrTrace(selection) ? [points(selection)] : [points(selection), pointless(selection)]),
  };
}
