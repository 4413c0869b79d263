import { activeValidators, rendezvousOwner, rendezvousRanking } from '../../coordinator/pipeline/pipeline';

describe('who judges a partition: the first active validators of its rendezvous ranking', () => {
  const five = ['c1', 'c2', 'c3', 'c4', 'c5'];

  it('needs at least the majority, and 3 when there are that many', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 9].map(activeValidators)).toEqual([1, 2, 3, 3, 3, 4, 4, 5]);
  });

  it('ranks every member once, deterministically, and agrees with the owner rule', () => {
    for (let p = 0; p < 16; p++) {
      const r = rendezvousRanking(`judge:e|${p}`, five);
      expect([...r].sort()).toEqual(five);
      expect(rendezvousRanking(`judge:e|${p}`, [...five].reverse())).toEqual(r);
      expect(rendezvousOwner(`judge:e|${p}`, five)).toBe(r[0]);
    }
  });

  it('spreads the work: with 5 members each judges about 3/5 of 16 partitions', () => {
    const load = new Map(five.map((m) => [m, 0]));
    for (let p = 0; p < 16; p++) {
      for (const m of rendezvousRanking(`judge:e|${p}`, five).slice(0, 3)) load.set(m, load.get(m)! + 1);
    }
    expect([...load.values()].reduce((a, b) => a + b, 0)).toBe(48);
    for (const n of load.values()) expect(n).toBeGreaterThanOrEqual(5);
  });

  it('a member that drops out is replaced by the next in line; the others keep their places', () => {
    for (let p = 0; p < 16; p++) {
      const full = rendezvousRanking(`judge:e|${p}`, five);
      const gone = full[0]!;
      const rest = rendezvousRanking(
        `judge:e|${p}`,
        five.filter((m) => m !== gone),
      );
      expect(rest).toEqual(full.slice(1));
    }
  });
});
