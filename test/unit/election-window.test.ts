import { PAST_CLOSE_GRACE_MS, clearlyPastClose } from '../../shared/elections/model';
import { beforeClosingPoint, closingPoint, parseGate } from '../../shared/elections/gates';

/** The pure rules of the voting window (issue 11): gates, closing points, submit's extra check. */
describe('voting window rules', () => {
  test('a gate value reads as draft, open, or closed with its point', () => {
    expect(parseGate(null)).toEqual({ state: 'draft' });
    expect(parseGate('open')).toEqual({ state: 'open' });
    expect(parseGate('closed|1700000000000-3')).toEqual({ state: 'closed', point: '1700000000000-3' });
    // The old, pointless 'closed' is not a closing point: nothing would be comparable to it.
    expect(parseGate('closed')).toEqual({ state: 'draft' });
  });

  test('a vote is in the window exactly when it is at or before the closing point', () => {
    expect(beforeClosingPoint('1700000000000-3', '1700000000000-3')).toBe(true);
    expect(beforeClosingPoint('1700000000000-2', '1700000000000-3')).toBe(true);
    expect(beforeClosingPoint('1699999999999-9', '1700000000000-0')).toBe(true);
    expect(beforeClosingPoint('1700000000000-4', '1700000000000-3')).toBe(false);
    expect(beforeClosingPoint('1700000000001-0', '1700000000000-9')).toBe(false);
    expect(beforeClosingPoint('1700000000000-10', '1700000000000-9')).toBe(false); // numeric, not text
    expect(beforeClosingPoint('1-0', '0-0')).toBe(false); // an empty partition closed at 0-0
  });

  test('the closing point that holds is the earlier of the gate and the record', () => {
    const closed = (point: string) => ({ state: 'closed' as const, point });
    expect(closingPoint({ state: 'open' }, null)).toBeNull();
    expect(closingPoint({ state: 'open' }, '5-0')).toBe('5-0'); // a gate lost in a failover
    expect(closingPoint(closed('5-0'), null)).toBe('5-0');
    expect(closingPoint(closed('9-0'), '5-0')).toBe('5-0');
    expect(closingPoint(closed('5-0'), '9-0')).toBe('5-0');
  });

  test('submit refuses on its own only when its clock is clearly past closesAt', () => {
    const closesAt = '2030-01-01T00:00:00.000Z';
    const t = Date.parse(closesAt);
    expect(clearlyPastClose(null, t + 10 ** 9)).toBe(false);
    expect(clearlyPastClose(closesAt, t - 1)).toBe(false);
    expect(clearlyPastClose(closesAt, t + PAST_CLOSE_GRACE_MS)).toBe(false);
    expect(clearlyPastClose(closesAt, t + PAST_CLOSE_GRACE_MS + 1)).toBe(true);
  });
});
