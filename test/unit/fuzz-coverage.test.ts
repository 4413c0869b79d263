import {
  type FuzzStats,
  assertFuzzCoverage,
  countAnswer,
  countStateChange,
  emptyFuzzStats,
} from '../helpers/fuzz-coverage';

/** The check test/e2e/http-fuzz.test.ts runs after each of its fuzz phases. */

const goal = { statuses: ['2xx', '409', '429'], codes: ['already_voted'], stateChanges: ['votesSubmit'] };

function run(answers: [number, string | undefined, string?][]): FuzzStats {
  const s = emptyFuzzStats();
  for (const [status, code, changed] of answers) {
    countAnswer(s, status, code);
    if (changed) countStateChange(s, changed);
  }
  return s;
}

describe('fuzz coverage check', () => {
  test('a run with zero requests fails, whatever the goal', () => {
    expect(() => assertFuzzCoverage('empty', emptyFuzzStats(), { statuses: [] })).toThrow(
      'empty: the fuzz made no requests',
    );
    expect(() => assertFuzzCoverage('empty', emptyFuzzStats(), goal)).toThrow('no requests');
  });

  test('a run that reached every goal passes', () => {
    const s = run([
      [202, undefined, 'votesSubmit'],
      [409, 'already_voted'],
      [429, 'rate_limited'],
      [400, 'invalid_request'],
    ]);
    expect(s).toEqual({
      runs: 4,
      byStatus: { 202: 1, 409: 1, 429: 1, 400: 1 },
      byCode: { already_voted: 1, rate_limited: 1, invalid_request: 1 },
      stateChanges: { votesSubmit: 1 },
    });
    expect(() => assertFuzzCoverage('full', s, goal)).not.toThrow();
  });

  test('a run of refusals only fails and names every missing outcome', () => {
    const s = run([
      [401, 'unauthorized'],
      [400, 'invalid_request'],
    ]);
    expect(() => assertFuzzCoverage('refusals', s, goal)).toThrow(
      'refusals: 2 requests never produced status 2xx, status 409, status 429, code already_voted, a state change by votesSubmit',
    );
  });

  test('a status class counts any status of the class; an exact status only itself', () => {
    const s = run([
      [200, undefined],
      [404, 'not_found'],
    ]);
    expect(() => assertFuzzCoverage('class', s, { statuses: ['2xx', '4xx'] })).not.toThrow();
    expect(() => assertFuzzCoverage('exact', s, { statuses: ['201'] })).toThrow('never produced status 201');
    expect(() => assertFuzzCoverage('exact', s, { statuses: ['5xx'] })).toThrow('never produced status 5xx');
  });

  test('successes without a state change fail a state-change goal', () => {
    const s = run([
      [202, undefined],
      [409, 'already_voted'],
      [429, 'rate_limited'],
    ]);
    expect(() => assertFuzzCoverage('no-change', s, goal)).toThrow(
      'never produced a state change by votesSubmit',
    );
  });

  test('someStateChange is met by any route and missed when nothing changed', () => {
    const changed = run([[201, undefined, 'usersCreate']]);
    expect(() =>
      assertFuzzCoverage('any', changed, { statuses: ['2xx'], someStateChange: true }),
    ).not.toThrow();
    const unchanged = run([[200, undefined]]);
    expect(() => assertFuzzCoverage('none', unchanged, { statuses: ['2xx'], someStateChange: true })).toThrow(
      'none: 1 requests never produced a state change;',
    );
  });

  test('counts that do not add up are refused', () => {
    const s = run([[200, undefined]]);
    s.runs = 2;
    expect(() => assertFuzzCoverage('odd', s, { statuses: ['2xx'] })).toThrow('2 runs but 1 answers counted');
  });
});
