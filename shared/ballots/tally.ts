import { decodePoint, encodePoint } from './codec';
import type { Group } from './group';
import type { Ballot, Ciphertext } from './types';

/**
 * The homomorphic tally (BALLOTS.md §5): adding ciphertexts adds plaintexts, so the
 * component-wise sum of every counted ballot's option ℓ encrypts option ℓ's total.
 */

/** An all-identity tally of `L` options (the encryption of zero with nonce zero). */
export function emptyTally<P>(g: Group<P>, L: number): Ciphertext[] {
  const zero = encodePoint(g, g.identity);
  return Array.from({ length: L }, () => ({ alpha: zero, beta: zero }));
}

/** `tally + ballot`, option by option: the running-tally step of finalization. */
export function addBallotToTally<P>(g: Group<P>, tally: Ciphertext[], ballot: Ballot): Ciphertext[] {
  return tally.map((t, i) => {
    const s = ballot.selections[i]!;
    return {
      alpha: encodePoint(g, g.add(decodePoint(g, t.alpha), decodePoint(g, s.alpha))),
      beta: encodePoint(g, g.add(decodePoint(g, t.beta), decodePoint(g, s.beta))),
    };
  });
}

/** `T_ℓ = (Σ α_ℓ, Σ β_ℓ)` over `ballots` (already decoded sums, one add per ciphertext). */
export function sumBallots<P>(g: Group<P>, L: number, ballots: Ballot[]): Ciphertext[] {
  const alpha: P[] = Array.from({ length: L }, () => g.identity);
  const beta: P[] = Array.from({ length: L }, () => g.identity);
  for (const b of ballots) {
    for (let i = 0; i < L; i++) {
      alpha[i] = g.add(alpha[i]!, decodePoint(g, b.selections[i]!.alpha));
      beta[i] = g.add(beta[i]!, decodePoint(g, b.selections[i]!.beta));
    }
  }
  return alpha.map((a, i) => ({ alpha: encodePoint(g, a), beta: encodePoint(g, beta[i]!) }));
}
