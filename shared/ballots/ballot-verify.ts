import { bytesEqual, toHex } from './bytes';
import { type DecodedBallot, decodeBallot } from './ballot-decode';
import { type BallotVerdict, reject } from './ballot-verdict';
import { verifyDisjunctive } from './disjunctive-proof';
import type { PreparedElection } from './election';
import { type SignatureVerifier, ballotMessage, nobleVerifySignature } from './signature';
import { tags } from './tags';
import { computeTracker } from './tracker';
import type { Ballot } from './types';

/** What a ballot is checked against besides the election. */
export interface BallotCheckOptions {
  /** Is this Ed25519 public key (hex) on the roll? Omitted: every key is. */
  isOnRoll?: (publicKeyHex: string) => boolean;
  /** Has a ballot with this key (hex) already been counted? Omitted: none has. */
  isDuplicate?: (publicKeyHex: string) => boolean;
  /** Ed25519 verifier; default noble (strict RFC 8032). */
  verifySignature?: SignatureVerifier;
}

/**
 * The checks that need no group arithmetic (decode, roll, duplicate, tracker,
 * signature), in the order a cheap rejection should come first. Returns the decoded
 * ballot, or the rejection.
 */
export function precheckBallot<P>(
  e: PreparedElection<P>,
  ballot: Ballot,
  opts: BallotCheckOptions,
  withHints = false,
): { decoded: DecodedBallot<P> } | { verdict: BallotVerdict } {
  let d: DecodedBallot<P>;
  try {
    d = decodeBallot(e, ballot, withHints);
  } catch (err) {
    return { verdict: reject('malformed', (err as Error).message) };
  }
  const pk = toHex(d.voterKey);
  if (opts.isOnRoll && !opts.isOnRoll(pk))
    return { verdict: reject('not_on_roll', 'the key is not on the voter roll') };
  if (opts.isDuplicate?.(pk))
    return { verdict: reject('duplicate_key', 'a ballot with this key was already counted') };
  const tracker = computeTracker(
    e.hash,
    d.voterKey,
    d.selections.map((s) => ({
      alpha: s.alphaBytes,
      beta: s.betaBytes,
      c: s.proof.cBytes,
      v: s.proof.vBytes,
    })),
    { c: d.total.proof.cBytes, v: d.total.proof.vBytes },
  );
  if (!bytesEqual(tracker, d.tracker))
    return { verdict: reject('bad_tracker', 'the tracker does not match the ballot') };
  const verify = opts.verifySignature ?? nobleVerifySignature;
  if (!verify(d.signature, ballotMessage(e.hash, d.tracker), d.voterKey)) {
    return { verdict: reject('bad_signature', 'the signature does not verify under the ballot key') };
  }
  return { decoded: d };
}

/** Every proof of a decoded ballot by the spec's recomputation (BALLOTS.md §4). */
export function checkBallotProofs<P>(e: PreparedElection<P>, d: DecodedBallot<P>): BallotVerdict {
  const g = e.group;
  for (let i = 0; i < d.selections.length; i++) {
    const s = d.selections[i]!;
    const ok = verifyDisjunctive(
      g,
      {
        tag: tags.selection,
        electionHash: e.hash,
        voterKey: d.voterKey,
        index: i + 1,
        K: e.K,
        alpha: s.alpha,
        alphaBytes: s.alphaBytes,
        betaBytes: s.betaBytes,
        beta: s.beta,
        values: [0, 1],
      },
      s.proof.c,
      s.proof.v,
    );
    if (!ok) return reject('bad_selection_proof', `option ${i + 1}: the 0-or-1 proof fails`, i + 1);
  }
  const t = d.total;
  const ok = verifyDisjunctive(
    g,
    {
      tag: tags.total,
      electionHash: e.hash,
      voterKey: d.voterKey,
      index: 0,
      K: e.K,
      alpha: t.A,
      beta: t.B,
      values: e.totalValues,
    },
    t.proof.c,
    t.proof.v,
  );
  return ok ? { valid: true } : reject('bad_total_proof', 'the proof of the number of selections fails');
}

/**
 * Verifies one ballot completely (BALLOTS.md §4): decoding, roll, one ballot per key,
 * tracker, signature, all L + 1 proofs. The reason names the first failing check.
 */
export function verifyBallot<P>(
  e: PreparedElection<P>,
  ballot: Ballot,
  opts: BallotCheckOptions = {},
): BallotVerdict {
  const pre = precheckBallot(e, ballot, opts);
  if ('verdict' in pre) return pre.verdict;
  return checkBallotProofs(e, pre.decoded);
}
