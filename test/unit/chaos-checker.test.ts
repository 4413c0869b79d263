import { type CheckReport, checkHistory, formatReport } from '../../chaos/checker';
import { HistoryBuilder, type LoggedVote, finalElection, finalState } from '../helpers/chaos-fixtures';

/**
 * The chaos checker on hand-made histories: a clean run passes, and each planted
 * violation (a lost acknowledged vote, a double count, two leaders in one term, a vote
 * after close, a status regression, a broken chain, results that disagree with a
 * recount) fails exactly its invariant with a message naming the vote and fault window.
 */
const E = 'e1';
const sub = (voter: string, key = `k-${voter}`, voteId?: string, optionId = 'a') => ({
  electionId: E,
  voterId: voter,
  optionId,
  idempotencyKey: key,
  ...(voteId ? { voteId } : {}),
});
const st = (voteId: string, voter: string, status?: string) => ({
  electionId: E,
  voteId,
  voterId: voter,
  ...(status ? { status } : {}),
});

/** A clean run: three votes (one re-sent after a timeout during a partition), reads, a refused re-vote, a close. */
function cleanRun(): { h: HistoryBuilder; votes: LoggedVote[] } {
  const h = new HistoryBuilder();
  h.op('c1', 'submit', sub('v1'), 100, 150, 'ok', sub('v1', 'k-v1', 'e1.0.1-0'));
  h.nemesis('start-partition', { targets: ['c2'] }, 200);
  h.op('c2', 'submit', sub('v2', 'k-v2', undefined, 'b'), 250, 5250, 'info', undefined, 'timeout');
  h.op(
    'c2',
    'submit',
    sub('v2', 'k-v2', undefined, 'b'),
    5300,
    5400,
    'ok',
    sub('v2', 'k-v2', 'e1.0.2-0', 'b'),
  );
  h.nemesis('stop-partition', { targets: ['c2'] }, 6000);
  h.op('c1', 'status', st('e1.0.1-0', 'v1'), 300, 320, 'ok', st('e1.0.1-0', 'v1', 'pending'));
  h.op('c1', 'status', st('e1.0.1-0', 'v1'), 7000, 7020, 'ok', st('e1.0.1-0', 'v1', 'finalized'));
  h.op('c3', 'submit', sub('v3'), 7100, 7200, 'ok', sub('v3', 'k-v3', 'e1.0.3-0'));
  h.op(
    'c1',
    'submit',
    { ...sub('v1', 'k-other'), revote: true },
    7300,
    7350,
    'fail',
    undefined,
    '409 already_voted',
  );
  h.op('c3', 'results', { electionId: E, fresh: true }, 7400, 7450, 'ok', {
    electionId: E,
    fresh: true,
    totals: { a: 1, b: 1 },
    finalized: 2,
  });
  h.op('c2', 'results', { electionId: E, fresh: true }, 7600, 7650, 'ok', {
    electionId: E,
    fresh: true,
    totals: { a: 2, b: 1 },
    finalized: 3,
  });
  h.op('admin', 'close', { electionId: E }, 8000, 8100, 'ok');
  h.op('c3', 'submit', sub('v4'), 8200, 8250, 'fail', undefined, '409 election_not_open');
  h.op('c1', 'status', st('e1.0.1-0', 'v1'), 8300, 8320, 'ok', st('e1.0.1-0', 'v1', 'finalized'));
  const votes: LoggedVote[] = [
    { voteId: 'e1.0.1-0', option: 'a', at: 1000 },
    { voteId: 'e1.0.2-0', option: 'b', at: 5500 },
    { voteId: 'e1.0.3-0', option: 'a', at: 7500 },
  ];
  return { h, votes };
}

const broken = (r: CheckReport): string[] => r.invariants.filter((i) => !i.valid).map((i) => i.name);
const messages = (r: CheckReport, name: string): string[] =>
  r.invariants.find((i) => i.name === name)!.violations.map((v) => v.message);

