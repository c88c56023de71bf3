// How the report writes figures and tables, shared by its sections.

import type { Signal } from '../src/decode/types.js';
import type { EndToEndResult } from './end-to-end.js';
import type { CpuDelta } from './proc.js';

export const n = (v: number): string => Math.round(v).toLocaleString('en-US');
export const f1 = (v: number): string => v.toFixed(1);
export const f2 = (v: number): string => v.toFixed(2);
export const mb = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
export const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
export const ITEM: Readonly<Record<Signal, string>> = { traces: 'span', logs: 'log record', metrics: 'data point' };

/** A Markdown table; columns whose cells are all figures are right-aligned. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const figure = /^(\*\*)?[-−\d.,]+( ?[×%s]| MB| ms| µs)?(\*\*)?$|^$|^n\/a$/;
  const right = head.map((_, i) => i > 0 && rows.every((r) => figure.test(r[i] ?? '')));
  const out = [`| ${head.join(' | ')} |`, `|${right.map((r) => (r ? '---:' : '---')).join('|')}|`];
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  return out.join('\n');
}

/** CPU used by other programs during a measurement, as a share of the machine; bold past 10 %. */
export function otherLoad(cpu: CpuDelta, cores: number): string {
  const share = cpu.other / Math.max(cpu.seconds * cores, 1e-9);
  return share > 0.1 ? `**${pct(share)}**` : pct(share);
}

/** Rows committed minus items acknowledged: 0, or bold. */
export function storedMinusAcked(x: EndToEndResult): string {
  const d = x.committed - x.acked;
  return d === 0 ? '0' : `**${n(d)}**`;
}

export const E2E_HEAD = [
  'rows/s', 'p50 ms', 'p99 ms', 'server µs/item', 'PostgreSQL µs/item', 'server peak RSS', 'machine busy', 'other programs', 'refused requests', 'stored − acked',
];

export function e2eRow(x: EndToEndResult, cores: number): string[] {
  return [
    n(x.rowsPerSecond),
    f1(x.latencyMs.p50),
    f1(x.latencyMs.p99),
    f1(x.serverUsPerItem),
    f1(x.postgresUsPerItem),
    mb(x.peakRssBytes),
    pct(x.cpu.machineBusy),
    otherLoad(x.cpu, cores),
    x.refusedRequests === 0 ? '0' : `${x.refusedRequests} (${x.refusals})`,
    storedMinusAcked(x),
  ];
}
