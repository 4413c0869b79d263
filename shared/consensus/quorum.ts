/**
 * The majority of a voting membership of `n`: floor(n/2) + 1. One home for the formula,
 * because the election, the committee's verdicts, the finalizer and `npm run status`
 * must all agree on it; any two majorities of the same membership overlap.
 */
export function majorityOf(n: number): number {
  return Math.floor(n / 2) + 1;
}
