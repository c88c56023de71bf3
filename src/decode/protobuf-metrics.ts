// The walks of the OTLP metric messages (metrics.proto), in the manner of ./protobuf-common.ts.
import type protobuf from 'protobufjs';
import {
  EMPTY_DATA,
  NO_NUMBER,
  again,
  embedded,
  envelope,
  keyValue,
  otel,
  other,
  replaced,
  resource,
  scope,
  type Walk,
} from './protobuf-common.js';
import { EMPTY_BYTES, type Reader } from './protobuf-reader.js';
import type * as otlp from './types.js';
import { AttributeRun } from './wire-attributes.js';

const RESOURCE_METRICS = otel('metrics.v1.ResourceMetrics');
const SCOPE_METRICS = otel('metrics.v1.ScopeMetrics');
const METRIC = otel('metrics.v1.Metric');
const GAUGE = otel('metrics.v1.Gauge');
const SUM = otel('metrics.v1.Sum');
const HISTOGRAM = otel('metrics.v1.Histogram');
const EXPONENTIAL_HISTOGRAM = otel('metrics.v1.ExponentialHistogram');
const SUMMARY = otel('metrics.v1.Summary');
const NUMBER_POINT = otel('metrics.v1.NumberDataPoint');
const HISTOGRAM_POINT = otel('metrics.v1.HistogramDataPoint');
const EXPONENTIAL_POINT = otel('metrics.v1.ExponentialHistogramDataPoint');
const BUCKETS = otel('metrics.v1.ExponentialHistogramDataPoint.Buckets');
const SUMMARY_POINT = otel('metrics.v1.SummaryDataPoint');
const QUANTILE = otel('metrics.v1.SummaryDataPoint.ValueAtQuantile');
const EXEMPLAR = otel('metrics.v1.Exemplar');

/** The types of Metric's data oneof, by field. */
const DATA_TYPES: Readonly<Record<number, protobuf.Type>> = {
  5: GAUGE,
  7: SUM,
  9: HISTOGRAM,
  10: EXPONENTIAL_HISTOGRAM,
  11: SUMMARY,
};

export function resourceMetrics(r: Reader, end: number): otlp.ResourceMetrics {
  const e = envelope(r, end, RESOURCE_METRICS, resource, scopeMetrics);
  return { resource: e.head, scopeMetrics: e.items, schemaUrl: e.schemaUrl };
}

function scopeMetrics(r: Reader, end: number): otlp.ScopeMetrics {
  const e = envelope(r, end, SCOPE_METRICS, scope, metric);
  return { scope: e.head, metrics: e.items, schemaUrl: e.schemaUrl };
}

function metric(r: Reader, end: number): otlp.Metric {
  let name = '';
  let description = '';
  let unit = '';
  const metadata: otlp.KeyValue[] = [];
  let data = 0; // the field of the data oneof last seen: gauge 5, sum 7, histogram 9 …
  let at = -1;
  let atEnd = 0;
  let more: number[] | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | 2:
        name = r.key(end);
        break;
      case (2 << 3) | 2:
        description = r.key(end);
        break;
      case (3 << 3) | 2:
        unit = r.key(end);
        break;
      case (5 << 3) | 2:
      case (7 << 3) | 2:
      case (9 << 3) | 2:
      case (10 << 3) | 2:
      case (11 << 3) | 2: {
        if (data !== 0 && data !== tag >>> 3) replaced(r, at, atEnd, more, DATA_TYPES[data]!);
        const stop = r.delimited(end);
        more = data === tag >>> 3 ? again(more, at, atEnd, r.pos, stop) : undefined;
        data = tag >>> 3;
        at = r.pos;
        atEnd = r.pos = stop;
        break;
      }
      case (12 << 3) | 2:
        metadata.push(keyValue(r, r.delimited(end), 1));
        break;
      default:
        other(r, tag, end, METRIC);
    }
  }
  r.done(end);
  const walked = data === 0 ? EMPTY_DATA : embedded(r, at, atEnd, more, metricData, data);
  return { name, description, unit, data: walked, metadata };
}

function metricData(r: Reader, end: number, field: number): otlp.MetricData {
  if (field === 5) return { type: 'gauge', dataPoints: points(r, end, GAUGE, numberPoint).dataPoints };
  if (field === 7) {
    const { dataPoints, aggregationTemporality, isMonotonic } = points(r, end, SUM, numberPoint);
    return { type: 'sum', dataPoints, aggregationTemporality, isMonotonic };
  }
  if (field === 9) {
    const { dataPoints, aggregationTemporality } = points(r, end, HISTOGRAM, histogramPoint);
    return { type: 'histogram', dataPoints, aggregationTemporality };
  }
  if (field === 10) {
    const { dataPoints, aggregationTemporality } = points(r, end, EXPONENTIAL_HISTOGRAM, exponentialPoint);
    return { type: 'exponential_histogram', dataPoints, aggregationTemporality };
  }
  return { type: 'summary', dataPoints: points(r, end, SUMMARY, summaryPoint).dataPoints };
}

