/**
 * Election safety from the recorded leader history: at most one node became leader in
 * any term (Raft's first safety property), judged from the coordinators' own "role
 * changed" log lines (test/helpers/leader-history.ts reads them) or status polls.
 */
import { sec } from './pairs';
import type { InvariantResult, LeaderEvent, Violation } from './types';
import { windowsAt } from './windows';
import type { FaultWindow } from './types';

export function checkLeaders(
  events: readonly LeaderEvent[] | undefined,
  windows: readonly FaultWindow[],
): { result: InvariantResult; conflicts: number } {
  const byTerm = new Map<number, LeaderEvent[]>();
  for (const e of events ?? []) byTerm.set(e.term, [...(byTerm.get(e.term) ?? []), e]);
  const violations: Violation[] = [];
  for (const [term, es] of [...byTerm].sort(([a], [b]) => a - b)) {
    const nodes = [...new Set(es.map((e) => e.node))];
    if (nodes.length < 2) continue;
    const times = es.map((e) => e.time).filter((t): t is number => t !== undefined);
    const fw = times.length ? windowsAt(windows, Math.min(...times), Math.max(...times)) : undefined;
    violations.push({
      ...(fw ? { faultWindow: fw } : {}),
      message:
        `term ${term} has ${nodes.length} leaders: ` +
        es.map((e) => `${e.node}${e.time === undefined ? '' : ` at ${sec(e.time)}`}`).join(', '),
    });
  }
  return {
    result: {
      name: 'one-leader-per-term',
      description: 'at most one coordinator becomes leader in any term',
      valid: violations.length === 0,
      violations,
    },
    conflicts: violations.length,
  };
}
