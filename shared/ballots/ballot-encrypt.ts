import { toHex } from './bytes';
import { encodePoint, encodeScalar } from './codec';
import { type DisjunctiveProofValues, type ProofStatement, proveDisjunctive } from './disjunctive-proof';
import type { PreparedElection } from './election';
import { type RandomBytes, cryptoRandomBytes, randomScalar } from './random';
import { mod, scalarToBytes } from './scalar';
import { ballotMessage, signMessage, voterPublicKey } from './signature';
import { tags } from './tags';
import { computeTracker } from './tracker';
import type { Ballot, BallotOpening, DisjunctiveProof } from './types';

/**
 * Encrypting, proving and signing a ballot on the voter's device (BALLOTS.md §4):
 * exponential ElGamal per option under the joint key, a 0-or-1 proof per option, a
 * proof that the number of selections is allowed, the tracker and the signature.
 */

function proofJson<P>(e: PreparedElection<P>, p: DisjunctiveProofValues<P>): DisjunctiveProof {
  const g = e.group;
  return {
    c: p.c.map(encodeScalar),
    v: p.v.map(encodeScalar),
    a: p.a.map((x) => encodePoint(g, x)),
    b: p.b.map((x) => encodePoint(g, x)),
  };
}

/**
 * Encrypts `selections` (one 0 or 1 per option) for the voter whose Ed25519 seed is
 * `voterSecretKey`. Returns the ballot to cast and the opening (plaintexts + nonces) the
 * device keeps in case the voter challenges it; the opening must never be sent with a
 * cast ballot. `random` is injectable for test vectors only; `sign` lets a device use
 * its own Ed25519 implementation (WebCrypto, libsodium), the result is the same.
 */
export function encryptBallot<P>(
  e: PreparedElection<P>,
  selections: number[],
  voterSecretKey: Uint8Array,
  random: RandomBytes = cryptoRandomBytes,
  sign: (secretKey: Uint8Array, message: Uint8Array) => Uint8Array = signMessage,
): { ballot: Ballot; opening: BallotOpening } {
  const g = e.group;
  const m = e.manifest;
  if (selections.length !== m.options.length || selections.some((s) => s !== 0 && s !== 1)) {
    throw new RangeError(`selections must be ${m.options.length} values of 0 or 1`);
  }
  const count = selections.reduce((a, b) => a + b, 0);
  if (count < m.minSelections || count > m.maxSelections) {
    throw new RangeError(`between ${m.minSelections} and ${m.maxSelections} selections allowed`);
  }
  const voterKey = voterPublicKey(voterSecretKey);
  const nonces: bigint[] = [];
  const ciphertexts: { alpha: P; beta: P }[] = [];
  for (const sel of selections) {
    const r = randomScalar(random);
    nonces.push(r);
    const rK = g.mul(e.K, r);
    ciphertexts.push({ alpha: g.mulBase(r), beta: sel === 1 ? g.add(g.base, rK) : rK });
  }
  const statement = (tag: string, index: number, alpha: P, beta: P, values: number[]): ProofStatement<P> => ({
    tag,
    electionHash: e.hash,
    voterKey,
    index,
    K: e.K,
    alpha,
    beta,
    values,
  });
  const proofs = ciphertexts.map((ct, i) =>
    proveDisjunctive(
      g,
      statement(tags.selection, i + 1, ct.alpha, ct.beta, [0, 1]),
      selections[i]!,
      nonces[i]!,
      random,
    ),
  );
  let A = g.identity;
  let B = g.identity;
  let R = 0n;
  ciphertexts.forEach((ct, i) => {
    A = g.add(A, ct.alpha);
    B = g.add(B, ct.beta);
    R = mod(R + nonces[i]!);
  });
  const totalProof = proveDisjunctive(g, statement(tags.total, 0, A, B, e.totalValues), count, R, random);

  const tracker = computeTracker(
    e.hash,
    voterKey,
    ciphertexts.map((ct, i) => ({
      alpha: g.encode(ct.alpha),
      beta: g.encode(ct.beta),
      c: proofs[i]!.c.map(scalarToBytes),
      v: proofs[i]!.v.map(scalarToBytes),
    })),
    { c: totalProof.c.map(scalarToBytes), v: totalProof.v.map(scalarToBytes) },
  );
  const signature = sign(voterSecretKey, ballotMessage(e.hash, tracker));
  const ballot: Ballot = {
    tracker: toHex(tracker),
    publicKey: toHex(voterKey),
    signature: toHex(signature),
    selections: ciphertexts.map((ct, i) => ({
      alpha: encodePoint(g, ct.alpha),
      beta: encodePoint(g, ct.beta),
      proof: proofJson(e, proofs[i]!),
    })),
    total: { proof: proofJson(e, totalProof) },
  };
  return { ballot, opening: { plaintexts: [...selections], nonces: nonces.map(encodeScalar) } };
}
