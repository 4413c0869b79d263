import { ApiError } from '../shared/errors';
import { publicElection } from '../shared/elections/store';
import { requireRole } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { config } from './lib/redis';

/** `POST /elections/{id}/reset` (admin, non-production only): clears votes and tallies. */
export const handler = httpHandler('POST /elections/{id}/reset', async (req) => {
  await requireRole(req, 'admin');
  if (config.production) throw new ApiError(403, 'forbidden', 'Reset is disabled in production');
  const e = await elections.reset(electionIdParam(req.params));
  return { status: 200, body: { ...publicElection(e), reset: true } };
});
