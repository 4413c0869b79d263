import { Leadership, type RoleState } from '../../coordinator/leadership';

describe('Leadership: role changes are pushed to the subsystems', () => {
  it('starts as a follower of term 0, with no leader term', () => {
    const l = new Leadership();
    expect(l.current()).toEqual({ role: 'follower', term: 0 });
    expect(l.leaderTerm()).toBeNull();
  });

  it('tells every listener at once, with the state before, and reports the leader term', () => {
    const l = new Leadership();
    const seen: [RoleState, RoleState][] = [];
    l.onChange((now, before) => seen.push([now, before]));
    l.set('candidate', 3);
    l.set('leader', 3);
    expect(seen).toEqual([
      [
        { role: 'candidate', term: 3 },
        { role: 'follower', term: 0 },
      ],
      [
        { role: 'leader', term: 3 },
        { role: 'candidate', term: 3 },
      ],
    ]);
    expect(l.leaderTerm()).toBe(3);
    l.set('follower', 4);
    expect(l.leaderTerm()).toBeNull();
    expect(seen).toHaveLength(3);
  });

  it('a repeated state is not a change; an unsubscribed listener hears nothing more', () => {
    const l = new Leadership();
    let calls = 0;
    const off = l.onChange(() => calls++);
    l.set('leader', 1);
    l.set('leader', 1);
    expect(calls).toBe(1);
    off();
    l.set('follower', 2);
    expect(calls).toBe(1);
  });

  it("one listener's error does not keep the change from the others", () => {
    const l = new Leadership();
    const heard: string[] = [];
    l.onChange(() => {
      throw new Error('boom');
    });
    l.onChange((now) => heard.push(now.role));
    l.set('leader', 1);
    expect(heard).toEqual(['leader']);
  });
});
