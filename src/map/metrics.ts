import type {
  Exemplar,
  ExponentialHistogramDataPoint,
  ExportMetricsServiceRequest,
  HistogramDataPoint,
  Metric,
  MetricData,
  NumberDataPoint,
  SummaryDataPoint,
} from '../decode/types.js';
import { FRESH, hashId, type Dictionary } from './dictionary.js';
import { fitsInt64, Rejections, TIME_RANGE } from './rejections.js';
import type { DataPointRow, Mapped, MetricRow, MetricRows, ResourceRow, ScopeRow } from './types.js';
import { attributesJson, doubleJson, hex, storableAttributes, storableString, takeReplaced } from './values.js';

const COUNT_RANGE = 'counts must be below 2^63';

function exemplarsJson(exemplars: readonly Exemplar[]): string | null {
  if (exemplars.length === 0) return null;
  const parts = exemplars.map((e) => {
    const value = e.value.kind === 'int' ? e.value.value.toString() : e.value.kind === 'double' ? doubleJson(e.value.value) : 'null';
    return (
      `{"time_unix_nano":"${e.timeUnixNano}","value":${value},"filtered_attributes":${attributesJson(e.filteredAttributes)},` +
      `"trace_id":"${hex(e.traceId)}","span_id":"${hex(e.spanId)}"}`
    );
  });
  return `[${parts.join(',')}]`;
}

type AnyPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint | SummaryDataPoint;

