import { publicElection } from '../shared/elections/store';
import { elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import type { ElectionList } from '../shared/api-bodies';

/** `GET /elections` (any role). */
export const handler = httpHandler('GET /elections', async (req) => {
  const claims = await authenticateRead(req);
  const all = await elections.list();
  // A token bound to one election (voting credential, join code) sees only that one.
  const seen = claims.eid === undefined ? all : all.filter((e) => e.id === claims.eid);
  return { status: 200, body: { elections: seen.map(publicElection) } satisfies ElectionList };
});
