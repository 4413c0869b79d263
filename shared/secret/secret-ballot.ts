import { randomBytes } from 'node:crypto';
import { type Ballot, type DisjunctiveProof, EncodingError, toHex } from '../ballots';
import { decodeBallot } from '../ballots/ballot-decode';
import { computeTracker } from '../ballots/tracker';
import { ApiError } from '../errors';
import type { Election } from '../elections/model';
import type { BallotScheme, JudgeContext } from '../votes/ballot';
import { preparedElectionOf } from './election-manifest';
import { judgeSecretBallot } from './judge-ballot';
import { parseSecretVoteRequest } from './request-bodies';

/**
 * Secret ballots behind the pipeline's BallotScheme (BALLOTS.md §4): the recorded text
 * is the ballot's canonical JSON; intake checks only shape, encoding and the tracker
 * (cheap), validators check everything (signature under the roll key, every proof), and
 * the receipt is the tracking code.
 */

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new EncodingError(`${what} must be a string`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > 128) throw new EncodingError(`${what} must be an array`);
  return v.map((x, i) => str(x, `${what}[${i}]`));
}

function proofOf(v: unknown, what: string): DisjunctiveProof {
  if (!v || typeof v !== 'object') throw new EncodingError(`${what} missing`);
  const p = v as Record<string, unknown>;
  return {
    c: strings(p['c'], `${what}.c`),
    v: strings(p['v'], `${what}.v`),
    ...(p['a'] === undefined ? {} : { a: strings(p['a'], `${what}.a`) }),
    ...(p['b'] === undefined ? {} : { b: strings(p['b'], `${what}.b`) }),
  };
}

/**
 * The ballot with exactly the fields of qv/v1 (and the optional commitment hints), in
 * one key order: what the vote log keeps, so retries and replays compare equal.
 */
export function canonicalBallot(v: unknown): Ballot {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new EncodingError('ballot must be an object');
  const b = v as Record<string, unknown>;
  if (!Array.isArray(b['selections']) || b['selections'].length > 64) {
    throw new EncodingError('selections must be an array');
  }
  const total = b['total'];
  if (!total || typeof total !== 'object') throw new EncodingError('total missing');
  return {
    tracker: str(b['tracker'], 'tracker'),
    publicKey: str(b['publicKey'], 'publicKey'),
    signature: str(b['signature'], 'signature'),
    selections: (b['selections'] as unknown[]).map((s, i) => {
      if (!s || typeof s !== 'object') throw new EncodingError(`selections[${i}] must be an object`);
      const o = s as Record<string, unknown>;
      return {
        alpha: str(o['alpha'], `selections[${i}].alpha`),
        beta: str(o['beta'], `selections[${i}].beta`),
        proof: proofOf(o['proof'], `selections[${i}].proof`),
      };
    }),
    total: { proof: proofOf((total as Record<string, unknown>)['proof'], 'total.proof') },
  };
}

/**
 * Parses and cheaply checks a ballot for `e` (shape, canonical encodings, the tracker
 * recomputed): 400 `malformed_ballot` or `bad_tracker`. Signature and proofs are the
 * validators' job. Returns the ballot in canonical form.
 */
export function parseSecretBallot(e: Election, v: unknown): Ballot {
  const prepared = preparedElectionOf(e);
  let ballot: Ballot;
  try {
    ballot = canonicalBallot(v);
    const d = decodeBallot(prepared, ballot);
    const tracker = computeTracker(
      prepared.hash,
      d.voterKey,
      d.selections.map((s) => ({
        alpha: s.alphaBytes,
        beta: s.betaBytes,
        c: s.proof.cBytes,
        v: s.proof.vBytes,
      })),
      { c: d.total.proof.cBytes, v: d.total.proof.vBytes },
    );
    if (toHex(tracker) !== ballot.tracker) {
      throw new ApiError(400, 'bad_tracker', 'The tracker is not the hash of this ballot (BALLOTS.md §4)');
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(400, 'malformed_ballot', `The ballot is malformed: ${(err as Error).message}`);
  }
  return ballot;
}

/** The submission body of a secret vote: `{ballot}`, nothing else (checked by its schema). */
export function ballotOfBody(body: unknown): unknown {
  return parseSecretVoteRequest(body).ballot;
}

export const secretBallot: BallotScheme = {
  name: 'secret',
  parse(election, body) {
    return JSON.stringify(parseSecretBallot(election, ballotOfBody(body)));
  },
  judge(election, recorded, context?: JudgeContext) {
    let ballot: Ballot;
    try {
      ballot = JSON.parse(recorded) as Ballot;
    } catch {
      return 'malformed';
    }
    return judgeSecretBallot(preparedElectionOf(election), ballot, context?.rollKey ?? null);
  },
  countKey: () => '',
  receipt(_election, recorded) {
    const tracker = (JSON.parse(recorded) as Ballot).tracker;
    return { receipt: tracker, ballotId: randomBytes(16).toString('hex'), nonce: '' };
  },
};
