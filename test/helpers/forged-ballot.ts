import {
  type Ballot,
  type PreparedElection,
  type RandomBytes,
  ballotMessage,
  encodePoint,
  encodeScalar,
  fromHex,
  randomScalar,
  signMessage,
  toHex,
} from '../../shared/ballots';
import type { NoblePoint } from '../../shared/ballots';
import { disjunctiveChallenge } from '../../shared/ballots/disjunctive-proof';
import { computeTracker } from '../../shared/ballots/tracker';

/**
 * Ballots that only the group equations can catch (docs/election-record.md A4): tracker
 * and signature are right, the commitment hints hash to the challenges, but a proof's
 * equations are false. What a batch verifier must find and name by its fallback.
 */

/** `b` with its tracker recomputed and signed again by `secretKey` (hex-decoded voter key). */
export function resign(e: PreparedElection<NoblePoint>, b: Ballot, secretKey: Uint8Array): Ballot {
  const hex = (x: string) => fromHex(x, 32);
  const tracker = computeTracker(
    e.hash,
    fromHex(b.publicKey, 32),
    b.selections.map((s) => ({
      alpha: hex(s.alpha),
      beta: hex(s.beta),
      c: s.proof.c.map(hex),
      v: s.proof.v.map(hex),
    })),
    { c: b.total.proof.c.map(hex), v: b.total.proof.v.map(hex) },
  );
  return {
    ...b,
    tracker: toHex(tracker),
    signature: toHex(signMessage(secretKey, ballotMessage(e.hash, tracker))),
  };
}

/** `b` with a forged 0-or-1 proof for option `index` (1-based), re-signed. */
export function forgeSelection(
  e: PreparedElection<NoblePoint>,
  b: Ballot,
  index: number,
  secretKey: Uint8Array,
  random: RandomBytes,
): Ballot {
  const g = e.group;
  const out = structuredClone(b);
  const s = out.selections[index - 1]!;
  const hints = [0, 1].map(() => ({
    a: g.mulBase(randomScalar(random)),
    b: g.mulBase(randomScalar(random)),
  }));
  const c = disjunctiveChallenge(
    g,
    {
      tag: 'qv/v1/selection',
      electionHash: e.hash,
      voterKey: fromHex(b.publicKey, 32),
      index,
      K: e.K,
      alpha: g.decode(fromHex(s.alpha, 32)),
      beta: g.decode(fromHex(s.beta, 32)),
      values: [0, 1],
    },
    hints.map((h) => ({ a: g.encode(h.a), b: g.encode(h.b) })),
  );
  const c0 = randomScalar(random);
  const q = 2n ** 252n + 27742317777372353535851937790883648493n;
  s.proof = {
    c: [encodeScalar(c0), encodeScalar((((c - c0) % q) + q) % q)],
    v: [encodeScalar(randomScalar(random)), encodeScalar(randomScalar(random))],
    a: hints.map((h) => encodePoint(g, h.a)),
    b: hints.map((h) => encodePoint(g, h.b)),
  };
  return resign(e, out, secretKey);
}
