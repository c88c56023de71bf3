// Fan-in: each traces request holds one service's spans of many traces, so a trace arrives in k
// requests from k services. Checked on what replay actually sends, decoded.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/decode/index.js';
import type { ExportTraceServiceRequest, Signal } from '../../src/decode/types.js';
import { buildTemplates, type RequestShape } from '../../src/loadgen/build-requests.js';
import { replay, SendKeys } from '../../src/loadgen/replay.js';
import { RunStats } from '../../src/loadgen/stats.js';
import type { Template } from '../../src/loadgen/template.js';
import type { Transport } from '../../src/loadgen/transport.js';

const K = 5;
const SHAPE: RequestShape = {
  spansPerRequest: 20,
  spansPerTrace: 10,
  logsPerRequest: 5,
  pointsPerRequest: 4,
  attributes: 2,
  attributeSize: 8,
  services: 5,
  errorRatio: 0.1,
  seed: 3,
  fanIn: K,
};
const BUILT_AT_MS = Date.UTC(2025, 0, 1);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function serviceOf(request: ExportTraceServiceRequest): string[] {
  return request.resourceSpans.map((rs) => {
    const v = rs.resource?.attributes.find((a) => a.key === 'service.name')?.value;
    return v?.kind === 'string' ? v.value : '';
  });
}

let templates: Template[];
beforeAll(async () => {
  templates = await buildTemplates(['traces', 'logs'], SHAPE, BUILT_AT_MS);
});

describe('loadgen fan-in', () => {
  it('builds k traces requests per service, one service each, parts of one group in order', () => {
    const traces = templates.filter((t) => t.signal === 'traces');
    expect(traces).toHaveLength(SHAPE.services * K);
    expect(traces.slice(0, 5).map((t) => [t.service, t.fanIn?.group, t.fanIn?.part])).toEqual([
      ['checkout', 0, 0], ['cart', 0, 1], ['payment', 0, 2], ['frontend', 0, 3], ['inventory', 0, 4],
    ]);
    // The group of the second service starts with it: its traces are rooted there.
    expect(traces.slice(5, 10).map((t) => t.service)).toEqual(['cart', 'payment', 'frontend', 'inventory', 'checkout']);
    // 10 whole traces a group, 2 spans of each in each service's request.
    expect(traces.every((t) => t.items === 20)).toBe(true);
    expect(templates.filter((t) => t.signal === 'logs').every((t) => t.fanIn === undefined)).toBe(true);
  });

  it('sends every trace in exactly k requests from k services, whole, interleaved with other sends', async () => {
    const sent: { signal: Signal; body: Buffer }[] = [];
    const transport: Transport = {
      send: async (signal, body) => {
        sent.push({ signal, body });
        return { ok: true, rejected: 0 };
      },
      close: () => {},
    };
    // Two rounds of the 25 traces requests, with a logs request between any two of them.
    await replay({
      templates, builtAtMs: BUILT_AT_MS, weights: { traces: 1, logs: 1 }, concurrency: 4,
      itemsPerSecond: 0, durationMs: 0, maxRequests: 100, transport, stats: new RunStats(),
    });
    const requests = sent.filter((s) => s.signal === 'traces').map((s) => decodeRequest('traces', s.body, 'protobuf'));
    expect(requests).toHaveLength(50);

    const traces = new Map<string, { requests: Set<number>; services: Set<string>; spans: ExportTraceServiceRequest['resourceSpans'][number]['scopeSpans'][number]['spans'][number][]; roots: string[] }>();
    requests.forEach((request, i) => {
      const [service, ...others] = serviceOf(request);
      expect(others).toEqual([]);
      for (const span of request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))) {
        const id = hex(span.traceId);
        const t = traces.get(id) ?? { requests: new Set(), services: new Set(), spans: [], roots: [] };
        traces.set(id, t);
        t.requests.add(i);
        t.services.add(service ?? '');
        t.spans.push(span);
        if (span.parentSpanId.length === 0) t.roots.push(service ?? '');
      }
    });
    // Fresh ids per round: 2 rounds × 5 groups × 10 traces, none shared between rounds.
    expect(traces.size).toBe(100);
    for (const t of traces.values()) {
      expect([t.requests.size, t.services.size, t.spans.length, t.roots.length]).toEqual([5, 5, 10, 1]);
      const ids = new Set(t.spans.map((s) => hex(s.spanId)));
      expect(t.spans.every((s) => s.parentSpanId.length === 0 || ids.has(hex(s.parentSpanId)))).toBe(true);
    }
    // The root is in the group's first request, the one of the service the group is rooted in.
    const firstOfGroup = requests[0] as ExportTraceServiceRequest;
    const rootedThere = [...traces.values()].filter((t) => t.requests.has(0));
    expect(rootedThere).toHaveLength(10);
    expect(rootedThere.every((t) => t.roots[0] === serviceOf(firstOfGroup)[0])).toBe(true);
  });

  it('gives the later parts of a group the first part\'s key, even sent later, and each round a new one', () => {
    let now = BUILT_AT_MS + 1000;
    const keys = new SendKeys(BUILT_AT_MS, 41n, () => now);
    const traces = templates.filter((t) => t.signal === 'traces');
    const part = (group: number, p: number): Template => traces[group * K + p] as Template;
    const first = keys.next(part(0, 0));
    now += 5;
    expect(keys.next(part(0, 1))).toEqual(first);
    expect(keys.next(templates.find((t) => t.signal === 'logs') as Template)).toEqual({ seq: 43n, shiftNs: 1_005_000_043n });
    expect(keys.next(part(0, 4))).toEqual(first);
    expect(first).toEqual({ seq: 42n, shiftNs: 1_000_000_042n });
    expect(keys.next(part(0, 0)).seq).toBe(44n);
    expect(keys.next(part(0, 1)).seq).toBe(44n);
  });

  it('refuses a fan-in wider than the services or the traces', async () => {
    await expect(buildTemplates(['traces'], { ...SHAPE, services: 4 })).rejects.toThrow(/fan-in of 5 needs as many services/);
    await expect(buildTemplates(['traces'], { ...SHAPE, spansPerTrace: 4 })).rejects.toThrow(/spans per trace/);
  });
});
