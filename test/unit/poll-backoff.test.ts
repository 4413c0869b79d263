import { PollBackoff } from '../../coordinator/pipeline/poll-backoff';

describe('PollBackoff: quiet partitions are polled less, busy ones at once', () => {
  let now = 0;
  const pace = () => new PollBackoff(40, () => now);

  beforeEach(() => {
    now = 1000;
  });

  it('a partition never polled, or that just found work, is due at once', () => {
    const p = pace();
    expect(p.due('e|0')).toBe(true);
    p.record('e|0', true);
    expect(p.due('e|0')).toBe(true);
    expect(p.msUntilNextDue()).toBe(40); // nothing paused: the loop may sleep the maximum
  });

  it('each empty poll doubles the pause, up to the maximum', () => {
    const p = pace();
    const pauses: number[] = [];
    for (let i = 0; i < 8; i++) {
      p.record('e|0', false);
      let waited = 0;
      while (!p.due('e|0')) {
        now += 1;
        waited += 1;
      }
      pauses.push(waited);
    }
    expect(pauses).toEqual([1, 2, 4, 8, 16, 32, 40, 40]);
  });

  it('work resets the pause; keys are independent; forget clears by prefix', () => {
    const p = pace();
    for (let i = 0; i < 4; i++) p.record('a|0', false); // pause 8
    p.record('b|0', false); // pause 1
    expect(p.due('a|0')).toBe(false);
    expect(p.msUntilNextDue()).toBe(1);
    p.record('a|0', true);
    expect(p.due('a|0')).toBe(true);
    p.record('a|1', false);
    p.forget('a|');
    expect(p.due('a|1')).toBe(true);
    expect(p.due('b|0')).toBe(false);
  });

  it('a maximum of 0 disables pacing', () => {
    const p = new PollBackoff(0, () => now);
    p.record('e|0', false);
    expect(p.due('e|0')).toBe(true);
  });
});
