import { EncodingError } from './bytes';
import { decodePoint, decodePublicKey, decodeScalar, encodePoint, encodeScalar } from './codec';
import type { Group } from './group';
import { ceremonyContext, electionHash } from './manifest';
import { type RandomBytes, randomScalar } from './random';
import { mod } from './scalar';
import { provePok, verifyPok } from './schnorr-pok';
import type { Ceremony, CommitmentEntry, Complaint, Manifest } from './types';

/**
 * Pedersen's dealer-free key generation with Feldman commitments (BALLOTS.md §3).
 * No one ever holds the election's secret key: each trustee deals a random polynomial,
 * and trustee j's share x_j is the sum of everyone's polynomials at j.
 */

/** A trustee's secret polynomial `f_i` (coefficients as hex scalars, exportable to a file). */
export interface TrusteeSecret {
  trustee: number;
  coefficients: string[];
}

/** Picks trustee `i`'s secret polynomial of degree k−1 and its public commitments with proofs. */
export function createTrustee<P>(
  g: Group<P>,
  manifest: Manifest,
  trustee: number,
  random: RandomBytes,
): { secret: TrusteeSecret; commitment: CommitmentEntry } {
  const ctx = ceremonyContext(manifest);
  const coefficients: bigint[] = [];
  for (let m = 0; m < manifest.threshold; m++) coefficients.push(randomScalar(random));
  const commitment: CommitmentEntry = {
    trustee,
    coefficients: coefficients.map((a) => encodePoint(g, g.mulBase(a))),
    proofs: coefficients.map((a, m) => {
      const { c, v } = provePok(g, ctx, trustee, m, a, random);
      return { c: encodeScalar(c), v: encodeScalar(v) };
    }),
  };
  return { secret: { trustee, coefficients: coefficients.map(encodeScalar) }, commitment };
}

/** Why a commitment entry fails; `coefficient` is `m` (0-based). */
export type CommitmentFault =
  | { check: 'malformed'; message: string }
  | { check: 'bad_commitment_proof'; coefficient: number };

/**
 * Verifies a trustee's published entry: k canonical commitments (none the identity,
 * §1: `A_{i,0}` is a public key), and every proof of knowledge. Null when valid.
 */
export function checkCommitmentEntry<P>(
  g: Group<P>,
  manifest: Manifest,
  entry: CommitmentEntry,
): CommitmentFault | null {
  const ctx = ceremonyContext(manifest);
  const k = manifest.threshold;
  let points: P[];
  let proofs: { c: bigint; v: bigint }[];
  try {
    if (!Array.isArray(entry.coefficients) || entry.coefficients.length !== k) {
      throw new EncodingError(`expected ${k} commitments`);
    }
    if (!Array.isArray(entry.proofs) || entry.proofs.length !== k)
      throw new EncodingError(`expected ${k} proofs`);
    points = entry.coefficients.map((a) => decodePublicKey(g, a));
    proofs = entry.proofs.map((p) => ({ c: decodeScalar(p?.c), v: decodeScalar(p?.v) }));
  } catch (err) {
    return { check: 'malformed', message: (err as Error).message };
  }
  for (let m = 0; m < k; m++) {
    if (!verifyPok(g, ctx, entry.trustee, m, points[m]!, proofs[m]!.c, proofs[m]!.v)) {
      return { check: 'bad_commitment_proof', coefficient: m };
    }
  }
  return null;
}

/** `s_{i→j} = f_i(j)` (Horner), the share trustee i sends trustee j confidentially. */
export function evaluateShare(secret: TrusteeSecret, j: number): string {
  let acc = 0n;
  for (let m = secret.coefficients.length - 1; m >= 0; m--) {
    acc = mod(acc * BigInt(j) + decodeScalar(secret.coefficients[m]));
  }
  return encodeScalar(acc);
}

