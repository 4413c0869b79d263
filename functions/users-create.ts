import { validateNewUser } from '../shared/auth/user-input';
import { UserStore } from '../shared/auth/users';
import { requireRole } from './lib/auth';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';
import type { CreatedUser } from '../shared/api-bodies';

let users: UserStore | undefined;
const store = (): UserStore => {
  users ??= new UserStore(redis());
  return users;
};

/** `POST /users` (admin) `{username, password, role}` → `201 {id, username, role}`; `409 user_exists`. */
export const handler = httpHandler('POST /users', async (req) => {
  await requireRole(req, 'admin');
  const user = await store().create(validateNewUser(req.body));
  return {
    status: 201,
    body: {
      id: user.id,
      username: user.username,
      role: user.role,
      createdAt: user.createdAt,
    } satisfies CreatedUser,
  };
});
