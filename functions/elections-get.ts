import { adminElection, publicElection } from '../shared/elections/store';
import { electionIdParam, elections, joins } from './lib/elections';
import { assertElection } from './lib/auth';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import { rolls, webOrigin } from './lib/roll';

/**
 * `GET /elections/{id}` (any role). Admins also see a code-access election's join code
 * and how many joined (exact: the size of its joined set), and the voter roll's counts
 * `roll: {voters, credentialsActive}`.
 */
export const handler = httpHandler('GET /elections/{id}', async (req) => {
  const claims = await authenticateRead(req);
  assertElection(claims, electionIdParam(req.params));
  const e = await elections.require(electionIdParam(req.params));
  if (claims.role !== 'admin') return { status: 200, body: publicElection(e) };
  const joined = e.access === 'code' ? await joins.joined(e.id) : 0;
  return {
    status: 200,
    body: { ...adminElection(e, joined, webOrigin(req)), roll: await rolls.summary(e.id) },
  };
});
