// The load generator's traffic shapes beyond the defaults: log records spread over many resources
// (--logs-per-resource) and metric streams new on every send (--new-series).
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/decode/index.js';
import type { ExportLogsServiceRequest, ExportMetricsServiceRequest, KeyValue } from '../../src/decode/types.js';
import { buildTemplates } from '../../src/loadgen/build-requests.js';
import { defaultLoadgenOptions, parseLoadgenArgs, type LoadgenOptions } from '../../src/loadgen/options.js';
import { render, variedNameToken, type Template } from '../../src/loadgen/template.js';
import { withAttributesDecoded } from '../helpers/decoded.js';

const BUILT_AT_MS = Date.UTC(2025, 0, 1);
const shape = (over: Partial<LoadgenOptions>): LoadgenOptions => defaultLoadgenOptions({ services: 1, attributes: 4, seed: 3, ...over });

async function one(signal: Template['signal'], over: Partial<LoadgenOptions>): Promise<Template> {
  const [t] = await buildTemplates([signal], shape(over), BUILT_AT_MS);
  return t as Template;
}

const attr = (kvs: readonly KeyValue[] | undefined, key: string): unknown => kvs?.find((kv) => kv.key === key)?.value;
const logs = (b: Uint8Array): ExportLogsServiceRequest => decodeRequest('logs', b, 'protobuf');
const metrics = (b: Uint8Array): ExportMetricsServiceRequest => withAttributesDecoded('metrics', decodeRequest('metrics', b, 'protobuf'));
const metricsOf = (r: ExportMetricsServiceRequest) => r.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
const pointsOf = (m: ReturnType<typeof metricsOf>[number]): number => ('dataPoints' in m.data ? m.data.dataPoints.length : 0);

describe('loadgen logs per resource', () => {
  it('puts every record of a request under one resource unless asked otherwise', async () => {
    const r = logs((await one('logs', { logsPerRequest: 20 })).bytes);
    expect(r.resourceLogs.map((rl) => rl.scopeLogs.reduce((n, sl) => n + sl.logRecords.length, 0))).toEqual([20]);
  });

  it('spreads the records over resources of that many records, each another instance of the service', async () => {
    const t = await one('logs', { logsPerRequest: 20, logsPerResource: 6 });
    expect(t.items).toBe(20);
    const r = logs(t.bytes);
    expect(r.resourceLogs.map((rl) => rl.scopeLogs.reduce((n, sl) => n + sl.logRecords.length, 0))).toEqual([6, 6, 6, 2]);
    const instances = r.resourceLogs.map((rl) => JSON.stringify(attr(rl.resource?.attributes, 'service.instance.id')));
    expect(new Set(instances).size).toBe(4);
    for (const rl of r.resourceLogs) expect(attr(rl.resource?.attributes, 'service.name')).toEqual({ kind: 'string', value: 'checkout' });
  });

  it('gives one resource per record at 1', async () => {
    expect(logs((await one('logs', { logsPerRequest: 7, logsPerResource: 1 })).bytes).resourceLogs).toHaveLength(7);
  });

  it('is a loadgen flag', () => {
    expect(parseLoadgenArgs(['--logs-per-resource', '50'])?.logsPerResource).toBe(50);
    expect(parseLoadgenArgs([])?.logsPerResource).toBe(0);
    expect(() => parseLoadgenArgs(['--logs-per-resource', '-1'])).toThrow(/--logs-per-resource/);
  });
});

describe('loadgen new metric series', () => {
  it('sends the same four streams every time by default', async () => {
    const t = await one('metrics', { pointsPerRequest: 12 });
    expect(t.nameSlots).toEqual([]);
    const names = (b: Uint8Array) => metricsOf(metrics(b)).map((m) => m.name);
    expect(names(t.bytes)).toEqual(['http.server.duration', 'http.server.requests', 'queue.depth', 'db.client.connections.usage']);
    expect(names(render(t, 9n, 0n))).toEqual(names(t.bytes));
  });

  it('names one stream per data point, each send anew, keeping the points as built', async () => {
    const t = await one('metrics', { pointsPerRequest: 12, newSeries: true });
    expect(t.items).toBe(12);
    expect(t.nameSlots).toHaveLength(12);
    const built = metricsOf(metrics(t.bytes));
    expect(built.map(pointsOf)).toEqual(Array(12).fill(1));
    expect(built.map((m) => m.name.replace(/\.[0-9a-f]{16}$/, ''))).toEqual(
      Array.from({ length: 3 }, () => ['http.server.duration', 'http.server.requests', 'queue.depth', 'db.client.connections.usage']).flat(),
    );

    const sends = [1n, 2n].map((seq) => metricsOf(metrics(render(t, seq, 0n))));
    const names = sends.flatMap((ms) => ms.map((m) => m.name));
    expect(new Set(names).size).toBe(24); // distinct within a send and between sends
    sends[0]?.forEach((m, i) => {
      const b = built[i] as (typeof built)[number];
      const token = BigInt(`0x${b.name.slice(-16)}`);
      expect(m.name).toBe(`${b.name.slice(0, -16)}${variedNameToken(token, 1n)}`);
      expect(m.data).toEqual(b.data);
    });
  });

  it('is a loadgen flag', () => {
    expect(parseLoadgenArgs(['--new-series'])?.newSeries).toBe(true);
    expect(parseLoadgenArgs([])?.newSeries).toBe(false);
  });
});
