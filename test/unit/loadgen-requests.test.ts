// The load generator's requests: built with the OTel SDK, decodable by our decoder, and varied on
// every send exactly where intended (trace ids, timestamps) and nowhere else.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/decode/index.js';
import type { ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest } from '../../src/decode/types.js';
import { keyValuesOf } from '../../src/decode/wire-attributes.js';
import { buildTemplates, type RequestShape } from '../../src/loadgen/build-requests.js';
import { sendShiftNs, TemplateMix } from '../../src/loadgen/replay.js';
import { render, variedTraceId, type Template } from '../../src/loadgen/template.js';

const SHAPE: RequestShape = {
  spansPerRequest: 25,
  spansPerTrace: 5,
  logsPerRequest: 20,
  pointsPerRequest: 10,
  attributes: 6,
  attributeSize: 12,
  services: 2,
  errorRatio: 0.1,
  seed: 7,
};
const BUILT_AT_MS = Date.UTC(2025, 0, 1);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

let templates: Template[];
beforeAll(async () => {
  templates = await buildTemplates(['traces', 'logs', 'metrics'], SHAPE, BUILT_AT_MS);
});

const of = (signal: Template['signal']): Template[] => templates.filter((t) => t.signal === signal);
const spansOf = (r: ExportTraceServiceRequest) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

describe('loadgen requests', () => {
  it('builds one request per signal and service with the asked-for item counts', () => {
    expect(templates.map((t) => `${t.signal}/${t.service}/${t.items}`)).toEqual([
      'traces/checkout/25', 'logs/checkout/20', 'metrics/checkout/10', 'traces/cart/25', 'logs/cart/20', 'metrics/cart/10',
    ]);
    const traces = decodeRequest('traces', (of('traces')[0] as Template).bytes, 'protobuf');
    const spans = spansOf(traces);
    expect(spans).toHaveLength(25);
    expect(new Set(spans.map((s) => hex(s.traceId))).size).toBe(5);
    expect(spans.every((s) => s.attributes.length === 6)).toBe(true);
    expect(spans.filter((s) => s.parentSpanId.length === 0)).toHaveLength(5);
    const service = traces.resourceSpans[0]?.resource?.attributes.find((a) => a.key === 'service.name')?.value;
    expect(service).toEqual({ kind: 'string', value: 'checkout' });
  });

  it('the same seed builds the same bytes', async () => {
    const again = await buildTemplates(['traces', 'logs', 'metrics'], SHAPE, BUILT_AT_MS);
    expect(again.map((t) => hex(t.bytes))).toEqual(templates.map((t) => hex(t.bytes)));
  });

  it('varies trace ids per send, keeping the spans of one trace together', () => {
    const t = of('traces')[0] as Template;
    const original = spansOf(decodeRequest('traces', t.bytes, 'protobuf'));
    const first = spansOf(decodeRequest('traces', render(t, 1n, 0n), 'protobuf'));
    const second = spansOf(decodeRequest('traces', render(t, 2n, 0n), 'protobuf'));
    first.forEach((s, i) => {
      const o = original[i] as (typeof original)[number];
      expect(hex(s.traceId)).toBe(hex(variedTraceId(o.traceId, 1n)));
      expect(hex(s.traceId)).not.toBe(hex(o.traceId));
      expect(hex(s.traceId)).not.toBe(hex((second[i] as (typeof second)[number]).traceId));
      // Only the trace id changes: span ids, parents, names and attributes stay as built.
      expect(hex(s.spanId)).toBe(hex(o.spanId));
      expect(hex(s.parentSpanId)).toBe(hex(o.parentSpanId));
      expect(keyValuesOf(s.attributes)).toEqual(keyValuesOf(o.attributes));
    });
  });

  it('moves every timestamp by the shift, events included', () => {
    const shift = sendShiftNs(BUILT_AT_MS, 5n, BUILT_AT_MS + 60_000);
    expect(shift).toBe(60_000_000_005n);
    const t = of('traces')[0] as Template;
    const original = spansOf(decodeRequest('traces', t.bytes, 'protobuf'));
    const moved = spansOf(decodeRequest('traces', render(t, 5n, shift), 'protobuf'));
    expect(original.some((s) => s.events.length > 0)).toBe(true); // errors carry an exception event
    moved.forEach((s, i) => {
      const o = original[i] as (typeof original)[number];
      expect(s.startTimeUnixNano).toBe(o.startTimeUnixNano + shift);
      expect(s.endTimeUnixNano).toBe(o.endTimeUnixNano + shift);
      s.events.forEach((e, j) => expect(e.timeUnixNano).toBe((o.events[j] as (typeof o.events)[number]).timeUnixNano + shift));
    });

    const logs = (b: Uint8Array): ExportLogsServiceRequest => decodeRequest('logs', b, 'protobuf');
    const l = of('logs')[0] as Template;
    const records = (r: ExportLogsServiceRequest) => r.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    const [lo, lm] = [records(logs(l.bytes)), records(logs(render(l, 5n, shift)))];
    lm.forEach((r, i) => {
      const o = lo[i] as (typeof lo)[number];
      expect(r.timeUnixNano).toBe(o.timeUnixNano + shift);
      expect(r.observedTimeUnixNano).toBe(o.observedTimeUnixNano + shift);
      expect(hex(r.traceId)).toBe(hex(variedTraceId(o.traceId, 5n)));
    });

    const m = of('metrics')[0] as Template;
    const points = (r: ExportMetricsServiceRequest): { readonly timeUnixNano: bigint }[] =>
      r.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.flatMap((x) => ('dataPoints' in x.data ? [...x.data.dataPoints] : []))));
    const [po, pm] = [points(decodeRequest('metrics', m.bytes, 'protobuf')), points(decodeRequest('metrics', render(m, 5n, shift), 'protobuf'))];
    expect(po).toHaveLength(10);
    pm.forEach((p, i) => expect(p.timeUnixNano).toBe((po[i] as (typeof po)[number]).timeUnixNano + shift));
  });

  it('never sends the same bytes twice from one template, even within one millisecond', () => {
    const m = of('metrics')[0] as Template;
    const sends = [1n, 2n, 3n].map((seq) => hex(render(m, seq, sendShiftNs(BUILT_AT_MS, seq, BUILT_AT_MS))));
    expect(new Set(sends).size).toBe(3);
  });

  it('mixes signals by weight, interleaved, and each signal cycles through its services', () => {
    const mix = new TemplateMix(templates, { traces: 3, logs: 1 });
    const picks = Array.from({ length: 8 }, () => mix.next());
    expect(picks.map((t) => t.signal)).toEqual(['traces', 'traces', 'logs', 'traces', 'traces', 'traces', 'logs', 'traces']);
    expect(picks.filter((t) => t.signal === 'traces').map((t) => t.service).slice(0, 3)).toEqual(['checkout', 'cart', 'checkout']);
    expect(mix.meanItems).toBe((3 * 25 + 20) / 4);
    expect(() => new TemplateMix(of('logs'), { traces: 1 })).toThrow(/no template/);
  });
});
