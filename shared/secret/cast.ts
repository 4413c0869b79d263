import type { Cluster } from 'ioredis';
import { ApiError } from '../errors';
import type { ElectionRecord } from '../elections/store';
import { ballotOfBody, parseSecretBallot } from './secret-ballot';
import { isSpoiled } from './spoiled';
import { registerVoterKey } from './voter-roll';

/**
 * What intake does for a secret ballot before the ordinary enqueue: the cheap checks
 * (shape, encodings, tracker), refusing a challenged (spoiled) ballot, and putting the
 * ballot's key on the roll for this voter at their first ballot (409
 * `voter_key_mismatch` if they registered another one).
 */
export async function prepareSecretCast(
  redis: Cluster,
  e: ElectionRecord,
  voter: string,
  body: unknown,
): Promise<{ tracker: string; recorded: string }> {
  const ballot = parseSecretBallot(e, ballotOfBody(body));
  if (await isSpoiled(redis, e, ballot.tracker)) {
    throw new ApiError(
      409,
      'ballot_spoiled',
      'This ballot was challenged and published; it can never be cast',
    );
  }
  await registerVoterKey(redis, e, voter, ballot.publicKey);
  // The text the vote log keeps, as secretBallot.parse makes it: the caller hands it on
  // (withParsed) so the ballot is not decoded and hashed a second time on intake.
  return { tracker: ballot.tracker, recorded: JSON.stringify(ballot) };
}

/** The 202 answer to a secret ballot: the receipt is its tracking code. */
export interface SecretVoteAccepted {
  voteId: string;
  status: 'pending';
  /** The tracking code (BALLOTS.md §4), also under `tracker`: reveals nothing about the choice. */
  receipt: string;
  tracker: string;
  ballotId: string;
}
