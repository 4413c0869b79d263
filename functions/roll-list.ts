import { badRequest } from '../shared/errors';
import { requireRole } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { rolls } from './lib/roll';

/**
 * `GET /elections/{id}/roll?q=&cursor=&limit=` (admin): the roll in import order, 1-500
 * voters a page (default 100), `q` matching name, email, external id, username, group or
 * voter id (any case); each voter's credential state and whether they voted.
 */
export const handler = httpHandler('GET /elections/{id}/roll', async (req) => {
  await requireRole(req, 'admin');
  const e = await elections.require(electionIdParam(req.params));
  const limitText = req.query['limit'] ?? '100';
  const limit = Number(limitText);
  if (!/^\d{1,3}$/.test(limitText) || limit < 1 || limit > 500) {
    throw badRequest('limit must be an integer from 1 to 500', { field: 'limit' });
  }
  const cursor = req.query['cursor'] || undefined;
  if (cursor !== undefined && !/^\d{1,9}$/.test(cursor))
    throw badRequest('cursor is not valid', { field: 'cursor' });
  const q = (req.query['q'] ?? '').trim();
  if (q.length > 200) throw badRequest('q is longer than 200 characters', { field: 'q' });
  const page = await rolls.list(e, {
    limit,
    ...(cursor === undefined ? {} : { cursor }),
    ...(q ? { q } : {}),
  });
  return { status: 200, body: page };
});
