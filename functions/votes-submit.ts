import { systemClock } from '../shared/clock';
import { ApiError } from '../shared/errors';
import { loadSettings } from '../shared/settings/load';
import { checkRateLimits, rateLimitFromEnv } from '../shared/votes/rate-limit';
import { withParsed } from '../shared/votes/ballot';
import { submitVote } from '../shared/votes/submit';
import { requireVoterFor } from './lib/auth';
import { cachedElection, electionIdParam, refuseLateVote, requireJoined } from './lib/elections';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';
import { rolls } from './lib/roll';
import type { VoteAccepted } from '../shared/api-bodies';
import type { SecretVoteAccepted } from '../shared/secret/cast';
import { ballotSchemeOf } from '../shared/secret/election-ballots';
import { prepareSecretCast } from '../shared/secret/cast';

const settings = loadSettings();
const limits = {
  voter: rateLimitFromEnv('RATE_LIMIT_VOTER', 'RATE_LIMIT_WINDOW_MS'),
  ip: rateLimitFromEnv('RATE_LIMIT_IP', 'RATE_LIMIT_WINDOW_MS'),
};
// A 202 promises the vote is on a master and at least one replica (docs/guarantees.md):
// the function never asks for fewer than one replica, whatever the environment says.
const submitOptions = {
  waitReplicas: Math.max(1, settings.SUBMIT_WAIT_REPLICAS),
  waitTimeoutMs: settings.SUBMIT_WAIT_MS,
};

/**
 * `POST /elections/{id}/votes` (voter): 202 with vote id and receipt once the vote is on
 * two Redis processes; 503 + Retry-After when that cannot be confirmed in time (the
 * client retries with the same Idempotency-Key); 422 when the key was used for another choice.
 */
export const handler = httpHandler('POST /elections/{id}/votes', async (req) => {
  const { claims, electionId } = await requireVoterFor(req, () => electionIdParam(req.params));
  const [election, onRoll] = await Promise.all([
    cachedElection(electionId),
    // Read on every submit, never cached: a voter imported or revoked a moment ago counts.
    rolls.voterOf(electionId, claims.sub),
    checkRateLimits(redis(), systemClock, [
      { subject: `v:${claims.sub}`, rule: limits.voter },
      { subject: `ip:${req.sourceIp}`, rule: limits.ip },
    ]),
  ]);
  requireJoined(election, claims);
  // Code-access elections admit their joined identities (requireJoined), roll or not.
  if (election.access !== 'code' && !onRoll.onRoll) {
    throw new ApiError(403, 'not_on_roll', 'This election has a voter roll and you are not on it');
  }
  if (req.body === undefined) throw new ApiError(400, 'invalid_request', 'Send a JSON body {optionId}');
  await refuseLateVote(election, claims.sub, systemClock.now());
  // Secret ballots: shape and tracker checked, the key on the roll, before the enqueue.
  const secret =
    election.ballot === 'secret' ? await prepareSecretCast(redis(), election, claims.sub, req.body) : null;
  const result = await submitVote(
    redis(),
    systemClock,
    secret ? withParsed(ballotSchemeOf(election), secret.recorded) : ballotSchemeOf(election),
    election,
    claims.sub,
    req.body,
    req.headers['idempotency-key'],
    // The roll entry's weight (1 when the roll is empty or the voter has none).
    { ...submitOptions, weight: onRoll.onRoll ? onRoll.weight : 1 },
  );
  if (secret) {
    return {
      status: 202,
      body: {
        voteId: result.voteId,
        status: result.status,
        receipt: result.receipt,
        tracker: secret.tracker,
        ballotId: result.ballotId,
      } satisfies SecretVoteAccepted,
      headers: { 'Idempotent-Replayed': String(result.duplicate) },
    };
  }
  return {
    status: 202,
    body: {
      voteId: result.voteId,
      status: result.status,
      receipt: result.receipt,
      ballotId: result.ballotId,
      receiptNonce: result.receiptNonce,
    } satisfies VoteAccepted,
    headers: { 'Idempotent-Replayed': String(result.duplicate) },
  };
});
