import type { Group } from './group';
import { hashToScalar } from './hash';
import { u64 } from './hash-input';
import { mod } from './scalar';
import { tags } from './tags';
import { type RandomBytes, randomScalar } from './random';

/**
 * Schnorr proof of knowledge of a trustee's polynomial coefficient `a_{i,m}` behind its
 * commitment `A_{i,m} = a_{i,m}·G` (BALLOTS.md §3). Bound to the ceremony context and
 * to `(i, m)`, so a proof cannot be copied to another trustee, slot or election.
 */

function challenge<P>(g: Group<P>, ctx: Uint8Array, i: number, m: number, A: P, U: P): bigint {
  return hashToScalar([tags.pok, ctx, u64(i), u64(m), g.encode(A), g.encode(U)]);
}

/** Proves knowledge of `a` with `A = a·G`: `U = u·G`, `c = H(…)`, `v = u − c·a`. */
export function provePok<P>(
  g: Group<P>,
  ctx: Uint8Array,
  i: number,
  m: number,
  a: bigint,
  random: RandomBytes,
): { c: bigint; v: bigint } {
  const u = randomScalar(random);
  const A = g.mulBase(a);
  const c = challenge(g, ctx, i, m, A, g.mulBase(u));
  return { c, v: mod(u - c * a) };
}

/** Verifies: `U' = v·G + c·A`, accept iff `c = H("qv/v1/pok", ctx, i, m, A, U')`. */
export function verifyPok<P>(
  g: Group<P>,
  ctx: Uint8Array,
  i: number,
  m: number,
  A: P,
  c: bigint,
  v: bigint,
): boolean {
  const U = g.msm([g.base, A], [v, c]);
  return challenge(g, ctx, i, m, A, U) === c;
}
