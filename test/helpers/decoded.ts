import type {
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  ItemAttributes,
  MetricData,
  Signal,
  SignalRequests,
} from '../../src/decode/types.js';
import { keyValuesOf } from '../../src/decode/wire-attributes.js';

/**
 * The request with the attributes the protobuf decoder kept as bytes (src/decode/wire-attributes.ts)
 * decoded, every object otherwise as it was (same classes, same property order), for comparing
 * with what a decoder that keeps none makes.
 */
export function withAttributesDecoded<S extends Signal>(signal: S, request: SignalRequests[S]): SignalRequests[S] {
  if (signal === 'traces') {
    const traces = request as ExportTraceServiceRequest;
    const decoded: ExportTraceServiceRequest = {
      ...traces,
      resourceSpans: traces.resourceSpans.map((rs) => ({
        ...rs,
        scopeSpans: rs.scopeSpans.map((ss) => ({
          ...ss,
          spans: ss.spans.map((s) => ({ ...s, attributes: keyValuesOf(s.attributes) })),
        })),
      })),
    };
    return decoded as SignalRequests[S];
  }
  if (signal === 'logs') {
    const logs = request as ExportLogsServiceRequest;
    const decoded: ExportLogsServiceRequest = {
      ...logs,
      resourceLogs: logs.resourceLogs.map((rl) => ({
        ...rl,
        scopeLogs: rl.scopeLogs.map((sl) => ({
          ...sl,
          logRecords: sl.logRecords.map((l) => ({ ...l, attributes: keyValuesOf(l.attributes) })),
        })),
      })),
    };
    return decoded as SignalRequests[S];
  }
  const metrics = request as ExportMetricsServiceRequest;
  const decoded: ExportMetricsServiceRequest = {
    ...metrics,
    resourceMetrics: metrics.resourceMetrics.map((rm) => ({
      ...rm,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        ...sm,
        metrics: sm.metrics.map((m) => ({ ...m, data: withPointAttributesDecoded(m.data) })),
      })),
    })),
  };
  return decoded as SignalRequests[S];
}

function withPointAttributesDecoded(data: MetricData): MetricData {
  if (!('dataPoints' in data)) return data;
  // Spread: the attributes keep their place among the point's properties.
  const points = data.dataPoints.map((p: { readonly attributes: ItemAttributes }) => ({
    ...p,
    attributes: keyValuesOf(p.attributes),
  }));
  return { ...data, dataPoints: points } as unknown as MetricData;
}
