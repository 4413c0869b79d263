import { publicElection } from '../shared/elections/store';
import { requireRole } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';

/** `POST /elections/{id}/close` (admin): intake stops at once; pending votes still finish. */
export const handler = httpHandler('POST /elections/{id}/close', async (req) => {
  await requireRole(req, 'admin');
  const e = await elections.close(electionIdParam(req.params));
  return { status: 200, body: publicElection(e) };
});
