import { publicElection } from '../shared/elections/store';
import { authenticate } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';

/** `GET /elections/{id}` (any role). */
export const handler = httpHandler('GET /elections/{id}', async (req) => {
  await authenticate(req);
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: publicElection(e) };
});
