import { issueToken } from '../shared/auth/tokens';
import { UserStore } from '../shared/auth/users';
import { ApiError, badRequest } from '../shared/errors';
import { httpHandler } from './lib/http';
import { config, redis } from './lib/redis';

let users: UserStore | undefined;
const store = (): UserStore => {
  users ??= new UserStore(redis());
  return users;
};

/** `POST /auth/token` `{username, password}` → `200 {token, expiresIn, role, sub}` or `401 invalid_credentials`. */
export const handler = httpHandler('POST /auth/token', async (req) => {
  const body = req.body as Record<string, unknown> | undefined;
  if (
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body) ||
    typeof body['username'] !== 'string' ||
    typeof body['password'] !== 'string'
  ) {
    throw badRequest('Body must be {"username": string, "password": string}');
  }
  const user = await store().verifyCredentials(body['username'], body['password']);
  if (!user) throw new ApiError(401, 'invalid_credentials', 'Wrong username or password');
  const { ttlS, issuer, audience, keyDir } = config.jwt;
  const token = await issueToken(
    { sub: user.id, role: user.role, username: user.username },
    { ttlS, issuer, audience, keyDir },
  );
  return {
    status: 200,
    body: {
      token,
      tokenType: 'Bearer',
      expiresIn: ttlS,
      role: user.role,
      sub: user.id,
      username: user.username,
    },
  };
});
