/**
 * Leader safety checked from a recorded history, not from what the nodes agree on now:
 * every coordinator's own "role changed" log lines (who became leader in which term)
 * and the per-term vote records in Redis (whom each node voted for). Kept apart from
 * the test that records the history so that the check itself is tested on histories
 * that break it (test/unit/leader-history.test.ts): a check that cannot fail proves
 * nothing.
 */

/** One "became leader" event: `node` logged that it became leader of `term`. */
export interface LeaderEvent {
  node: string;
  term: number;
}

/** Each term's leaders and how many recorded votes of that term name its (first) leader. */
export interface TermBacking {
  term: number;
  leaders: string[];
  votesForLeader: number;
}

/** What a history broke, one line each; empty when it is safe. */
export interface LeaderSafetyReport {
  backing: TermBacking[];
  violations: string[];
}

/** The "became leader" events in coordinators' JSON log lines, by node. */
export function leaderEventsFromLogs(output: Iterable<[string, readonly string[]]>): LeaderEvent[] {
  const events: LeaderEvent[] = [];
  for (const [node, lines] of output) {
    for (const text of lines) {
      let line: { msg?: unknown; role?: unknown; term?: unknown };
      try {
        line = JSON.parse(text);
      } catch {
        continue; // not a log line (start-up banner, stack trace)
      }
      if (line.msg !== 'role changed' || line.role !== 'leader') continue;
      if (typeof line.term !== 'number') throw new Error(`role change without a term from ${node}: ${text}`);
      events.push({ node, term: line.term });
    }
  }
  return events;
}

/**
 * Checks Raft's election safety on a history: at most one node became leader in any
 * term, and only once; each term's leader holds a majority (of `members`) of that
 * term's recorded votes; every vote record names a member.
 *
 * `votesByTerm.get(t)[i]` is whom `members[i]` voted for in term `t` (null: no vote).
 */
export function checkLeaderSafety(
  events: readonly LeaderEvent[],
  votesByTerm: ReadonlyMap<number, readonly (string | null)[]>,
  members: readonly string[],
): LeaderSafetyReport {
  const leadersByTerm = new Map<number, string[]>();
  for (const e of events) leadersByTerm.set(e.term, [...(leadersByTerm.get(e.term) ?? []), e.node]);
  const majority = Math.floor(members.length / 2) + 1;
  const backing = [...leadersByTerm]
    .sort(([a], [b]) => a - b)
    .map(([term, leaders]) => ({
      term,
      leaders,
      votesForLeader: (votesByTerm.get(term) ?? []).filter((v) => v === leaders[0]).length,
    }));
  const violations: string[] = [];
  for (const b of backing) {
    if (b.leaders.length !== 1)
      violations.push(`term ${b.term}: ${b.leaders.length} leader events (${b.leaders.join(', ')})`);
    if (b.votesForLeader < majority)
      violations.push(
        `term ${b.term}: leader ${b.leaders[0]} holds ${b.votesForLeader} recorded votes, a majority is ${majority}`,
      );
  }
  for (const [term, votes] of votesByTerm) {
    for (const v of votes)
      if (v !== null && !members.includes(v)) violations.push(`term ${term}: a vote for ${v}, not a member`);
  }
  return { backing, violations };
}
