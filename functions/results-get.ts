import { systemClock } from '../shared/clock';
import { readResults } from '../shared/votes/read';
import { authenticate } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';

/** `GET /elections/{id}/results`: sums every partition's tally. */
export const handler = httpHandler('GET /elections/{id}/results', async (req) => {
  await authenticate(req);
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: await readResults(redis(), systemClock, e) };
});
