import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import { ceremonies } from './lib/secret';

/** `GET /elections/{id}/ceremony` (any role): the key ceremony's public state. */
export const handler = httpHandler('GET /elections/{id}/ceremony', async (req) => {
  await authenticateRead(req);
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: await ceremonies.view(e) };
});
