import { checkLeaderSafety, leaderEventsFromLogs } from '../helpers/leader-history';

/**
 * The leader-safety check of the coordinator-election test, on histories made to break
 * it: each unsafe history is named, so a real run that passes is evidence, not a check
 * that could never fail.
 */
const members = ['c1', 'c2', 'c3'];
const line = (role: string, term: number) => JSON.stringify({ msg: 'role changed', role, term });

describe('leader safety check', () => {
  test('reads "became leader" events from log lines and skips other lines', () => {
    const events = leaderEventsFromLogs([
      ['c1', ['starting up', line('leader', 1), line('follower', 2), '{"msg":"other"}']],
      ['c2', [line('candidate', 2), line('leader', 2)]],
    ]);
    expect(events).toEqual([
      { node: 'c1', term: 1 },
      { node: 'c2', term: 2 },
    ]);
  });

  test('a safe history: one leader per term, each with a majority of its term’s votes', () => {
    const votes = new Map([
      [1, ['c1', 'c1', null]],
      [2, ['c2', 'c2', 'c2']],
    ]);
    const report = checkLeaderSafety(
      [
        { node: 'c1', term: 1 },
        { node: 'c2', term: 2 },
      ],
      votes,
      members,
    );
    expect(report.violations).toEqual([]);
    expect(report.backing).toEqual([
      { term: 1, leaders: ['c1'], votesForLeader: 2 },
      { term: 2, leaders: ['c2'], votesForLeader: 3 },
    ]);
  });

  test('two nodes leading the same term (a short-lived second leader) is named', () => {
    const report = checkLeaderSafety(
      [
        { node: 'c1', term: 3 },
        { node: 'c2', term: 3 },
      ],
      new Map([[3, ['c1', 'c1', 'c2']]]),
      members,
    );
    expect(report.violations).toEqual(['term 3: 2 leader events (c1, c2)']);
  });

  test('the same node becoming leader twice in one term is named', () => {
    const report = checkLeaderSafety(
      [
        { node: 'c1', term: 4 },
        { node: 'c1', term: 4 },
      ],
      new Map([[4, ['c1', 'c1', null]]]),
      members,
    );
    expect(report.violations).toEqual(['term 4: 2 leader events (c1, c1)']);
  });

  test('a leader without a majority of recorded votes (a vote not recorded, or recorded for another) is named', () => {
    const report = checkLeaderSafety([{ node: 'c2', term: 5 }], new Map([[5, ['c1', 'c2', null]]]), members);
    expect(report.violations).toEqual(['term 5: leader c2 holds 1 recorded votes, a majority is 2']);
  });

  test('a vote record naming a node outside the cluster is named', () => {
    const report = checkLeaderSafety(
      [{ node: 'c1', term: 6 }],
      new Map([[6, ['c1', 'c1', 'intruder']]]),
      members,
    );
    expect(report.violations).toEqual(['term 6: a vote for intruder, not a member']);
  });
});
