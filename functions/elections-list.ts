import { publicElection } from '../shared/elections/store';
import { elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import type { ElectionList } from '../shared/api-bodies';

/** `GET /elections` (any role). */
export const handler = httpHandler('GET /elections', async (req) => {
  await authenticateRead(req);
  const all = await elections.list();
  return { status: 200, body: { elections: all.map(publicElection) } satisfies ElectionList };
});
