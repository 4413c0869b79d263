import { electionIdParam, elections } from './lib/elections';
import { assertElection } from './lib/auth';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import { ceremonies } from './lib/secret';

/** `GET /elections/{id}/ceremony` (any role): the key ceremony's public state. */
export const handler = httpHandler('GET /elections/{id}/ceremony', async (req) => {
  const claims = await authenticateRead(req);
  assertElection(claims, electionIdParam(req.params));
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: await ceremonies.view(e) };
});