/** Why a point cannot be stored: a uint64 past a bigint column (exemplars are jsonb, which holds any). */
function pointProblem(p: AnyPoint): string | undefined {
  if (!fitsInt64(p.timeUnixNano) || !fitsInt64(p.startTimeUnixNano)) return TIME_RANGE;
  if ('count' in p && !fitsInt64(p.count)) return COUNT_RANGE;
  if ('bucketCounts' in p && !p.bucketCounts.every(fitsInt64)) return COUNT_RANGE;
  if ('zeroCount' in p) {
    if (!fitsInt64(p.zeroCount)) return COUNT_RANGE;
    if (![...(p.positive?.bucketCounts ?? []), ...(p.negative?.bucketCounts ?? [])].every(fitsInt64)) return COUNT_RANGE;
  }
  return undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A row with every column a point type does not use set to null, built as one literal so every row
 * has the same shape (object spreads here showed up as the largest cost of mapping metrics).
 */
function baseRow(metric: MetricRow, p: AnyPoint): Mutable<DataPointRow> {
  return {
    metricId: metric.metricId,
    timeUnixNano: p.timeUnixNano,
    startTimeUnixNano: p.startTimeUnixNano,
    attributes: storableAttributes(p.attributes),
    flags: p.flags,
    valueDouble: null,
    valueInt: null,
    count: null,
    sum: null,
    min: null,
    max: null,
    bucketCounts: null,
    explicitBounds: null,
    scale: null,
    zeroCount: null,
    zeroThreshold: null,
    positiveOffset: null,
    positiveBucketCounts: null,
    negativeOffset: null,
    negativeBucketCounts: null,
    quantileValues: null,
    exemplars: null,
    serviceName: metric.serviceName,
  };
}

function numberRow(metric: MetricRow, p: NumberDataPoint): DataPointRow {
  const row = baseRow(metric, p);
  if (p.value.kind === 'double') row.valueDouble = p.value.value;
  else if (p.value.kind === 'int') row.valueInt = p.value.value;
  row.exemplars = exemplarsJson(p.exemplars);
  return row;
}

function histogramRow(metric: MetricRow, p: HistogramDataPoint): DataPointRow {
  const row = baseRow(metric, p);
  row.count = p.count;
  row.sum = p.sum ?? null;
  row.min = p.min ?? null;
  row.max = p.max ?? null;
  row.bucketCounts = p.bucketCounts;
  row.explicitBounds = p.explicitBounds;
  row.exemplars = exemplarsJson(p.exemplars);
  return row;
}

function exponentialHistogramRow(metric: MetricRow, p: ExponentialHistogramDataPoint): DataPointRow {
  const row = baseRow(metric, p);
  row.count = p.count;
  row.sum = p.sum ?? null;
  row.min = p.min ?? null;
  row.max = p.max ?? null;
  row.scale = p.scale;
  row.zeroCount = p.zeroCount;
  row.zeroThreshold = p.zeroThreshold;
  if (p.positive) {
    row.positiveOffset = p.positive.offset;
    row.positiveBucketCounts = p.positive.bucketCounts;
  }
  if (p.negative) {
    row.negativeOffset = p.negative.offset;
    row.negativeBucketCounts = p.negative.bucketCounts;
  }
  row.exemplars = exemplarsJson(p.exemplars);
  return row;
}

function summaryRow(metric: MetricRow, p: SummaryDataPoint): DataPointRow {
  const row = baseRow(metric, p);
  row.count = p.count;
  row.sum = p.sum;
  row.quantileValues = `[${p.quantileValues.map((q) => `{"quantile":${doubleJson(q.quantile)},"value":${doubleJson(q.value)}}`).join(',')}]`;
  return row;
}

/** The metric's points as rows, refusing (into `rejections`) those the schema cannot hold. */
function pointRows(metric: MetricRow, data: MetricData, rejections: Rejections): DataPointRow[] {
  const collect = <P extends AnyPoint>(points: readonly P[], toRow: (m: MetricRow, p: P) => DataPointRow): DataPointRow[] => {
    const rows: DataPointRow[] = [];
    for (const p of points) {
      const problem = pointProblem(p);
      if (problem) rejections.add(problem);
      else rows.push(toRow(metric, p));
    }
    return rows;
  };
  switch (data.type) {
    case 'gauge':
    case 'sum':
      return collect(data.dataPoints, numberRow);
    case 'histogram':
      return collect(data.dataPoints, histogramRow);
    case 'exponential_histogram':
      return collect(data.dataPoints, exponentialHistogramRow);
    case 'summary':
      return collect(data.dataPoints, summaryRow);
    case 'empty':
      return [];
  }
}

function metricRow(metric: Metric, resource: ResourceRow, scope: ScopeRow): MetricRow {
  const data = metric.data;
  const temporality = 'aggregationTemporality' in data ? data.aggregationTemporality : 0;
  const monotonic = data.type === 'sum' ? data.isMonotonic : false;
  const name = storableString(metric.name);
  const description = storableString(metric.description);
  const unit = storableString(metric.unit);
  const metadata = attributesJson(metric.metadata);
  // The stream identity: everything that makes two points comparable as one series.
  const identity = JSON.stringify([name, description, unit, data.type, temporality, monotonic, metadata, String(resource.resourceId), String(scope.scopeId)]);
  return {
    metricId: hashId(`m\u0001${identity}`),
    name,
    description,
    unit,
    type: data.type,
    aggregationTemporality: temporality,
    isMonotonic: monotonic,
    metadata,
    serviceName: resource.serviceName,
    resourceId: resource.resourceId,
    scopeId: scope.scopeId,
  };
}

/** ExportMetricsServiceRequest → rows for resources, scopes, metrics and metric_data_points. Pure. */
export function mapMetrics(request: ExportMetricsServiceRequest, dictionary: Dictionary = FRESH): Mapped<MetricRows> {
  takeReplaced(); // start counting this request's altered strings
  const resources = new Map<bigint, ResourceRow>();
  const scopes = new Map<bigint, ScopeRow>();
  const metrics = new Map<bigint, MetricRow>();
  const points: DataPointRow[] = [];
  const rejections = new Rejections();
  let total = 0;

  for (const rm of request.resourceMetrics) {
    const resource = dictionary.resource(rm.resource, rm.schemaUrl);
    for (const sm of rm.scopeMetrics) {
      const scope = dictionary.scope(sm.scope, sm.schemaUrl);
      for (const metric of sm.metrics) {
        const row = metricRow(metric, resource, scope);
        const sent = metric.data.type === 'empty' ? 0 : metric.data.dataPoints.length;
        const rows = pointRows(row, metric.data, rejections);
        total += sent;
        points.push(...rows);
        // A metric without points is still a stream worth keeping; one whose points were all refused is not.
        if (rows.length === 0 && sent > 0) continue;
        resources.set(resource.resourceId, resource);
        scopes.set(scope.scopeId, scope);
        metrics.set(row.metricId, row);
      }
    }
  }

  return {
    rows: { resources: [...resources.values()], scopes: [...scopes.values()], metrics: [...metrics.values()], points },
    accepted: points.length,
    weight: points.length + metrics.size,
    rejected: rejections.total,
    message: rejections.message(total, 'data points', takeReplaced()),
  };
}
