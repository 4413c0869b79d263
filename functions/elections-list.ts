import { publicElection } from '../shared/elections/store';
import { authenticate } from './lib/auth';
import { elections } from './lib/elections';
import { httpHandler } from './lib/http';

/** `GET /elections` (any role). */
export const handler = httpHandler('GET /elections', async (req) => {
  await authenticate(req);
  const all = await elections.list();
  return { status: 200, body: { elections: all.map(publicElection) } };
});
