// One hand-written SVG with three panels: end to end vs the one-stream psql binary COPY limit per
// traffic shape, and the batch-size and writer sweeps. No chart library: the figures come straight
// from the results.

import type { BenchResults } from './report.js';

const W = 1400;
const H = 390;
const SHAPES_W = 640;
const PANEL_W = 280;
const PANEL_H = 250;
const TOP = 70;
const COLORS = { traces: '#4e79a7', logs: '#f28e2b', metrics: '#59a14f', limit: '#bab0ac' } as const;
const SIGNALS = ['traces', 'logs', 'metrics'] as const;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const k = (v: number): string => (v >= 1000 ? `${Math.round(v / 100) / 10}k` : String(Math.round(v)));

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function axes(x0: number, width: number, title: string, yMax: number, labels: readonly string[]): string {
  const parts = [`<text x="${x0 + width / 2}" y="${TOP - 30}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const y = TOP + PANEL_H - (PANEL_H * i) / 4;
    parts.push(`<line x1="${x0}" x2="${x0 + width}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end" font-size="11">${k((yMax * i) / 4)}</text>`);
  }
  const step = width / labels.length;
  labels.forEach((l, i) => parts.push(`<text x="${x0 + step * (i + 0.5)}" y="${TOP + PANEL_H + 16}" text-anchor="middle" font-size="10">${esc(l)}</text>`));
  parts.push(`<line x1="${x0}" x2="${x0}" y1="${TOP}" y2="${TOP + PANEL_H}" stroke="#999"/>`);
  return parts.join('\n');
}

function shapesPanel(x0: number, r: BenchResults): string {
  const rows = r.shapes;
  const yMax = niceMax(Math.max(...rows.flatMap((s) => [s.e2e.rowsPerSecond, s.psql?.rowsPerSecond ?? 0]), 1));
  const parts = [axes(x0, SHAPES_W, 'rows/s: end to end vs one-stream psql binary COPY of the same rows', yMax, rows.map((s) => s.short))];
  const step = SHAPES_W / Math.max(rows.length, 1);
  rows.forEach((s, i) => {
    const bw = step * 0.38;
    const x = x0 + step * i + step * 0.12;
    for (const [j, value, color] of [[0, s.e2e.rowsPerSecond, COLORS[s.signal]], [1, s.psql?.rowsPerSecond ?? 0, COLORS.limit]] as const) {
      const bh = (PANEL_H * value) / yMax;
      parts.push(`<rect x="${x + j * bw}" y="${TOP + PANEL_H - bh}" width="${bw - 2}" height="${bh}" fill="${color}"/>`);
      parts.push(`<text x="${x + j * bw + bw / 2}" y="${TOP + PANEL_H - bh - 4}" text-anchor="middle" font-size="9">${k(value)}</text>`);
    }
    if (s.psql) parts.push(`<text x="${x + bw}" y="${TOP + PANEL_H + 30}" text-anchor="middle" font-size="10">${(s.e2e.rowsPerSecond / s.psql.rowsPerSecond).toFixed(2)}×</text>`);
  });
  parts.push(`<rect x="${x0 + 4}" y="${TOP + PANEL_H + 44}" width="10" height="10" fill="${COLORS.traces}"/><text x="${x0 + 18}" y="${TOP + PANEL_H + 53}" font-size="11">OTLP → otlp-pg → committed (traces, logs, metrics)</text>`);
  parts.push(`<rect x="${x0 + 330}" y="${TOP + PANEL_H + 44}" width="10" height="10" fill="${COLORS.limit}"/><text x="${x0 + 344}" y="${TOP + PANEL_H + 53}" font-size="11">psql \\copy … (FORMAT binary), one stream</text>`);
  return parts.join('\n');
}

function sweepPanel(x0: number, r: BenchResults, kind: 'batch' | 'writers', title: string): string {
  const points = r.sweeps.filter((s) => s.kind === kind);
  const series = SIGNALS.map((signal) => ({ signal, points: points.filter((p) => p.signal === signal).sort((a, b) => a.value - b.value) })).filter(
    (s) => s.points.length > 0,
  );
  if (series.length === 0) return '';
  // x is logarithmic in the setting (batch sizes differ per signal; writers double), ticks at the values swept.
  const values = [...new Set(points.map((p) => p.value))].sort((a, b) => a - b);
  const lo = Math.log(values[0] ?? 1);
  const span = Math.max(Math.log(values[values.length - 1] ?? 1) - lo, 1e-9);
  const xOf = (v: number): number => x0 + 20 + ((PANEL_W - 40) * (Math.log(v) - lo)) / span;
  const yMax = niceMax(Math.max(...points.map((p) => p.result.rowsPerSecond), 1));
  const parts = [axes(x0, PANEL_W, title, yMax, [])];
  for (const v of values) parts.push(`<text x="${xOf(v)}" y="${TOP + PANEL_H + 16}" text-anchor="middle" font-size="11">${k(v)}</text>`);
  series.forEach((s, si) => {
    const xy = s.points.map((p) => [xOf(p.value), TOP + PANEL_H - (PANEL_H * p.result.rowsPerSecond) / yMax] as const);
    parts.push(`<polyline fill="none" stroke="${COLORS[s.signal]}" stroke-width="2" points="${xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`);
    s.points.forEach((p, i) => {
      const [x, y] = xy[i] as readonly [number, number];
      parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${COLORS[s.signal]}"><title>${s.signal} ${kind} ${p.value}: ${Math.round(p.result.rowsPerSecond)} rows/s</title></circle>`);
    });
    parts.push(`<rect x="${x0 + 4 + si * 90}" y="${TOP + PANEL_H + 44}" width="10" height="10" fill="${COLORS[s.signal]}"/><text x="${x0 + 18 + si * 90}" y="${TOP + PANEL_H + 53}" font-size="11">${s.signal}</text>`);
  });
  return parts.join('\n');
}

export function chartSvg(r: BenchResults): string {
  const subtitle = `${r.mode} run, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC · ${r.machine.cores} cores shared by otlp-pg, PostgreSQL ${r.postgres.version} and the load generator`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(subtitle)}</text>`,
    shapesPanel(60, r),
    sweepPanel(770, r, 'batch', 'rows/s by batch size (items per COPY)'),
    sweepPanel(1100, r, 'writers', 'rows/s by writers (--writers)'),
    '</svg>',
    '',
  ].join('\n');
}
