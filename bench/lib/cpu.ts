import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * CPU accounting from /proc (Linux), to tell whether a figure was CPU-bound and whether something
 * else on the machine was competing with the run. Everything returns null where /proc is absent.
 */
const TICK_MS = 10; // USER_HZ is 100 on Linux

export interface CpuSample {
  at: number;
  /** Busy jiffies of the whole machine (all cores), steal excluded. */
  machineBusy: number;
  /** Jiffies the hypervisor gave to someone else while this VM wanted to run (steal). */
  machineSteal: number;
  /** Jiffies per process tree root (the tree: the process and its live descendants). */
  trees: Map<number, number>;
  /** This process plus its waited-for children (wrk runs as our child). */
  self: number;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, own threads only. */
  own: number;
  /** cutime + cstime: children that exited and were waited for. */
  children: number;
}

function readProcStat(pid: number | 'self'): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(rest[i] ?? 0);
    return { pid: pid === 'self' ? process.pid : pid, ppid: n(1), own: n(11) + n(12), children: n(13) + n(14) };
  } catch {
    return null;
  }
}

function machineTimes(): { busy: number; steal: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return { busy: (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0), steal: steal ?? 0 };
  } catch {
    return null;
  }
}

/** CPU jiffies of each root's process tree (own time of the live processes plus their reaped children). */
function treeJiffies(roots: readonly number[]): Map<number, number> {
  const all: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat) all.push(stat);
  }
  const children = new Map<number, ProcStat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const byPid = new Map(all.map((s) => [s.pid, s]));
  const result = new Map<number, number>();
  for (const root of roots) {
    let total = 0;
    const stack = [byPid.get(root)];
    while (stack.length > 0) {
      const s = stack.pop();
      if (!s) continue;
      total += s.own + s.children;
      stack.push(...(children.get(s.pid) ?? []));
    }
    result.set(root, total);
  }
  return result;
}

export function sampleCpu(roots: readonly number[]): CpuSample | null {
  const machine = machineTimes();
  const self = readProcStat('self');
  if (machine === null || !self) return null;
  try {
    return {
      at: performance.now(),
      machineBusy: machine.busy,
      machineSteal: machine.steal,
      trees: treeJiffies(roots),
      self: self.own + self.children,
    };
  } catch {
    return null;
  }
}

export interface CpuUsage {
  /** Cores' worth of CPU each tree used (1.0 = one core fully busy). */
  trees: Map<number, number>;
  /** This process and its reaped children (the load generator). */
  self: number;
  /** Everything else on the machine: other users, the kernel's work not charged to a process. */
  others: number;
  /** CPU the hypervisor withheld (steal): a noisy host, figures less reliable. */
  steal: number;
  /** Cores on this machine. */
  cores: number;
}

/** CPU used between two samples, in cores (jiffies / elapsed). */
export function cpuBetween(a: CpuSample | null, b: CpuSample | null): CpuUsage | null {
  if (!a || !b) return null;
  const ms = b.at - a.at;
  if (ms <= 0) return null;
  const cores = (j: number) => (j * TICK_MS) / ms;
  const trees = new Map<number, number>();
  let accounted = 0;
  for (const [pid, after] of b.trees) {
    const used = Math.max(0, after - (a.trees.get(pid) ?? after));
    trees.set(pid, cores(used));
    accounted += used;
  }
  const self = Math.max(0, b.self - a.self);
  accounted += self;
  const others = Math.max(0, b.machineBusy - a.machineBusy - accounted);
  const steal = Math.max(0, b.machineSteal - a.machineSteal);
  return { trees, self: cores(self), others: cores(others), steal: cores(steal), cores: availableParallelism() };
}
