import {
  type Ballot,
  type BallotOpening,
  type RandomBytes,
  cryptoRandomBytes,
  defaultGroup,
  encryptBallot,
  prepareElection,
} from '../ballots';
import type { Election } from '../elections/model';
import { type ApiCall, expectStatus, retrying } from './api-call';
import { manifestOf } from './election-manifest';

/**
 * The voter's side of a secret election (BALLOTS.md §4), for every client that casts:
 * the CLI, the load generator, tests, the web app. The ballot is encrypted, proven and
 * signed here, on the voter's device, from the election as GET /elections/{id} shows
 * it; the server only ever sees ciphertexts, proofs and the signature.
 */

/** Encrypts, proves and signs `selections` (0/1 per option) for the voter's Ed25519 seed. */
export function makeBallot(
  election: Election,
  selections: number[],
  voterSecretKey: Uint8Array,
  random: RandomBytes = cryptoRandomBytes,
): { ballot: Ballot; opening: BallotOpening } {
  if (!election.jointKey || !election.electionHash)
    throw new Error('the election has no joint key yet (ceremony)');
  const prepared = prepareElection(defaultGroup, {
    manifest: manifestOf(election),
    electionHash: election.electionHash,
    jointKey: election.jointKey,
  });
  return encryptBallot(prepared, selections, voterSecretKey, random);
}

/**
 * Casts a ballot; resolves with the vote id and the tracking code (the receipt). It
 * always sends an Idempotency-Key (a fresh one unless given), so a `503` (the vote not
 * yet confirmed on a replica) is retried safely with the same key.
 */
export async function castBallot(
  api: ApiCall,
  election: Election,
  ballot: Ballot,
  idempotencyKey: string = crypto.randomUUID(),
): Promise<{ voteId: string; tracker: string }> {
  const r = expectStatus(
    await retrying(api)(
      'POST',
      `/elections/${election.id}/votes`,
      { ballot },
      { 'idempotency-key': idempotencyKey },
    ),
    'cast',
    202,
  );
  return { voteId: r.body.voteId, tracker: r.body.tracker };
}

/**
 * Benaloh challenge: publishes a ballot with its opening (it is spoiled, never counted)
 * so anyone can check the device encrypted what the voter chose.
 */
export async function challengeBallot(
  api: ApiCall,
  election: Election,
  ballot: Ballot,
  opening: BallotOpening,
): Promise<void> {
  expectStatus(
    await retrying(api)('POST', `/elections/${election.id}/spoiled`, { ballot, opening }),
    'challenge',
    201,
  );
}

/** Registers the voter's key on the election's roll before voting (optional). */
export async function registerVoterKey(api: ApiCall, election: Election, publicKey: string): Promise<void> {
  expectStatus(
    await retrying(api)('POST', `/elections/${election.id}/voter-key`, { publicKey }),
    'voter key',
    200,
    201,
  );
}
