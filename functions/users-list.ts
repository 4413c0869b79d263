import { listUsers } from '../shared/auth/user-directory';
import { badRequest } from '../shared/errors';
import { requireRole } from './lib/auth';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';
import type { UserList } from '../shared/api-bodies';

/**
 * `GET /users?q=&cursor=&limit=` (admin) → `200 {users:[{id, username, role,
 * disabled}], nextCursor?}`: usernames starting with `q` (any case), in username
 * order, 1-200 a page (default 50).
 */
export const handler = httpHandler('GET /users', async (req) => {
  await requireRole(req, 'admin');
  const limitText = req.query['limit'] ?? '50';
  const limit = Number(limitText);
  if (!/^\d{1,3}$/.test(limitText) || limit < 1 || limit > 200) {
    throw badRequest('limit must be an integer from 1 to 200', { field: 'limit' });
  }
  const cursor = req.query['cursor'] || undefined;
  const q = req.query['q'] ?? '';
  const page = await listUsers(redis(), {
    limit,
    ...(cursor === undefined ? {} : { cursor }),
    ...(q ? { q } : {}),
  });
  return { status: 200, body: page satisfies UserList };
});
