/**
 * Pairs each invoke with the op that completed it. A process does one op at a time, so
 * its completion is the next op of the same process; an invoke the run ended without
 * completing counts as `info` (unknown outcome), as in Jepsen.
 */
import type { Op } from '../history';

/** An invoke and what came back. */
export interface Pair {
  invoke: Op;
  /** Undefined when the run ended first. */
  complete?: Op;
  /** `ok`, `fail` or `info` (also for a missing completion). */
  type: 'ok' | 'fail' | 'info';
  /** The completion's value, else the invoke's. */
  value: unknown;
  /** Run time (ms) of the invoke and of the completion (end of history when missing). */
  start: number;
  end: number;
}

/** Every client op's pair, in invoke order; the nemesis's ops are left out. */
export function pairOps(history: readonly Op[]): Pair[] {
  const open = new Map<string, Op>();
  const pairs: Pair[] = [];
  const byInvoke = new Map<number, Pair>();
  const last = history.reduce((t, o) => Math.max(t, o.time), 0);
  for (const op of history) {
    if (op.process === 'nemesis') continue;
    if (op.type === 'invoke') {
      const stale = open.get(op.process);
      if (stale)
        throw new Error(`process ${op.process} invoked op ${op.index} before op ${stale.index} completed`);
      open.set(op.process, op);
      const p: Pair = { invoke: op, type: 'info', value: op.value, start: op.time, end: last };
      pairs.push(p);
      byInvoke.set(op.index, p);
      continue;
    }
    const inv = open.get(op.process);
    if (!inv) throw new Error(`op ${op.index} (${op.process} ${op.type} ${op.f}) completes nothing`);
    open.delete(op.process);
    const p = byInvoke.get(inv.index)!;
    p.complete = op;
    p.type = op.type;
    p.value = op.value ?? inv.value;
    p.end = op.time;
  }
  return pairs;
}

/** Indexes of a pair's ops, for violations. */
export const opsOf = (p: Pair): number[] =>
  p.complete ? [p.invoke.index, p.complete.index] : [p.invoke.index];

/** Milliseconds as seconds with one decimal: `12.3 s`. */
export const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
