/**
 * The chaos checker: proves from a recorded history and the final state (read through
 * the public API and the audit record) that no invariant of docs/guarantees.md broke,
 * and measures availability per fault. docs/chaos.md "Checker" lists the invariants.
 */
import type { FinalState } from '../final-state';
import type { Op } from '../history';
import { checkChains, checkDrained, checkFencedWrites, checkRecount } from './audit';
import { availability } from './availability';
import { checkLeaders } from './leaders';
import { pairOps } from './pairs';
import { checkResultsReads } from './results';
import { checkStatusReads } from './status';
import type { CheckReport, LeaderEvent } from './types';
import { checkAcknowledged, checkNoDoubleCount, checkNoVoteAfterClose } from './votes';
import { faultWindows } from './windows';

export type {
  Availability,
  CheckCounts,
  CheckReport,
  FaultWindow,
  InvariantResult,
  LeaderEvent,
  Violation,
  WindowAvailability,
} from './types';
export { faultWindows, windowLabel } from './windows';
export { formatReport } from './format';
export { unaccountedVotes } from './votes';

export interface CheckOptions {
  history: readonly Op[];
  final: FinalState;
  /** Who became leader of which term (coordinators' "role changed" log lines or status polls). */
  leaderHistory?: readonly LeaderEvent[];
  /** The nemesis's ops, when they are not in `history`. */
  faults?: readonly Op[];
}

/** Checks every invariant; `valid` only when all hold. */
export function checkHistory(o: CheckOptions): CheckReport {
  const pairs = pairOps(o.history);
  const windows = faultWindows(o.history, o.faults);
  const acked = checkAcknowledged(pairs, o.final, windows);
  const double = checkNoDoubleCount(pairs, o.final, windows);
  const afterClose = checkNoVoteAfterClose(pairs, o.final, windows);
  const status = checkStatusReads(pairs, o.final, windows);
  const leaders = checkLeaders(o.leaderHistory, windows);
  const invariants = [
    acked.result,
    double.result,
    afterClose.result,
    checkRecount(o.final),
    checkChains(o.final),
    checkDrained(o.final),
    leaders.result,
    checkFencedWrites(o.final),
    status.result,
    checkResultsReads(pairs, o.final, windows),
  ];
  return {
    valid: invariants.every((i) => i.valid),
    invariants,
    availability: availability(o.history, pairs, o.final, windows),
    counts: {
      submits: pairs.filter((p) => p.invoke.f === 'submit').length,
      acknowledged: acked.acknowledged,
      acknowledgedLost: acked.lost,
      doubleCounted: double.doubleCounted,
      countedAfterClose: afterClose.countedAfterClose,
      statusRegressions: status.regressions,
      leaderConflicts: leaders.conflicts,
      faults: windows.length,
    },
    windows,
  };
}
