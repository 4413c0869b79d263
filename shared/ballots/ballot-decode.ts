import { EncodingError, fromHex } from './bytes';
import { decodeScalars } from './codec';
import type { PreparedElection } from './election';
import type { Ballot, DisjunctiveProof } from './types';

/**
 * A ballot's JSON decoded once into group values, shared by per-ballot and batch
 * verification. Any non-canonical value makes the whole ballot `malformed`.
 */

/** Decoded commitment hints (an addition, docs/election-record.md): points and their bytes. */
export interface DecodedHints<P> {
  a: P[];
  b: P[];
  aBytes: Uint8Array[];
  bBytes: Uint8Array[];
}

/** One decoded proof: scalars, and hints when present and well-formed. */
export interface DecodedProof<P> {
  c: bigint[];
  v: bigint[];
  cBytes: Uint8Array[];
  vBytes: Uint8Array[];
  hints: DecodedHints<P> | null;
}

/** A decoded ballot; `A`, `B` are the summed ciphertext the total proof is about. */
export interface DecodedBallot<P> {
  voterKey: Uint8Array;
  signature: Uint8Array;
  tracker: Uint8Array;
  selections: { alpha: P; beta: P; alphaBytes: Uint8Array; betaBytes: Uint8Array; proof: DecodedProof<P> }[];
  total: { A: P; B: P; proof: DecodedProof<P> };
}

function decodeHints<P>(e: PreparedElection<P>, p: DisjunctiveProof, n: number): DecodedHints<P> | null {
  // Hints never decide a verdict: a missing or broken one only costs the fast path.
  try {
    if (!Array.isArray(p.a) || !Array.isArray(p.b) || p.a.length !== n || p.b.length !== n) return null;
    const aBytes = p.a.map((x) => fromHex(x, 32));
    const bBytes = p.b.map((x) => fromHex(x, 32));
    return {
      a: aBytes.map((x) => e.group.decode(x)),
      b: bBytes.map((x) => e.group.decode(x)),
      aBytes,
      bBytes,
    };
  } catch {
    return null;
  }
}

function decodeProof<P>(e: PreparedElection<P>, p: unknown, n: number, withHints: boolean): DecodedProof<P> {
  if (typeof p !== 'object' || p === null) throw new EncodingError('proof missing');
  const proof = p as DisjunctiveProof;
  const c = decodeScalars(proof.c, n);
  const v = decodeScalars(proof.v, n);
  return {
    c,
    v,
    cBytes: proof.c.map((x) => fromHex(x, 32)),
    vBytes: proof.v.map((x) => fromHex(x, 32)),
    hints: withHints ? decodeHints(e, proof, n) : null,
  };
}

/**
 * Decodes a ballot against its election (L selections, 2-branch selection proofs, a
 * total proof over `{min..max}`). Throws `EncodingError`. `withHints` decodes the
 * optional commitment hints (batch verification only; decoding them costs time).
 */
export function decodeBallot<P>(e: PreparedElection<P>, ballot: Ballot, withHints = false): DecodedBallot<P> {
  const g = e.group;
  if (typeof ballot !== 'object' || ballot === null) throw new EncodingError('ballot is not an object');
  if (!Array.isArray(ballot.selections) || ballot.selections.length !== e.manifest.options.length) {
    throw new EncodingError(`expected ${e.manifest.options.length} selections`);
  }
  const selections = ballot.selections.map((s) => {
    if (typeof s !== 'object' || s === null) throw new EncodingError('selection is not an object');
    const alphaBytes = fromHex(s.alpha, 32);
    const betaBytes = fromHex(s.beta, 32);
    return {
      alpha: g.decode(alphaBytes),
      beta: g.decode(betaBytes),
      alphaBytes,
      betaBytes,
      proof: decodeProof(e, s.proof, 2, withHints),
    };
  });
  let A = g.identity;
  let B = g.identity;
  for (const s of selections) {
    A = g.add(A, s.alpha);
    B = g.add(B, s.beta);
  }
  if (typeof ballot.total !== 'object' || ballot.total === null) throw new EncodingError('total missing');
  return {
    voterKey: fromHex(ballot.publicKey, 32),
    signature: fromHex(ballot.signature, 64),
    tracker: fromHex(ballot.tracker, 32),
    selections,
    total: { A, B, proof: decodeProof(e, ballot.total.proof, e.totalValues.length, withHints) },
  };
}