/** `Σ_m j^m·A_{i,m}`: what `s_{i→j}·G` must equal (Feldman's check). */
export function expectedShareCommitment<P>(g: Group<P>, entry: CommitmentEntry, j: number): P {
  const points = entry.coefficients.map((a) => decodePoint(g, a));
  const powers: bigint[] = [];
  let pow = 1n;
  for (let m = 0; m < points.length; m++) {
    powers.push(pow);
    pow = mod(pow * BigInt(j));
  }
  return g.msm(points, powers);
}

/** Trustee j's check of a received share; false means j should publish a complaint. */
export function checkShare<P>(g: Group<P>, entry: CommitmentEntry, j: number, share: string): boolean {
  let s: bigint;
  try {
    s = decodeScalar(share);
  } catch {
    return false;
  }
  return g.equals(g.mulPublic(g.base, s), expectedShareCommitment(g, entry, j));
}

/**
 * Judges a complaint of trustee `from` against the dealer of `entry` (A10): upheld iff
 * the accused published no share in answer, or the share it published fails Feldman's
 * check. An honest dealer accused falsely clears itself by revealing the share.
 */
export function judgeComplaint<P>(
  g: Group<P>,
  entry: CommitmentEntry | undefined,
  complaint: Complaint,
): boolean {
  if (!entry || complaint.revealedShare === undefined) return true;
  return !checkShare(g, entry, complaint.from, complaint.revealedShare);
}

/** `x_j = Σ_{i∈Q} s_{i→j}`: trustee j's secret share of the joint key (stays on its device). */
export function combineSecretShare(received: string[]): string {
  let x = 0n;
  for (const s of received) x = mod(x + decodeScalar(s));
  return encodeScalar(x);
}

/** `K = Σ_{i∈Q} A_{i,0}`. */
export function jointKeyOf<P>(g: Group<P>, qualified: CommitmentEntry[]): P {
  let K = g.identity;
  for (const e of qualified) K = g.add(K, decodePoint(g, e.coefficients[0]));
  return K;
}

/** `X_j = Σ_{i∈Q} Σ_m j^m·A_{i,m}`: trustee j's public share key, computed from the record. */
export function publicShareKey<P>(g: Group<P>, qualified: CommitmentEntry[], j: number): P {
  let X = g.identity;
  for (const e of qualified) X = g.add(X, expectedShareCommitment(g, e, j));
  return X;
}

/**
 * The qualified set Q (§3): trustees whose entry verifies and against whom no complaint
 * is upheld, in index order.
 */
export function qualifiedTrustees<P>(
  g: Group<P>,
  manifest: Manifest,
  commitments: CommitmentEntry[],
  complaints: Complaint[],
): number[] {
  const upheld = new Set(complaints.filter((c) => c.upheld).map((c) => c.against));
  const valid = new Set(
    commitments.filter((e) => checkCommitmentEntry(g, manifest, e) === null).map((e) => e.trustee),
  );
  return manifest.trustees.map((t) => t.index).filter((i) => valid.has(i) && !upheld.has(i));
}

/**
 * Closes the ceremony: Q, the joint key and the election hash. Throws when |Q| < k
 * (the ceremony failed and must be rerun).
 */
export function finishCeremony<P>(
  g: Group<P>,
  manifest: Manifest,
  commitments: CommitmentEntry[],
  complaints: Complaint[],
): { ceremony: Ceremony; electionHash: Uint8Array } {
  const qualified = qualifiedTrustees(g, manifest, commitments, complaints);
  if (qualified.length < manifest.threshold) {
    throw new Error(
      `ceremony failed: ${qualified.length} qualified trustees, threshold ${manifest.threshold}`,
    );
  }
  const entries = qualified.map((i) => commitments.find((e) => e.trustee === i)!);
  const jointKey = encodePoint(g, jointKeyOf(g, entries));
  const ceremony: Ceremony = { commitments, complaints, qualified, jointKey };
  return { ceremony, electionHash: electionHash(manifest, jointKey, entries) };
}
