// Reading CPU time and memory of processes from /proc (Linux), so the bench can say what the
// server, PostgreSQL and the load generator each cost on a machine they share.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

let ticksPerSecond: number | undefined;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every common Linux). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process has exited
  }
}

/**
 * CPU seconds a process has used in user and kernel mode, all its threads included. With
 * `children`, also what its exited, waited-for children used (PostgreSQL's ended backends).
 */
export function cpuSeconds(pid: number, children = false): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After the name: state(0) ppid … utime(11) stime(12) cutime(13) cstime(14).
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / clockTicks();
}

/** CPU seconds used by this process's exited, waited-for children (a psql run by the bench). */
export function childrenCpuSeconds(): number {
  return cpuSeconds(process.pid, true) - cpuSeconds(process.pid);
}

/** Peak resident set size (VmHWM) in bytes, and the current one (VmRSS). */
export function memory(pid: number): { peakRss: number; rss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { peakRss: kib('VmHWM'), rss: kib('VmRSS') };
  } catch {
    return { peakRss: 0, rss: 0 };
  }
}

function processes(): { pid: number; ppid: number; comm: string }[] {
  const out: { pid: number; ppid: number; comm: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const f = statFields(Number(entry));
      if (f) out.push({ pid: Number(entry), ppid: Number(f[1]), comm });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** `root` and every process descended from it (otlp-pg with --workers is a primary and its workers). */
export function processTree(root: number): number[] {
  const all = processes();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const p of all) if (p.ppid === tree[i]) tree.push(p.pid);
  return tree;
}

/** CPU seconds of a process tree, including what its exited children used. */
export function treeCpuSeconds(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + cpuSeconds(pid, pid === root), 0);
}

/**
 * Memory of a process tree: peak is the sum of each process's VmHWM (an upper bound of the
 * simultaneous peak: the processes need not peak at once), current the sum of VmRSS.
 */
export function treeMemory(root: number): { peakRss: number; rss: number; largestPeakRss: number; processes: number } {
  const tree = processTree(root);
  let peakRss = 0;
  let rss = 0;
  let largestPeakRss = 0;
  for (const pid of tree) {
    const m = memory(pid);
    peakRss += m.peakRss;
    rss += m.rss;
    largestPeakRss = Math.max(largestPeakRss, m.peakRss);
  }
  return { peakRss, rss, largestPeakRss, processes: tree.length };
}

/** The postmaster whose command line names `dataDir` (the embedded PostgreSQL), if any. */
export function findPostmaster(dataDir: string): number | undefined {
  for (const p of processes()) {
    if (p.comm !== 'postgres') continue;
    try {
      const args = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      if (args.includes(dataDir)) return p.pid;
    } catch {
      // exited
    }
  }
  return undefined;
}

/**
 * CPU seconds of one PostgreSQL server: the postmaster, what its exited backends used, and its
 * live children. Without a postmaster (a DATABASE_URL server), every local `postgres` process:
 * then other servers on the machine are counted too, and the results say so.
 */
export function postgresCpuSeconds(postmaster: number | undefined): number {
  let total = 0;
  for (const p of processes()) {
    if (p.comm !== 'postgres') continue;
    if (postmaster === undefined || p.pid === postmaster) total += cpuSeconds(p.pid, true);
    else if (p.ppid === postmaster) total += cpuSeconds(p.pid);
  }
  return total;
}

/** Busy and total CPU time of the whole machine, summed over cores (from /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: (total - idle) / clockTicks(), total: total / clockTicks() };
}

/** CPU of the interesting processes at one instant; subtract two to get a phase's cost. */
export interface CpuSnapshot {
  readonly at: number;
  readonly server: number;
  readonly postgres: number;
  readonly bench: number;
  readonly machineBusy: number;
  readonly machineTotal: number;
}

export function snapshot(serverPid: number | undefined, postmaster: number | undefined): CpuSnapshot {
  const self = process.cpuUsage();
  const machine = machineCpu();
  return {
    at: performance.now(),
    server: serverPid === undefined ? 0 : treeCpuSeconds(serverPid),
    postgres: postgresCpuSeconds(postmaster),
    bench: (self.user + self.system) / 1e6,
    machineBusy: machine.busy,
    machineTotal: machine.total,
  };
}

export interface CpuDelta {
  readonly seconds: number;
  /** CPU seconds used in the interval by each. */
  readonly server: number;
  readonly postgres: number;
  /** The bench process: the load generator, or the raw COPY writers. */
  readonly bench: number;
  /** Share of all cores busy, 0–1. */
  readonly machineBusy: number;
  /** CPU seconds used by everything else on the machine (other programs, other tests). */
  readonly other: number;
}

export function delta(a: CpuSnapshot, b: CpuSnapshot): CpuDelta {
  return {
    seconds: (b.at - a.at) / 1000,
    server: b.server - a.server,
    postgres: b.postgres - a.postgres,
    bench: b.bench - a.bench,
    machineBusy: (b.machineBusy - a.machineBusy) / Math.max(b.machineTotal - a.machineTotal, 1e-9),
    other: Math.max(0, b.machineBusy - a.machineBusy - (b.server - a.server) - (b.postgres - a.postgres) - (b.bench - a.bench)),
  };
}

/**
 * Waits (up to `maxMs`) until the machine's cores are mostly idle, so a measurement does not start
 * while another program (another engineer's tests, a build) still holds them. Returns how long it
 * waited; the measurement itself still records what else ran during it.
 */
export async function waitForQuiet(maxMs: number, busyBelow = 0.15, sampleMs = 500): Promise<number> {
  const start = performance.now();
  for (;;) {
    const a = machineCpu();
    await new Promise((r) => setTimeout(r, sampleMs));
    const b = machineCpu();
    const busy = (b.busy - a.busy) / Math.max(b.total - a.total, 1e-9);
    const waited = performance.now() - start;
    if (busy < busyBelow || waited >= maxMs) return waited;
  }
}

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
}

export function machine(): Machine {
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    kernel = process.platform;
  }
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel,
  };
}
