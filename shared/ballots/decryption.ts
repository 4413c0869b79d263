import { EncodingError } from './bytes';
import { decodePoint, decodeScalar, encodePoint, encodeScalar } from './codec';
import { boundedDiscreteLog } from './discrete-log';
import type { Group } from './group';
import { hashToScalar } from './hash';
import { u64 } from './hash-input';
import { type RandomBytes, cryptoRandomBytes, randomScalar } from './random';
import { lagrangeAtZero, mod } from './scalar';
import { tags } from './tags';
import type { Ciphertext, DecryptionShare } from './types';

/**
 * Threshold decryption of the tally (BALLOTS.md §5): each trustee publishes
 * `D_{j,ℓ} = x_j·A_ℓ` with a Chaum–Pedersen proof that it used the same `x_j` as its
 * public share key `X_j`; any k valid shares combine (Lagrange at 0) into `K`'s secret
 * applied to `A_ℓ`, never revealing the secret itself.
 */

function challenge<P>(
  g: Group<P>,
  hash: Uint8Array,
  j: number,
  l: number,
  X: P,
  A: P,
  D: P,
  a: P,
  b: P,
): bigint {
  return hashToScalar([tags.decrypt, hash, u64(j), u64(l), ...[X, A, D, a, b].map((p) => g.encode(p))]);
}

/** Trustee `j`'s decryption share of every option's total, with proofs; `x_j` hex stays local. */
export function computeDecryptionShare<P>(
  g: Group<P>,
  electionHash: Uint8Array,
  encrypted: Ciphertext[],
  trustee: number,
  secretShare: string,
  random: RandomBytes = cryptoRandomBytes,
): DecryptionShare {
  const x = decodeScalar(secretShare);
  const X = g.mulBase(x);
  return {
    trustee,
    shareKey: encodePoint(g, X),
    values: encrypted.map((ct, i) => {
      const A = decodePoint(g, ct.alpha);
      const D = g.mul(A, x);
      const u = randomScalar(random);
      const c = challenge(g, electionHash, trustee, i + 1, X, A, D, g.mulBase(u), g.mul(A, u));
      return { share: encodePoint(g, D), proof: { c: encodeScalar(c), v: encodeScalar(mod(u - c * x)) } };
    }),
  };
}

/** Why a decryption share fails; `option` is 1-based. */
export type ShareFault =
  | { check: 'malformed'; message: string }
  | { check: 'wrong_share_key'; message: string }
  | { check: 'bad_decryption_proof'; option: number; message: string };

/**
 * Checks a share against `X_j` computed from the commitments (never the share's own
 * `shareKey`, which is only compared): `a' = v·G + c·X_j`, `b' = v·A_ℓ + c·D_{j,ℓ}`,
 * accept iff `c = H(…, a', b')`.
 */
export function checkDecryptionShare<P>(
  g: Group<P>,
  electionHash: Uint8Array,
  encrypted: Ciphertext[],
  share: DecryptionShare,
  X: P,
): ShareFault | null {
  let decoded: { D: P; c: bigint; v: bigint }[];
  let A: P[];
  try {
    if (!Array.isArray(share.values) || share.values.length !== encrypted.length) {
      throw new EncodingError(`expected ${encrypted.length} values`);
    }
    if (!g.equals(decodePoint(g, share.shareKey), X)) {
      return { check: 'wrong_share_key', message: 'shareKey differs from X_j computed from the commitments' };
    }
    A = encrypted.map((ct) => decodePoint(g, ct.alpha));
    decoded = share.values.map((v) => ({
      D: decodePoint(g, v.share),
      c: decodeScalar(v.proof?.c),
      v: decodeScalar(v.proof?.v),
    }));
  } catch (err) {
    return { check: 'malformed', message: (err as Error).message };
  }
  for (let i = 0; i < decoded.length; i++) {
    const { D, c, v } = decoded[i]!;
    const a = g.msm([g.base, X], [v, c]);
    const b = g.msm([A[i]!, D], [v, c]);
    if (challenge(g, electionHash, share.trustee, i + 1, X, A[i]!, D, a, b) !== c) {
      return {
        check: 'bad_decryption_proof',
        option: i + 1,
        message: `option ${i + 1}: the decryption proof fails`,
      };
    }
  }
  return null;
}

/**
 * `M_ℓ = B_ℓ − Σ_{j∈S} λ_j·D_{j,ℓ}` over exactly the shares given (the set S), for
 * every option.
 */
export function combineShares<P>(g: Group<P>, encrypted: Ciphertext[], shares: DecryptionShare[]): P[] {
  const S = shares.map((s) => s.trustee);
  const lambdas = S.map((j) => lagrangeAtZero(j, S));
  return encrypted.map((ct, i) => {
    const Ds = shares.map((s) => decodePoint(g, s.values[i]!.share));
    return g.sub(decodePoint(g, ct.beta), g.msm(Ds, lambdas));
  });
}

/**
 * The published totals from exactly k verified shares: Lagrange, then baby-step
 * giant-step bounded by `countedBallots`. Throws if a total is out of range (which
 * valid shares of a valid tally never give).
 */
export function decryptTotals<P>(
  g: Group<P>,
  encrypted: Ciphertext[],
  countedBallots: number,
  shares: DecryptionShare[],
): number[] {
  return combineShares(g, encrypted, shares).map((M, i) => {
    const t = boundedDiscreteLog(g, M, countedBallots);
    if (t === null) throw new RangeError(`option ${i + 1}: no total within 0..${countedBallots}`);
    return t;
  });
}
