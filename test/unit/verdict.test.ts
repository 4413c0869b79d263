import { majorityOf } from '../../shared/consensus/quorum';
import { countVerdicts, decide, majorityCheckpoint } from '../../shared/votes/verdict';

describe('the verdict rule: checkpoint at or past = approval, objection = rejection, a majority decides', () => {
  it('a majority is floor(n/2) + 1', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(majorityOf)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('a checkpoint at or past the vote approves it; one before it, or none, does not', () => {
    expect(countVerdicts('10-0', ['10-0', '11-0', '9-5', null, undefined], [])).toEqual({
      approvals: 2,
      reasons: [],
    });
  });

  it('orders stream ids as numbers, not strings ("10-0" is past "9-0")', () => {
    expect(countVerdicts('9-0', ['10-0'], []).approvals).toBe(1);
    expect(countVerdicts('10-0', ['9-0'], []).approvals).toBe(0);
    expect(countVerdicts('5-10', ['5-9'], []).approvals).toBe(0);
  });

  it('an objection rejects, even from a member whose checkpoint has passed the vote', () => {
    expect(countVerdicts('5-0', ['6-0', '6-0', '6-0'], ['bad_sig', null, ''])).toEqual({
      approvals: 2,
      reasons: ['bad_sig'],
    });
  });

  it('counted once a majority approves; rejected once a majority objects; otherwise pending', () => {
    expect(decide({ approvals: 2, reasons: [] }, 3)).toEqual({ outcome: 'counted' });
    expect(decide({ approvals: 1, reasons: ['x'] }, 3)).toEqual({ outcome: 'pending' });
    expect(decide({ approvals: 2, reasons: ['x', 'y'] }, 5)).toEqual({ outcome: 'pending' });
    expect(decide({ approvals: 0, reasons: ['x', 'y'] }, 3)).toEqual({ outcome: 'rejected', reason: 'x' });
  });

  it('a rejection carries the reason most objectors gave (the first of equals)', () => {
    expect(decide({ approvals: 0, reasons: ['a', 'b', 'b'] }, 5)).toEqual({
      outcome: 'rejected',
      reason: 'b',
    });
    expect(decide({ approvals: 0, reasons: ['a', 'b', 'c'] }, 5)).toEqual({
      outcome: 'rejected',
      reason: 'a',
    });
  });

  it('the majority checkpoint is the newest id a majority has reached', () => {
    expect(majorityCheckpoint(['3-0', '10-0', '7-0'], 3)).toBe('7-0');
    expect(majorityCheckpoint(['3-0', null, null], 3)).toBeUndefined();
    expect(majorityCheckpoint(['3-0', '9-0', null], 3)).toBe('3-0');
    expect(majorityCheckpoint(['1-0', '2-0', '3-0', '4-0', '5-0'], 5)).toBe('3-0');
  });
});
