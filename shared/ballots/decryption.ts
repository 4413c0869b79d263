import { EncodingError } from './bytes';
import { decodePoint, decodeScalar, encodePoint, encodeScalar } from './codec';
import { boundedDiscreteLog } from './discrete-log';
import type { Group } from './group';
import { hashToScalar } from './hash';
import { u64 } from './hash-input';
import { type RandomBytes, cryptoRandomBytes, randomScalar } from './random';
import { lagrangeAtZero, mod } from './scalar';
import { tags } from './tags';
import { publicShareKey } from './dkg';
import type {
  Ciphertext,
  CommitmentEntry,
  Decryption,
  DecryptionShare,
  EncryptedTally,
  Manifest,
} from './types';

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
  | { check: 'malformed'; option?: number; message: string }
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
  } catch (err) {
    return { check: 'malformed', message: (err as Error).message };
  }
  decoded = [];
  for (let i = 0; i < share.values.length; i++) {
    const value = share.values[i];
    try {
      decoded.push({
        D: decodePoint(g, value?.share),
        c: decodeScalar(value?.proof?.c),
        v: decodeScalar(value?.proof?.v),
      });
    } catch (err) {
      return { check: 'malformed', option: i + 1, message: `option ${i + 1}: ${(err as Error).message}` };
    }
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

/** A submitted share that was refused, and why. */
export interface RefusedShare {
  trustee: number;
  fault: ShareFault | { check: 'unknown_trustee' | 'duplicate_share'; message: string };
}

/**
 * The tally step at close (BALLOTS.md §5, issue 14 item 7): checks every submitted share
 * against `X_j` from the qualified commitments, refuses (and names) bad ones, and once
 * `k` valid shares exist combines the first `k` by trustee index into the totals.
 * `decryption` is null while fewer than `k` are valid (the results wait).
 */
export function assembleDecryption<P>(
  g: Group<P>,
  election: { manifest: Manifest; electionHash: Uint8Array; qualified: CommitmentEntry[] },
  tally: EncryptedTally,
  submitted: DecryptionShare[],
): { decryption: Decryption | null; valid: number[]; refused: RefusedShare[] } {
  const { manifest } = election;
  const refused: RefusedShare[] = [];
  const valid = new Map<number, DecryptionShare>();
  for (const share of submitted) {
    if (!manifest.trustees.some((t) => t.index === share.trustee)) {
      refused.push({
        trustee: share.trustee,
        fault: { check: 'unknown_trustee', message: 'not a trustee of this election' },
      });
      continue;
    }
    if (valid.has(share.trustee)) {
      refused.push({
        trustee: share.trustee,
        fault: { check: 'duplicate_share', message: 'a valid share is already in' },
      });
      continue;
    }
    const X = publicShareKey(g, election.qualified, share.trustee);
    const fault = checkDecryptionShare(g, election.electionHash, tally.encrypted, share, X);
    if (fault) refused.push({ trustee: share.trustee, fault });
    else valid.set(share.trustee, share);
  }
  const indices = [...valid.keys()].sort((a, b) => a - b);
  if (indices.length < manifest.threshold) return { decryption: null, valid: indices, refused };
  const used = indices.slice(0, manifest.threshold);
  const totals = decryptTotals(
    g,
    tally.encrypted,
    tally.countedBallots,
    used.map((j) => valid.get(j)!),
  );
  return {
    decryption: { shares: indices.map((j) => valid.get(j)!), used, totals },
    valid: indices,
    refused,
  };
}
