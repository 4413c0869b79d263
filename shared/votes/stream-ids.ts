/**
 * Redis stream ids ("<ms>-<seq>"), the positions in a partition's vote log: a vote id
 * ends in one, checkpoints, the finalized position and the gates' closing points are
 * ones. They live next to the vote log because that is what they index.
 */

/** The largest value either part of a stream id may take (Redis keeps both in 64 bits). */
export const U64_MAX = 18446744073709551615n;

/**
 * Stream ids compared as the numbers they are, not as strings ("10-0" is after "9-0").
 * One home for the rule: the vote log, the closing points of the gates and the
 * finalizer all order votes by it.
 */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}

/**
 * True when "ms-seq" is a stream id Redis accepts (both parts fit in 64 bits). The id
 * patterns allow 20 digits, and Redis refuses anything larger with an error, so an id
 * from a client is checked before it reaches a command (else a 500, not a 404/400).
 */
export function isStreamId(id: string): boolean {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  return !!m && BigInt(m[1]!) <= U64_MAX && BigInt(m[2]!) <= U64_MAX;
}
