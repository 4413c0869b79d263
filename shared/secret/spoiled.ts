import type { Cluster } from 'ioredis';
import { type Ballot, type BallotOpening, checkOpening } from '../ballots';
import { ApiError } from '../errors';
import type { Election } from '../elections/model';
import { secretElectionKeys } from '../redis/keys';
import { preparedElectionOf } from './election-manifest';
import { hashCas } from './hash-cas';
import { parseSpoilRequest } from './request-bodies';
import { parseSecretBallot } from './secret-ballot';

/**
 * Benaloh's cast-or-challenge (BALLOTS.md §4): a challenged ballot is published with its
 * opening, after the server checked that its ciphertexts encrypt exactly the revealed
 * plaintexts. A spoiled ballot is never counted: intake refuses to take its tracker.
 */

/** A published spoiled ballot. */
export interface SpoiledBallot {
  ballot: Ballot;
  opening: BallotOpening;
}

/** Checks and publishes a challenged ballot; 422 `bad_opening` names the option that fails. */
export async function publishSpoiled(redis: Cluster, e: Election, body: unknown): Promise<SpoiledBallot> {
  const b = parseSpoilRequest(body);
  if (e.status === 'closed') throw new ApiError(409, 'election_not_open', 'This election is closed');
  const ballot = parseSecretBallot(e, b.ballot);
  const opening: BallotOpening = b.opening;
  const fault = checkOpening(preparedElectionOf(e), ballot, opening);
  if (fault) {
    throw new ApiError(422, 'bad_opening', `The opening does not match the ballot: ${fault.message}`, {
      option: fault.option,
    });
  }
  const spoiled: SpoiledBallot = {
    ballot,
    opening: { plaintexts: opening.plaintexts, nonces: opening.nonces },
  };
  const json = JSON.stringify(spoiled);
  const r = await hashCas(redis, secretElectionKeys(e.id).spoiled, ballot.tracker, '', json);
  if (!r.written && r.current !== json)
    throw new ApiError(409, 'already_spoiled', 'This ballot was already challenged');
  return spoiled;
}

/** True when a ballot with this tracker was challenged (it must never be cast). */
export async function isSpoiled(redis: Cluster, e: Election, tracker: string): Promise<boolean> {
  return (await redis.hexists(secretElectionKeys(e.id).spoiled, tracker)) === 1;
}

/** Every spoiled ballot, ordered by tracker (the record lists them before the cast ones). */
export async function readSpoiled(redis: Cluster, e: Election): Promise<SpoiledBallot[]> {
  const all = await redis.hgetall(secretElectionKeys(e.id).spoiled);
  return Object.keys(all)
    .sort()
    .map((t) => JSON.parse(all[t]!) as SpoiledBallot);
}
