import { readFileSync } from 'node:fs';
import type { Cluster } from 'ioredis';

/**
 * What a run cost, measured from outside the processes it measured: a process's CPU
 * time from /proc (user + system, whatever the process itself reports) and Redis's own
 * command counts (`INFO commandstats`, summed over the masters). On 2 shared cores a
 * throughput figure moves with the neighbours' load; CPU time and commands per vote do
 * not, so they show what a change saves even where the throughput cannot.
 */

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU time (user + system, ms) a process has used so far; NaN when it cannot be read. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** Calls per command since the last `CONFIG RESETSTAT`, summed over every master. */
export async function redisCommandCalls(
  redis: Cluster,
): Promise<Map<string, { calls: number; usec: number }>> {
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

/** Total calls of every command but `info` and `config` (the measurement's own). */
export function totalCalls(stats: Map<string, { calls: number }>): number {
  let n = 0;
  for (const [cmd, v] of stats) if (cmd !== 'info' && cmd !== 'config|resetstat') n += v.calls;
  return n;
}
