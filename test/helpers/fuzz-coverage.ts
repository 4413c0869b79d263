/**
 * What a fuzz run exercised, and the check that it exercised enough. A fuzzer whose
 * requests all bounce off the first check (or that made no requests at all) passes every
 * per-request assertion while testing nothing: a run must show its successes and the
 * refusals it was meant to reach, or fail.
 */

export interface FuzzStats {
  runs: number;
  /** Answers per HTTP status. */
  byStatus: Record<string, number>;
  /** Error answers per error code. */
  byCode: Record<string, number>;
  /** Requests per route whose answer changed the stored state. */
  stateChanges: Record<string, number>;
}

export function emptyFuzzStats(): FuzzStats {
  return { runs: 0, byStatus: {}, byCode: {}, stateChanges: {} };
}

/** Counts one answer. */
export function countAnswer(stats: FuzzStats, status: number, code: string | undefined): void {
  stats.runs++;
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  if (code) stats.byCode[code] = (stats.byCode[code] ?? 0) + 1;
}

/** Counts a request of `route` whose answer changed the stored state. */
export function countStateChange(stats: FuzzStats, route: string): void {
  stats.stateChanges[route] = (stats.stateChanges[route] ?? 0) + 1;
}

export interface CoverageGoal {
  /** Statuses that must each have been answered at least once: exact (`'409'`) or a class (`'2xx'`). */
  statuses: string[];
  /** Error codes that must each have been answered at least once. */
  codes?: string[];
  /** Routes that must each have changed state at least once. */
  stateChanges?: string[];
  /** At least one request (of any route) must have changed state. */
  someStateChange?: boolean;
}

function answered(stats: FuzzStats, status: string): number {
  const cls = /^([1-5])xx$/.exec(status);
  return Object.entries(stats.byStatus)
    .filter(([s]) => (cls ? s.length === 3 && s[0] === cls[1] : s === status))
    .reduce((n, [, c]) => n + c, 0);
}

/**
 * Throws unless the run made at least one request and reached every goal; the message
 * names what is missing and what the run did instead.
 */
export function assertFuzzCoverage(label: string, stats: FuzzStats, goal: CoverageGoal): void {
  if (!(stats.runs > 0)) throw new Error(`${label}: the fuzz made no requests`);
  const counted = Object.values(stats.byStatus).reduce((n, c) => n + c, 0);
  if (counted !== stats.runs) {
    throw new Error(`${label}: ${stats.runs} runs but ${counted} answers counted`);
  }
  const missing = [
    ...goal.statuses.filter((s) => answered(stats, s) === 0).map((s) => `status ${s}`),
    ...(goal.codes ?? []).filter((c) => !(stats.byCode[c]! > 0)).map((c) => `code ${c}`),
    ...(goal.someStateChange && !Object.values(stats.stateChanges).some((n) => n > 0)
      ? ['a state change']
      : []),
    ...(goal.stateChanges ?? [])
      .filter((r) => !(stats.stateChanges[r]! > 0))
      .map((r) => `a state change by ${r}`),
  ];
  if (missing.length) {
    throw new Error(
      `${label}: ${stats.runs} requests never produced ${missing.join(', ')}; ` +
        `statuses ${JSON.stringify(stats.byStatus)}, codes ${JSON.stringify(stats.byCode)}, ` +
        `state changes ${JSON.stringify(stats.stateChanges)}`,
    );
  }
}
