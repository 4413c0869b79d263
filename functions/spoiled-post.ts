import { requireVoterFor } from './lib/auth';
import { cachedElection, electionIdParam } from './lib/elections';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';
import { publishSpoiled } from '../shared/secret/spoiled';

/**
 * `POST /elections/{id}/spoiled` (voter): `{ballot, opening}`, a challenged ballot,
 * checked and published as spoiled (never counted); 422 `bad_opening` names the option.
 */
export const handler = httpHandler('POST /elections/{id}/spoiled', async (req) => {
  const { electionId } = await requireVoterFor(req, () => electionIdParam(req.params));
  const e = await cachedElection(electionId);
  const s = await publishSpoiled(redis(), e, req.body);
  return { status: 201, body: { tracker: s.ballot.tracker, state: 'spoiled' } };
});
