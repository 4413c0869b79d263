/**
 * What the checker reports: one verdict per invariant with minimal, readable
 * violations, and availability figures per fault window (docs/chaos.md "Checker").
 */

/** One broken promise: which vote, which fault window, which ops show it. */
export interface Violation {
  message: string;
  voteId?: string;
  voterId?: string;
  electionId?: string;
  /** The fault window(s) the evidence falls in (`start-partition leader|redis 12.0–27.5 s`). */
  faultWindow?: string;
  /** History indexes of the ops that show it. */
  ops?: number[];
}

/** One invariant's verdict. */
export interface InvariantResult {
  name: string;
  /** What it promises, in one sentence (the report prints it). */
  description: string;
  valid: boolean;
  violations: Violation[];
}

/** A fault from the nemesis: from the op that started it to the one that ended it. */
export interface FaultWindow {
  /** `partition leader|redis`: the fault and its targets, for messages. */
  name: string;
  /** The nemesis op that started it. */
  f: string;
  value?: unknown;
  /** Run time (ms) of its start and end (end: the healing op, else the end of the history). */
  start: number;
  end: number;
  startOp: number;
  endOp?: number;
}

/** Availability while one fault lasted. */
export interface WindowAvailability {
  window: string;
  start: number;
  end: number;
  /** Client ops completed in the window, and the share that failed or had no known outcome. */
  ops: number;
  failedShare: number;
  /** The longest time (ms) with no vote acknowledged, from the fault's start on. */
  intakeStopMs: number;
  /** The longest time (ms) with no vote finalized (audit finalizedAt), from the fault's start on. */
  finalizationStopMs: number;
}

/** How available the system was over the run. */
export interface Availability {
  /** Completed client ops (not counting invokes or the nemesis). */
  ops: number;
  ok: number;
  /** Definite failures that are the system's (5xx, 429); refusals it owes (409 already_voted…) excluded. */
  failed: number;
  /** Definite refusals that are correct answers (409, 422, 403, 404, 400). */
  refused: number;
  /** Unknown outcomes (timeouts, resets, 5xx after the write). */
  unknown: number;
  /** (failed + unknown) / ops. */
  failedShare: number;
  byF: Record<string, { ok: number; failed: number; refused: number; unknown: number }>;
  windows: WindowAvailability[];
}

/** Totals the results table in docs quotes. */
export interface CheckCounts {
  submits: number;
  acknowledged: number;
  acknowledgedLost: number;
  doubleCounted: number;
  countedAfterClose: number;
  statusRegressions: number;
  leaderConflicts: number;
  faults: number;
}

/** The checker's verdict on one run. */
export interface CheckReport {
  valid: boolean;
  invariants: InvariantResult[];
  availability: Availability;
  counts: CheckCounts;
  windows: FaultWindow[];
}

/** `node` logged that it became leader of `term` (test/helpers/leader-history.ts), at run time `time`. */
export interface LeaderEvent {
  node: string;
  term: number;
  time?: number;
}
