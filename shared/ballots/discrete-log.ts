import { toHex } from './bytes';
import type { Group } from './group';

/**
 * Baby-step giant-step for `t` with `t·G = M` and `0 ≤ t ≤ bound` (BALLOTS.md §5): the
 * totals are small (at most the number of counted ballots), so √bound steps each way
 * suffice: about 2·317 point additions for 100,000 ballots.
 */
export function boundedDiscreteLog<P>(g: Group<P>, M: P, bound: number): number | null {
  if (!Number.isSafeInteger(bound) || bound < 0) throw new RangeError('bound must be a non-negative integer');
  const m = Math.ceil(Math.sqrt(bound + 1));
  const baby = new Map<string, number>();
  let p = g.identity;
  for (let j = 0; j < m; j++) {
    baby.set(toHex(g.encode(p)), j);
    p = g.add(p, g.base);
  }
  const step = g.neg(p); // −m·G
  let gamma = M;
  for (let i = 0; i <= m; i++) {
    const j = baby.get(toHex(g.encode(gamma)));
    if (j !== undefined) {
      const t = i * m + j;
      return t <= bound ? t : null;
    }
    gamma = g.add(gamma, step);
  }
  return null;
}
