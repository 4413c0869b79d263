import { ApiError } from '../shared/errors';
import { publicElection } from '../shared/elections/store';
import { requireRole } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { config } from './lib/redis';

/**
 * `POST /elections/{id}/reset` (admin, non-production only): clears votes and tallies.
 * A closed election whose votes are finalized keeps its result unless the stack runs in
 * explicit test mode (QV_TEST_MODE=1); every reset is recorded in the election's audit.
 */
export const handler = httpHandler('POST /elections/{id}/reset', async (req) => {
  const claims = await requireRole(req, 'admin');
  if (config.production) throw new ApiError(403, 'forbidden', 'Reset is disabled in production');
  const e = await elections.reset(electionIdParam(req.params), { testMode: config.testMode, by: claims.sub });
  return { status: 200, body: { ...publicElection(e), reset: true } };
});
