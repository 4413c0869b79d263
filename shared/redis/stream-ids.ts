/**
 * Redis stream ids ("<ms>-<seq>") compared as the numbers they are, not as strings
 * ("10-0" is after "9-0"). One home for the rule: the vote log, the closing points of
 * the gates and the finalizer all order votes by it.
 */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}