interface Points<P> {
  readonly dataPoints: P[];
  readonly aggregationTemporality: number;
  readonly isMonotonic: boolean;
}

/** Gauge, Sum, Histogram, ExponentialHistogram and Summary: data_points (1), and for some (2) and (3). */
function points<P>(r: Reader, end: number, type: protobuf.Type, walk: Walk<P>): Points<P> {
  const dataPoints: P[] = [];
  let aggregationTemporality = 0;
  let isMonotonic = false;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) dataPoints.push(walk(r, r.delimited(end), 0));
    else if (tag === ((2 << 3) | 0) && type !== GAUGE && type !== SUMMARY) aggregationTemporality = r.int32();
    else if (tag === ((3 << 3) | 0) && type === SUM) isMonotonic = r.bool();
    else other(r, tag, end, type);
  }
  r.done(end);
  return { dataPoints, aggregationTemporality, isMonotonic };
}

function numberPoint(r: Reader, end: number): otlp.NumberDataPoint {
  const attributes = new AttributeRun();
  let startTimeUnixNano = 0n;
  let timeUnixNano = 0n;
  let value = NO_NUMBER;
  const exemplars: otlp.Exemplar[] = [];
  let flags = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const tag = r.tag();
    if (tag === ((7 << 3) | 2)) attributes.add(r, tagAt, end);
    else if (tag === ((2 << 3) | 1)) startTimeUnixNano = r.fixed64();
    else if (tag === ((3 << 3) | 1)) timeUnixNano = r.fixed64();
    else if (tag === ((4 << 3) | 1)) value = { kind: 'double', value: r.double() };
    else if (tag === ((6 << 3) | 1)) value = { kind: 'int', value: r.sfixed64() };
    else if (tag === ((5 << 3) | 2)) exemplars.push(exemplar(r, r.delimited(end)));
    else if (tag === ((8 << 3) | 0)) flags = r.uint32();
    else other(r, tag, end, NUMBER_POINT);
  }
  r.done(end);
  return { attributes: attributes.done(), startTimeUnixNano, timeUnixNano, value, exemplars, flags };
}

function histogramPoint(r: Reader, end: number): otlp.HistogramDataPoint {
  const attributes = new AttributeRun();
  let startTimeUnixNano = 0n;
  let timeUnixNano = 0n;
  let count = 0n;
  let sum: number | undefined;
  const bucketCounts: bigint[] = [];
  const explicitBounds: number[] = [];
  const exemplars: otlp.Exemplar[] = [];
  let flags = 0;
  let min: number | undefined;
  let max: number | undefined;
  while (r.pos < end) {
    const tagAt = r.pos;
    const tag = r.tag();
    if (tag === ((9 << 3) | 2)) attributes.add(r, tagAt, end);
    else if (tag === ((2 << 3) | 1)) startTimeUnixNano = r.fixed64();
    else if (tag === ((3 << 3) | 1)) timeUnixNano = r.fixed64();
    else if (tag === ((4 << 3) | 1)) count = r.fixed64();
    else if (tag === ((5 << 3) | 1)) sum = r.double();
    // Repeated scalars may come packed (proto3's default) or one by one; both are valid.
    else if (tag === ((6 << 3) | 2)) r.packedFixed64(end, bucketCounts);
    else if (tag === ((6 << 3) | 1)) bucketCounts.push(r.fixed64());
    else if (tag === ((7 << 3) | 2)) r.packedDouble(end, explicitBounds);
    else if (tag === ((7 << 3) | 1)) explicitBounds.push(r.double());
    else if (tag === ((8 << 3) | 2)) exemplars.push(exemplar(r, r.delimited(end)));
    else if (tag === ((10 << 3) | 0)) flags = r.uint32();
    else if (tag === ((11 << 3) | 1)) min = r.double();
    else if (tag === ((12 << 3) | 1)) max = r.double();
    else other(r, tag, end, HISTOGRAM_POINT);
  }
  r.done(end);
  return {
    attributes: attributes.done(),
    startTimeUnixNano,
    timeUnixNano,
    count,
    sum,
    bucketCounts,
    explicitBounds,
    exemplars,
    flags,
    min,
    max,
  };
}

