import { systemClock } from '../shared/clock';
import { tallyView } from '../shared/secret/tally';
import { electionIdParam, elections } from './lib/elections';
import { assertElection } from './lib/auth';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import { redis } from './lib/redis';

/** `GET /elections/{id}/tally` (any role): a secret election's encrypted totals and counted ballots. */
export const handler = httpHandler('GET /elections/{id}/tally', async (req) => {
  const claims = await authenticateRead(req);
  assertElection(claims, electionIdParam(req.params));
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: await tallyView(redis(), systemClock, e) };
});
