/**
 * What a stretch of work costs, read from outside the processes: CPU time per process
 * (kernel counters in /proc, so the figure includes everything the process did, not only
 * what it chose to report) and Redis commands (INFO commandstats on every master).
 * Take a `snapshot` before and after; `costDelta` gives the difference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Cluster } from 'ioredis';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** CPU time (user + system, ms) a process has used so far; NaN when it cannot be read. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** utime+stime of one process in ms, or 0 when it is gone (or not on Linux). */
function ownCpuMs(pid: number): number {
  const ms = processCpuMs(pid);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Every live process's parent, read once (to find a process's descendants). */
function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return children;
  }
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(p)]);
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * CPU ms of `pid` and all its live descendants: a launcher (npx, a shell) and the
 * process doing the work are billed together, whichever of them `pid` is.
 */
export function treeCpuMs(pid: number, children = parents()): number {
  let total = ownCpuMs(pid);
  for (const c of children.get(pid) ?? []) total += treeCpuMs(c, children);
  return total;
}

/** Calls and time per command over every master since its last RESETSTAT. */
export async function commandStats(redis: Cluster): Promise<Map<string, { calls: number; usec: number }>> {
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const node of redis.nodes('master')) {
    const text = (await node.info('commandstats')) as string;
    for (const m of text.matchAll(/^cmdstat_(\S+):calls=(\d+),usec=(\d+)/gm)) {
      const cur = stats.get(m[1]!) ?? { calls: 0, usec: 0 };
      stats.set(m[1]!, { calls: cur.calls + Number(m[2]), usec: cur.usec + Number(m[3]) });
    }
  }
  return stats;
}

/** Total calls per command over every master since its last RESETSTAT. */
export async function commandCalls(redis: Cluster): Promise<Map<string, number>> {
  return new Map([...(await commandStats(redis))].map(([cmd, v]) => [cmd, v.calls]));
}

/** Total calls of every command but `info` and `config` (the measurement's own). */
export function totalCalls(stats: Map<string, { calls: number }>): number {
  let n = 0;
  for (const [cmd, v] of stats) if (cmd !== 'info' && cmd !== 'config|resetstat') n += v.calls;
  return n;
}

/** The pid of every Redis node (masters and replicas) of the cluster `redis` sees. */
export async function redisPids(redis: Cluster): Promise<number[]> {
  const pids: number[] = [];
  for (const node of redis.nodes('all')) {
    const m = /^process_id:(\d+)/m.exec((await node.info('server')) as string);
    if (m) pids.push(Number(m[1]));
  }
  return pids;
}

/** CPU ms per process kind and Redis command calls at one moment. */
export interface CostSnapshot {
  at: number;
  cpuMs: Record<string, number>;
  calls: Map<string, number>;
}

/** Reads every counter: `kinds` names each process kind's pids (e.g. coordinators). */
export async function snapshot(redis: Cluster, kinds: Record<string, number[]>): Promise<CostSnapshot> {
  const children = parents();
  const cpuMs: Record<string, number> = {};
  for (const [kind, pids] of Object.entries(kinds)) {
    cpuMs[kind] = pids.reduce((s, pid) => s + treeCpuMs(pid, children), 0);
  }
  return { at: performance.now(), cpuMs, calls: await commandCalls(redis) };
}

/** Work between two snapshots, divided by `units` (e.g. finalized votes). */
export interface CostPerUnit {
  seconds: number;
  /** How many units the work was divided by. */
  units: number;
  /** CPU ms per unit, per process kind. */
  cpuMs: Record<string, number>;
  /** Redis commands per unit (every master), in total and by command, largest first. */
  commands: number;
  byCommand: [string, number][];
}

/** The cost of the work between `a` and `b`, per unit. */
export function costDelta(a: CostSnapshot, b: CostSnapshot, units: number): CostPerUnit {
  const cpuMs: Record<string, number> = {};
  for (const kind of Object.keys(b.cpuMs)) cpuMs[kind] = (b.cpuMs[kind]! - (a.cpuMs[kind] ?? 0)) / units;
  const byCommand: [string, number][] = [];
  let commands = 0;
  for (const [cmd, n] of b.calls) {
    const d = (n - (a.calls.get(cmd) ?? 0)) / units;
    if (d <= 0) continue;
    // INFO itself (our own measuring) is not the pipeline's work.
    if (cmd === 'info') continue;
    commands += d;
    byCommand.push([cmd, d]);
  }
  byCommand.sort((x, y) => y[1] - x[1]);
  return { seconds: (b.at - a.at) / 1000, units, cpuMs, commands, byCommand };
}