function exponentialPoint(r: Reader, end: number): otlp.ExponentialHistogramDataPoint {
  const attributes = new AttributeRun();
  let startTimeUnixNano = 0n;
  let timeUnixNano = 0n;
  let count = 0n;
  let sum: number | undefined;
  let scale = 0;
  let zeroCount = 0n;
  let positiveAt = -1;
  let positiveEnd = 0;
  let positiveMore: number[] | undefined;
  let negativeAt = -1;
  let negativeEnd = 0;
  let negativeMore: number[] | undefined;
  let flags = 0;
  const exemplars: otlp.Exemplar[] = [];
  let min: number | undefined;
  let max: number | undefined;
  let zeroThreshold = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) attributes.add(r, tagAt, end);
    else if (tag === ((2 << 3) | 1)) startTimeUnixNano = r.fixed64();
    else if (tag === ((3 << 3) | 1)) timeUnixNano = r.fixed64();
    else if (tag === ((4 << 3) | 1)) count = r.fixed64();
    else if (tag === ((5 << 3) | 1)) sum = r.double();
    else if (tag === ((6 << 3) | 0)) scale = r.sint32();
    else if (tag === ((7 << 3) | 1)) zeroCount = r.fixed64();
    else if (tag === ((8 << 3) | 2)) {
      const stop = r.delimited(end);
      positiveMore = again(positiveMore, positiveAt, positiveEnd, r.pos, stop);
      positiveAt = r.pos;
      positiveEnd = r.pos = stop;
    } else if (tag === ((9 << 3) | 2)) {
      const stop = r.delimited(end);
      negativeMore = again(negativeMore, negativeAt, negativeEnd, r.pos, stop);
      negativeAt = r.pos;
      negativeEnd = r.pos = stop;
    }
    else if (tag === ((10 << 3) | 0)) flags = r.uint32();
    else if (tag === ((11 << 3) | 2)) exemplars.push(exemplar(r, r.delimited(end)));
    else if (tag === ((12 << 3) | 1)) min = r.double();
    else if (tag === ((13 << 3) | 1)) max = r.double();
    else if (tag === ((14 << 3) | 1)) zeroThreshold = r.double();
    else other(r, tag, end, EXPONENTIAL_POINT);
  }
  r.done(end);
  return {
    attributes: attributes.done(),
    startTimeUnixNano,
    timeUnixNano,
    count,
    sum,
    scale,
    zeroCount,
    positive: positiveAt < 0 ? undefined : embedded(r, positiveAt, positiveEnd, positiveMore, buckets, 0),
    negative: negativeAt < 0 ? undefined : embedded(r, negativeAt, negativeEnd, negativeMore, buckets, 0),
    flags,
    exemplars,
    min,
    max,
    zeroThreshold,
  };
}

function buckets(r: Reader, end: number): otlp.ExponentialHistogramBuckets {
  let offset = 0;
  const bucketCounts: bigint[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 0)) offset = r.sint32();
    else if (tag === ((2 << 3) | 2)) r.packedUint64(end, bucketCounts);
    else if (tag === ((2 << 3) | 0)) bucketCounts.push(r.uint64());
    else other(r, tag, end, BUCKETS);
  }
  r.done(end);
  return { offset, bucketCounts };
}

function summaryPoint(r: Reader, end: number): otlp.SummaryDataPoint {
  const attributes = new AttributeRun();
  let startTimeUnixNano = 0n;
  let timeUnixNano = 0n;
  let count = 0n;
  let sum = 0;
  const quantileValues: otlp.ValueAtQuantile[] = [];
  let flags = 0;
  while (r.pos < end) {
    const tagAt = r.pos;
    const tag = r.tag();
    if (tag === ((7 << 3) | 2)) attributes.add(r, tagAt, end);
    else if (tag === ((2 << 3) | 1)) startTimeUnixNano = r.fixed64();
    else if (tag === ((3 << 3) | 1)) timeUnixNano = r.fixed64();
    else if (tag === ((4 << 3) | 1)) count = r.fixed64();
    else if (tag === ((5 << 3) | 1)) sum = r.double();
    else if (tag === ((6 << 3) | 2)) quantileValues.push(quantile(r, r.delimited(end)));
    else if (tag === ((8 << 3) | 0)) flags = r.uint32();
    else other(r, tag, end, SUMMARY_POINT);
  }
  r.done(end);
  return { attributes: attributes.done(), startTimeUnixNano, timeUnixNano, count, sum, quantileValues, flags };
}

function quantile(r: Reader, end: number): otlp.ValueAtQuantile {
  let q = 0;
  let value = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 1)) q = r.double();
    else if (tag === ((2 << 3) | 1)) value = r.double();
    else other(r, tag, end, QUANTILE);
  }
  r.done(end);
  return { quantile: q, value };
}

function exemplar(r: Reader, end: number): otlp.Exemplar {
  const filteredAttributes: otlp.KeyValue[] = [];
  let timeUnixNano = 0n;
  let value = NO_NUMBER;
  let spanId = EMPTY_BYTES;
  let traceId = EMPTY_BYTES;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((7 << 3) | 2)) filteredAttributes.push(keyValue(r, r.delimited(end), 1));
    else if (tag === ((2 << 3) | 1)) timeUnixNano = r.fixed64();
    else if (tag === ((3 << 3) | 1)) value = { kind: 'double', value: r.double() };
    else if (tag === ((6 << 3) | 1)) value = { kind: 'int', value: r.sfixed64() };
    else if (tag === ((4 << 3) | 2)) spanId = r.bytes(end);
    else if (tag === ((5 << 3) | 2)) traceId = r.bytes(end);
    else other(r, tag, end, EXEMPLAR);
  }
  r.done(end);
  return { filteredAttributes, timeUnixNano, value, spanId, traceId };
}
