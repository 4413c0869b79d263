import { publicElection } from '../shared/elections/store';
import { requireRole } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';

/** `POST /elections/{id}/open` (admin). */
export const handler = httpHandler('POST /elections/{id}/open', async (req) => {
  await requireRole(req, 'admin');
  const e = await elections.open(electionIdParam(req.params));
  return { status: 200, body: publicElection(e) };
});
