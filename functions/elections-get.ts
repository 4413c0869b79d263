import { publicElection } from '../shared/elections/store';
import { authenticate } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { limitRead } from './lib/read-limits';

/** `GET /elections/{id}` (any role). */
export const handler = httpHandler('GET /elections/{id}', async (req) => {
  const claims = await authenticate(req);
  await limitRead(req, claims.sub);
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: publicElection(e) };
});
