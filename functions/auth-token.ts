import { systemClock } from '../shared/clock';
import { HashSlots, loadHashSlotsOptions } from '../shared/auth/hash-slots';
import { loadSigningKey } from '../shared/auth/keys';
import { LoginThrottle, loadLoginThrottleConfig } from '../shared/auth/login-throttle';
import { RevocationList } from '../shared/auth/revocations';
import { parseTokenRequest } from '../shared/auth/user-input';
import { UserStore } from '../shared/auth/users';
import { ApiError } from '../shared/errors';
import { httpHandler } from './lib/http';
import { signedIn } from './lib/sign-in';
import { config, redis } from './lib/redis';

// The token issuer is the only function that holds the private key; read at start, so
// a missing key fails this function's start loudly instead of minting with a new key.
const signingKey = loadSigningKey({ keyDir: config.jwt.keyDir });
const throttle = new LoginThrottle(redis(), systemClock, loadLoginThrottleConfig());
const slots = new HashSlots(loadHashSlotsOptions());
const revocations = new RevocationList(redis());

let users: UserStore | undefined;
const store = (): UserStore => {
  users ??= new UserStore(redis());
  return users;
};

/**
 * `POST /auth/token` `{username, password}` → `200 {token, expiresIn, role, sub}`;
 * `401 invalid_credentials`; `403 user_disabled`; `429 rate_limited` (back-off per user
 * name and per client address, with Retry-After); `503 unavailable` when this instance
 * is already hashing as many passwords as it may.
 */
export const handler = httpHandler('POST /auth/token', async (req) => {
  const { username, password } = parseTokenRequest(req.body);
  // Counted before any hashing: a refused guess costs a Redis call, not a scrypt run.
  await throttle.admit(username, req.sourceIp);
  const user = await slots.run(() => store().verifyCredentials(username, password));
  if (!user) {
    await throttle.failed(username, req.sourceIp);
    throw new ApiError(401, 'invalid_credentials', 'Wrong username or password');
  }
  await throttle.succeeded(username, req.sourceIp);
  // A token carries the session version in force when it is issued.
  const state = await revocations.state(user.id);
  if (state.disabled) throw new ApiError(403, 'user_disabled', 'This user has been disabled');
  return signedIn({ sub: user.id, role: user.role, username: user.username, sv: state.version }, signingKey);
});
