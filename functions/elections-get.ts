import { publicElection } from '../shared/elections/store';
import { electionIdParam, elections } from './lib/elections';
import { assertElection } from './lib/auth';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';

/** `GET /elections/{id}` (any role). */
export const handler = httpHandler('GET /elections/{id}', async (req) => {
  const claims = await authenticateRead(req);
  assertElection(claims, electionIdParam(req.params));
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: publicElection(e) };
});
