import { EncodingError } from './bytes';
import { decodePoint, decodeScalars } from './codec';
import type { PreparedElection } from './election';
import type { Ballot, BallotOpening } from './types';

/**
 * Benaloh's cast-or-challenge (BALLOTS.md §4): a challenged ballot is published with its
 * plaintexts and nonces, and anyone checks that the ciphertexts encrypt exactly those
 * plaintexts. It is what lets a voter catch a device that encrypts another choice.
 */

/** Null when the opening is valid; otherwise the option (1-based, 0 = shape) that fails. */
export function checkOpening<P>(
  e: PreparedElection<P>,
  ballot: Ballot,
  opening: BallotOpening,
): { option: number; message: string } | null {
  const g = e.group;
  const L = e.manifest.options.length;
  let nonces: bigint[];
  try {
    if (!Array.isArray(opening?.plaintexts) || opening.plaintexts.length !== L) {
      throw new EncodingError(`expected ${L} plaintexts`);
    }
    if (!Array.isArray(ballot?.selections) || ballot.selections.length !== L) {
      throw new EncodingError(`expected ${L} selections`);
    }
    nonces = decodeScalars(opening.nonces, L);
  } catch (err) {
    return { option: 0, message: (err as Error).message };
  }
  for (let i = 0; i < L; i++) {
    const m = opening.plaintexts[i];
    if (m !== 0 && m !== 1) return { option: i + 1, message: 'a plaintext is 0 or 1' };
    let alpha: P;
    let beta: P;
    try {
      alpha = decodePoint(g, ballot.selections[i]!.alpha);
      beta = decodePoint(g, ballot.selections[i]!.beta);
    } catch (err) {
      return { option: i + 1, message: (err as Error).message };
    }
    const r = nonces[i]!;
    const rK = g.mulPublic(e.K, r);
    const expectedBeta = m === 1 ? g.add(g.base, rK) : rK;
    if (!g.equals(alpha, g.mulPublic(g.base, r)) || !g.equals(beta, expectedBeta)) {
      return {
        option: i + 1,
        message: `option ${i + 1}: the ciphertext does not encrypt ${m} with the given nonce`,
      };
    }
  }
  return null;
}