describe('chaos checker', () => {
  test('a clean history passes every invariant', () => {
    const { h, votes } = cleanRun();
    const r = checkHistory({
      history: h.ops,
      final: finalState(finalElection(E, votes)),
      leaderHistory: [
        { node: 'n1', term: 1 },
        { node: 'n2', term: 2 },
        { node: 'n2', term: 2 },
      ],
    });
    expect(broken(r)).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.counts).toMatchObject({ submits: 6, acknowledged: 3, acknowledgedLost: 0, doubleCounted: 0 });
    expect(r.invariants.map((i) => i.name)).toEqual([
      'acknowledged-not-lost',
      'no-double-count',
      'no-vote-after-close',
      'results-equal-recount',
      'hash-chains-intact',
      'closed-elections-drained',
      'one-leader-per-term',
      'no-fenced-write',
      'monotonic-status',
      'monotonic-results',
    ]);
    // The re-vote's 409 is a correct refusal, not unavailability; the timeout is unknown.
    expect(r.availability).toMatchObject({ refused: 2, failed: 0, unknown: 1 });
    expect(formatReport(r)).toContain('every invariant holds');
  });

  test('a lost acknowledged vote fails acknowledged-not-lost, naming the vote and the fault window', () => {
    const { h, votes } = cleanRun();
    const final = finalState(
      finalElection(
        E,
        votes.filter((v) => v.voteId !== 'e1.0.2-0'),
      ),
    );
    final.votes['e1.0.2-0'] = { error: '404 not_found' };
    const r = checkHistory({ history: h.ops, final });
    // A reader had seen it counted, so the final result also shrank below that read.
    expect(broken(r)).toEqual(['acknowledged-not-lost', 'monotonic-results']);
    expect(r.counts.acknowledgedLost).toBe(1);
    const v = r.invariants[0]!.violations[0]!;
    expect(v.message).toMatch(
      /vote e1\.0\.2-0 of voter v2 .*answered 202.* not in the audit log; GET \/votes answers 404 not_found; .*acknowledged vote lost/,
    );
    expect(v.faultWindow).toBe('partition c2 0.2–6.0 s');
    expect(formatReport(r)).toContain('FAIL acknowledged-not-lost');
  });

  test('an acknowledged vote still pending at the end fails acknowledged-not-lost as never decided, not lost', () => {
    const { h, votes } = cleanRun();
    const final = finalState(
      finalElection(
        E,
        votes.filter((v) => v.voteId !== 'e1.0.3-0'),
      ),
    );
    final.votes['e1.0.3-0'] = { status: 'pending' };
    const r = checkHistory({ history: h.ops, final });
    expect(broken(r)).toContain('acknowledged-not-lost');
    expect(r.counts.acknowledgedLost).toBe(0);
    expect(messages(r, 'acknowledged-not-lost')).toEqual([
      expect.stringMatching(
        /^vote e1\.0\.3-0 of voter v3 .* GET \/votes says pending; .*: acknowledged vote never decided$/,
      ),
    ]);
  });

  test('a vote rejected without a reason fails acknowledged-not-lost', () => {
    const { h, votes } = cleanRun();
    votes[2] = { ...votes[2]!, outcome: 'rejected', reason: '' };
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toEqual(['acknowledged-not-lost', 'monotonic-results']);
    expect(messages(r, 'acknowledged-not-lost')[0]).toMatch(/e1\.0\.3-0 .*rejected without a reason/);
  });

  test('a voter acknowledged and counted twice fails no-double-count', () => {
    const { h, votes } = cleanRun();
    h.op('c2', 'submit', sub('v1', 'k-v1-again'), 7600, 7650, 'ok', sub('v1', 'k-v1-again', 'e1.0.4-0'));
    votes.push({ voteId: 'e1.0.4-0', option: 'a', at: 7700 });
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toEqual(['no-double-count']);
    expect(r.counts.doubleCounted).toBeGreaterThanOrEqual(1);
    expect(messages(r, 'no-double-count')[0]).toMatch(
      /voter v1 was answered 202 for 2 different votes in election e1 \(e1\.0\.1-0, e1\.0\.4-0.*counted twice/,
    );
  });

  test('more counted votes than voters (ids never learnt) fails no-double-count', () => {
    const { h, votes } = cleanRun();
    votes.push({ voteId: 'e1.0.9-0', option: 'b' }, { voteId: 'e1.0.10-0', option: 'b' });
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toEqual(['no-double-count']);
    expect(messages(r, 'no-double-count')[0]).toMatch(
      /election e1 counts 5 votes but only 4 voters ever submitted one/,
    );
  });

  test('two leaders in one term fail one-leader-per-term', () => {
    const { h, votes } = cleanRun();
    const r = checkHistory({
      history: h.ops,
      final: finalState(finalElection(E, votes)),
      leaderHistory: [
        { node: 'n1', term: 3, time: 1000 },
        { node: 'n2', term: 3, time: 1500 },
      ],
    });
    expect(broken(r)).toEqual(['one-leader-per-term']);
    const v = r.invariants.find((i) => i.name === 'one-leader-per-term')!.violations[0]!;
    expect(v.message).toBe('term 3 has 2 leaders: n1 at 1.0 s, n2 at 1.5 s');
    expect(v.faultWindow).toBe('partition c2 0.2–6.0 s');
  });

  test('a vote acknowledged and counted after the close fails no-vote-after-close', () => {
    const { h, votes } = cleanRun();
    h.op('c2', 'submit', sub('v5'), 8500, 8550, 'ok', sub('v5', 'k-v5', 'e1.0.5-0'));
    votes.push({ voteId: 'e1.0.5-0', option: 'a', at: 8600 });
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toEqual(['no-vote-after-close']);
    expect(r.counts.countedAfterClose).toBe(1);
    expect(messages(r, 'no-vote-after-close')[0]).toMatch(
      /voter v5 submitted to election e1 at 8\.5 s, after its close was acknowledged at 8\.1 s .*answered 202 \(vote e1\.0\.5-0\) and counted/,
    );
  });

  test('a vote taken after the close but rejected after_close (a closed gate lost in a failover) is not counted: valid', () => {
    const { h, votes } = cleanRun();
    h.op('c2', 'submit', sub('v5'), 8500, 8550, 'ok', sub('v5', 'k-v5', 'e1.0.5-0'));
    votes.push({ voteId: 'e1.0.5-0', option: 'a', outcome: 'rejected', reason: 'after_close', at: 8600 });
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toEqual([]);
  });

  test('a submit racing the close may go either way', () => {
    const { h, votes } = cleanRun();
    h.op('c2', 'submit', sub('v5'), 8050, 8150, 'ok', sub('v5', 'k-v5', 'e1.0.5-0'));
    votes.push({ voteId: 'e1.0.5-0', option: 'a', at: 8600 });
    expect(checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) }).valid).toBe(true);
  });

  test('a finalized vote read as pending later fails monotonic-status', () => {
    const { h, votes } = cleanRun();
    h.op('c1', 'status', st('e1.0.1-0', 'v1'), 8400, 8420, 'ok', st('e1.0.1-0', 'v1', 'pending'));
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toEqual(['monotonic-status']);
    expect(messages(r, 'monotonic-status')[0]).toMatch(
      /vote e1\.0\.1-0 of voter v1: read finalized at 7\.0 s \(op \d+\), then pending at 8\.4 s/,
    );
  });

  test('a status read that disagrees with the audit log fails monotonic-status', () => {
    const { h, votes } = cleanRun();
    votes[0] = { ...votes[0]!, outcome: 'rejected', reason: 'after_close' };
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toContain('monotonic-status');
    expect(messages(r, 'monotonic-status')[0]).toMatch(/read finalized .* but the audit log has it rejected/);
  });

  test('an acknowledged vote read as not found fails monotonic-status', () => {
    const { h, votes } = cleanRun();
    h.op('c3', 'status', st('e1.0.3-0', 'v3'), 8400, 8420, 'fail', undefined, '404 not_found');
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toEqual(['monotonic-status']);
    expect(messages(r, 'monotonic-status')[0]).toMatch(
      /^vote e1\.0\.3-0 of voter v3: acknowledged, then read at 8\.4 s \(op \d+\) as 404 not_found$/,
    );
  });

  test('fresh results that count fewer votes than an earlier read fail monotonic-results', () => {
    const { h, votes } = cleanRun();
    const fresh = { electionId: E, fresh: true };
    h.op('c3', 'results', fresh, 8500, 8550, 'ok', { ...fresh, totals: { a: 1, b: 1 }, finalized: 2 });
    const r = checkHistory({ history: h.ops, final: finalState(finalElection(E, votes)) });
    expect(broken(r)).toEqual(['monotonic-results']);
    expect(messages(r, 'monotonic-results')).toEqual([
      expect.stringMatching(
        /^election e1: results read at 7\.7 s \(op \d+\) counted 3 finalized, a later read at 8\.6 s \(op \d+\) 2 \(a 2 → 1\)$/,
      ),
    ]);
  });

  test('a final result below what a read showed fails monotonic-results (a finalized vote vanished)', () => {
    const { h, votes } = cleanRun();
    const el = finalElection(E, votes);
    // The log and the results both lost a vote a reader had seen counted (a consistent rewrite).
    const shrunk = finalElection(E, votes.slice(0, 2));
    el.audit = shrunk.audit;
    el.results = shrunk.results;
    const r = checkHistory({ history: h.ops, final: finalState(el) });
    expect(broken(r)).toContain('monotonic-results');
    expect(messages(r, 'monotonic-results')).toContainEqual(
      expect.stringMatching(
        /^election e1: a read at 7\.7 s \(op \d+\) counted 3 finalized, the final result 2 \(a 2 → 1\)$/,
      ),
    );
  });

  test('a tampered audit entry fails hash-chains-intact (and nothing else)', () => {
    const { h, votes } = cleanRun();
    const el = finalElection(E, votes);
    el.audit[1] = { ...el.audit[1]!, receipt: 'f'.repeat(64) };
    const r = checkHistory({ history: h.ops, final: finalState(el) });
    expect(broken(r)).toEqual(['hash-chains-intact']);
    expect(messages(r, 'hash-chains-intact')[0]).toBe(
      'election e1: partition 0 entry 2: hash does not match its content',
    );
  });

  test('results that differ from a recount fail results-equal-recount', () => {
    const { h, votes } = cleanRun();
    const el = finalElection(E, votes);
    el.results!.totals = { a: 3, b: 1 };
    const r = checkHistory({ history: h.ops, final: finalState(el) });
    expect(broken(r)).toEqual(['results-equal-recount']);
    expect(messages(r, 'results-equal-recount')).toEqual([
      'election e1: option a: audit log counts 2, results say 3',
    ]);
  });

  test('a position of a chain written twice fails no-fenced-write', () => {
    const { h, votes } = cleanRun();
    const el = finalElection(E, votes);
    el.audit.push({ ...el.audit[2]!, voteId: 'e1.0.3-0' });
    const r = checkHistory({ history: h.ops, final: finalState(el) });
    expect(broken(r)).toContain('no-fenced-write');
    expect(messages(r, 'no-fenced-write')).toEqual([
      'election e1 partition 0: 2 entries at position 3 (two owners finalized it)',
      'election e1: vote e1.0.3-0 finalized 2 times (a stale owner’s write took effect)',
    ]);
  });

  test('a closed election left with pending votes fails closed-elections-drained', () => {
    const { h, votes } = cleanRun();
    const el = finalElection(E, votes);
    el.results = { ...el.results!, pending: 2, final: false };
    const r = checkHistory({ history: h.ops, final: finalState(el) });
    expect(broken(r)).toEqual(['closed-elections-drained']);
  });
});
