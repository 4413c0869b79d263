import { majorityOf } from '../consensus/quorum';
import { compareStreamIds } from './stream-ids';

/**
 * The verdict rule (invariant 4), in one place: a committee member whose checkpoint is
 * at or past a vote has approved it, unless it recorded an objection to it, which
 * rejects it; a majority of the committee decides. The finalizer decides by it and the
 * vote read reports by it, so the two can never disagree. Pure: the callers read the
 * checkpoints and objections from Redis.
 */

/** A committee member's checkpoint (last stream id it judged), or nothing yet. */
export type Checkpoint = string | null | undefined;
/** A committee member's objection to a vote (its reason), or nothing. */
export type Objection = string | null | undefined;

/** How a committee judged one vote so far. */
export interface VerdictCount {
  approvals: number;
  /** One reason per member that objected (the rejections). */
  reasons: string[];
}

/**
 * Counts the committee's verdicts on the vote at `streamId`. `checkpoints[i]` and
 * `objections[i]` are member i's; an objection wins over a checkpoint that passed the
 * vote (the member judged it and refused it).
 */
export function countVerdicts(
  streamId: string,
  checkpoints: readonly Checkpoint[],
  objections: readonly Objection[],
): VerdictCount {
  let approvals = 0;
  const reasons: string[] = [];
  const members = Math.max(checkpoints.length, objections.length);
  for (let i = 0; i < members; i++) {
    const objection = objections[i];
    const cp = checkpoints[i];
    if (objection) reasons.push(objection);
    else if (cp && compareStreamIds(cp, streamId) >= 0) approvals++;
  }
  return { approvals, reasons };
}

/** What a committee's verdicts decide: nothing yet while neither side has a majority. */
export type Decision =
  | { outcome: 'counted' }
  | { outcome: 'rejected'; reason: string }
  | { outcome: 'pending' };

/**
 * Counted once a majority of the `committeeSize` approved, rejected once a majority
 * objected (with the most common reason), else pending.
 */
export function decide(count: VerdictCount, committeeSize: number): Decision {
  const majority = majorityOf(committeeSize);
  if (count.approvals >= majority) return { outcome: 'counted' };
  if (count.reasons.length >= majority) return { outcome: 'rejected', reason: mostCommon(count.reasons) };
  return { outcome: 'pending' };
}

/**
 * The newest stream id that a majority of the committee has judged (its checkpoints
 * are at or past it), or undefined when no majority has judged anything. Every vote up
 * to it has a verdict from a majority, so a finalizer need read no further.
 */
export function majorityCheckpoint(
  checkpoints: readonly Checkpoint[],
  committeeSize: number,
): string | undefined {
  const judged = checkpoints.filter((c): c is string => !!c).sort((x, y) => compareStreamIds(y, x));
  return judged[majorityOf(committeeSize) - 1];
}

/** The reason most members gave (the first of equals); 'rejected' for none. */
function mostCommon(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const s of items) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'rejected';
}
