import { publicElection } from '../shared/elections/store';
import { authenticate } from './lib/auth';
import { elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { limitRead } from './lib/read-limits';

/** `GET /elections` (any role). */
export const handler = httpHandler('GET /elections', async (req) => {
  const claims = await authenticate(req);
  await limitRead(req, claims.sub);
  const all = await elections.list();
  return { status: 200, body: { elections: all.map(publicElection) } };
});
