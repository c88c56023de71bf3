// Findings for people: a table with the reasons under what needs attention.
import type { Finding, Verdict } from './types.js';

export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

const WIDTH = 100;
const MAX_CELL = 44;

function cell(text: string, width: number): string {
  const t = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return t.padEnd(width);
}

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

/** Findings in a table, one row each; warn, fail and info rows get their detail beneath. */
export function renderTable(findings: readonly Finding[]): string {
  const widths = {
    check: Math.min(MAX_CELL, Math.max(5, ...findings.map((f) => f.check.length))),
    value: Math.min(MAX_CELL, Math.max(5, ...findings.map((f) => f.value.length))),
  };
  const row = (verdict: string, check: string, value: string, recommended: string): string =>
    `${verdict.padEnd(7)} ${cell(check, widths.check)}  ${cell(value, widths.value)}  ${recommended}`.trimEnd();
  const lines = [row('VERDICT', 'CHECK', 'VALUE', 'RECOMMENDED')];
  for (const f of findings) {
    lines.push(row(f.verdict, f.check, f.value, f.recommended ?? ''));
    if (f.verdict !== 'ok' && f.detail !== '') lines.push(...wrap(f.detail, '        '));
  }
  return `${lines.join('\n')}\n`;
}

export function summary(findings: readonly Finding[]): string {
  const counts: Record<Verdict, number> = { ok: 0, warn: 0, fail: 0, info: 0 };
  for (const f of findings) counts[f.verdict]++;
  return `${counts.fail} fail, ${counts.warn} warn, ${counts.ok} ok, ${counts.info} info`;
}
