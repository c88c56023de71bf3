// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per function
// and per area of the code (our stages, the libraries, node itself, GC), as shares of the samples
// taken while the process was not idle.

import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  /** Monotonic clock, µs: CLOCK_MONOTONIC on Linux, the clock of process.hrtime in every process. */
  readonly startTime: number;
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  /** Share of busy (non-idle) time, 0–1. */
  readonly share: number;
  readonly ms: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  /** Self time per function. */
  readonly functions: readonly ProfileEntry[];
  /** Self time per area (our directories, each library, node, GC). */
  readonly areas: readonly ProfileEntry[];
  /**
   * Time per otlp-pg stage including the libraries and builtins it calls: each sample goes to the
   * innermost otlp-pg frame on its stack, else to the innermost library. GC stays apart.
   */
  readonly stages: readonly ProfileEntry[];
}

/** Which part of the program a source URL belongs to. */
function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native (program)';
  const src = /\/(?:dist|src)\/([a-z-]+)\//.exec(url);
  if (src && !url.includes('node_modules')) return `otlp-pg ${src[1]}/`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  if (url === '') return 'native/builtins';
  return url.replace(/^.*\//, '');
}

function top(map: Map<string, number>, busy: number, n: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, share: us / busy, ms: us / 1000 }));
}

/** A span of the monotonic clock in µs: only samples inside it are counted. */
export interface ProfileWindow {
  readonly startUs: number;
  readonly endUs: number;
}

/**
 * Sums the profiles of several processes (a primary and its workers) into one summary, counting
 * only the samples taken within `window` (the measured run, without start-up and warm-up).
 */
export function summarizeProfile(files: readonly string[], n = 20, window?: ProfileWindow): ProfileSummary {
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  const stages = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const file of files) {
    const r = addProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, functions, areas, stages, window);
    idle += r.idle;
    busy += r.busy;
  }
  return { busyMs: busy / 1000, idleMs: idle / 1000, functions: top(functions, busy, n), areas: top(areas, busy, n), stages: top(stages, busy, n) };
}

function addProfile(
  profile: CpuProfile,
  functions: Map<string, number>,
  areas: Map<string, number>,
  stages: Map<string, number>,
  window: ProfileWindow | undefined,
): { idle: number; busy: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window.startUs || at > window.endUs)) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const stageOf = (id: number): string => {
    let library: string | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) break;
      const area = areaOf(frame.url, frame.functionName);
      if (area.startsWith('otlp-pg ') || area === 'GC') return area;
      if (library === undefined && frame.url.includes('node_modules')) library = area;
    }
    return library ?? 'node/V8 (no otlp-pg or library frame)';
  };
  let idle = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const file = frame.url.replace(/^.*\/(node_modules\/|dist\/|src\/)/, '$1');
    const name = `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const stage = stageOf(id);
    stages.set(stage, (stages.get(stage) ?? 0) + us);
  }
  return { idle, busy };
}
