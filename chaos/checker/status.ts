/**
 * Status reads are consistent with what their reader saw before: once a read answered
 * finalized (or rejected), no read that started after it answers pending, and a vote
 * never flips between finalized and rejected. Also agrees with the audit log at the end.
 */
import type { StatusValue } from '../history';
import type { FinalState } from '../final-state';
import { type Pair, opsOf, sec } from './pairs';
import type { FaultWindow, InvariantResult, Violation } from './types';
import { auditByVote } from './votes';
import { windowsAt } from './windows';

export function checkStatusReads(
  pairs: readonly Pair[],
  final: FinalState,
  windows: readonly FaultWindow[],
): { result: InvariantResult; regressions: number } {
  const reads = new Map<string, Pair[]>();
  for (const p of pairs) {
    if (p.invoke.f !== 'status' || p.type !== 'ok') continue;
    const v = p.value as StatusValue;
    if (!v.status) continue;
    reads.set(v.voteId, [...(reads.get(v.voteId) ?? []), p]);
  }
  const byVote = auditByVote(final);
  const violations: Violation[] = [];
  for (const [voteId, ps] of reads) {
    ps.sort((a, b) => a.start - b.start);
    // The strongest decided read completed so far, against each later-started read.
    let decided: Pair | undefined;
    for (const p of ps) {
      const v = p.value as StatusValue;
      if (decided && decided.end < p.start) {
        const was = (decided.value as StatusValue).status;
        if (v.status !== was) {
          violations.push({
            voteId,
            voterId: v.voterId,
            electionId: v.electionId,
            ops: [...opsOf(decided), ...opsOf(p)],
            ...((w) => (w ? { faultWindow: w } : {}))(windowsAt(windows, decided.start, p.end)),
            message:
              `vote ${voteId} of voter ${v.voterId}: read ${was} at ${sec(decided.end)} (op ${decided.complete?.index}), ` +
              `then ${v.status} at ${sec(p.end)} (op ${p.complete?.index})`,
          });
        }
      }
      if (!decided && v.status !== 'pending') decided = p;
    }
    // The last decided read must match how the audit log records the vote.
    const entry = byVote.get(voteId)?.[0];
    if (decided && entry) {
      const was = (decided.value as StatusValue).status;
      const logged = entry.outcome === 'counted' ? 'finalized' : 'rejected';
      if (was !== logged) {
        const v = decided.value as StatusValue;
        violations.push({
          voteId,
          voterId: v.voterId,
          electionId: v.electionId,
          ops: opsOf(decided),
          message: `vote ${voteId}: read ${was} at ${sec(decided.end)} (op ${decided.complete?.index}) but the audit log has it ${logged}`,
        });
      }
    }
  }
  return {
    result: {
      name: 'monotonic-status',
      description:
        'a vote’s status never goes back (finalized → pending) nor flips, and matches the audit log',
      valid: violations.length === 0,
      violations,
    },
    regressions: violations.length,
  };
}
