import { publicElection } from '../shared/elections/store';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';

/** `GET /elections/{id}` (any role). */
export const handler = httpHandler('GET /elections/{id}', async (req) => {
  await authenticateRead(req);
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: publicElection(e) };
});
