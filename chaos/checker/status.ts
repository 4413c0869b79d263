/**
 * Status reads are consistent with what their reader saw before: once a read answered
 * finalized (or rejected), no read that started after it answers pending, and a vote
 * never flips between finalized and rejected. Also agrees with the audit log at the end.
 */
import type { StatusValue, SubmitValue } from '../history';
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
  const violations: Violation[] = [];
  const ackedAt = new Map<string, number>();
  for (const p of pairs) {
    const id = (p.value as SubmitValue | undefined)?.voteId;
    if (p.invoke.f === 'submit' && p.type === 'ok' && id)
      ackedAt.set(id, Math.min(ackedAt.get(id) ?? p.end, p.end));
  }
  for (const p of pairs) {
    const v = (p.value ?? {}) as StatusValue;
    // A vote acknowledged before the read began must be found.
    const acked = ackedAt.get(v.voteId);
    if (
      p.invoke.f === 'status' &&
      p.type === 'fail' &&
      /^404/.test(p.complete?.error ?? '') &&
      acked !== undefined &&
      acked < p.start
    ) {
      const w = windowsAt(windows, p.start, p.end);
      violations.push({
        voteId: v.voteId,
        voterId: v.voterId,
        electionId: v.electionId,
        ops: opsOf(p),
        ...(w ? { faultWindow: w } : {}),
        message: `vote ${v.voteId} of voter ${v.voterId}: acknowledged, then read at ${sec(p.end)} (op ${p.complete?.index}) as ${p.complete?.error}`,
      });
    }
    if (p.invoke.f !== 'status' || p.type !== 'ok' || !v.status) continue;
    reads.set(v.voteId, [...(reads.get(v.voteId) ?? []), p]);
  }
  const byVote = auditByVote(final);
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
