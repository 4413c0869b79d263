import type { Cluster, Redis } from 'ioredis';

/**
 * The user store's Lua scripts and their typed wrappers (CONVENTIONS 5).
 *
 * They belong in shared/redis/lua/create-user.lua and set-user-password.lua, run through
 * shared/redis/scripts.ts (`defineScript`/`runScript`); that folder is owned elsewhere,
 * so they are inlined here, each with the header CONVENTIONS 4 asks for, ready to move
 * verbatim. The wrappers below keep the same contract: EVALSHA with EVAL fallback via
 * ioredis `defineCommand`, and a loud failure on any reply of the wrong shape.
 */

/** Creates a user hash unless the username is taken; idempotent when ioredis retries the same call. */
export const createUserLua = `-- create-user: creates a user record once, never overwriting one.
-- KEYS[1] user hash ({u:<username>}:user)
-- ARGV[1] id of the new user; ARGV[2..n] field, value pairs of the whole record (including id)
-- Reply: 1 when this call created the record (or already did, on a retried call with the same id);
--        0 when the username belongs to someone else.
local existing = redis.call('HGET', KEYS[1], 'id')
if existing then
  if existing == ARGV[1] then return 1 end
  return 0
end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
`;

/** Replaces a user's password hash, only if the record is still the user the caller read. */
export const setUserPasswordLua = `-- set-user-password: replaces the password hash of an existing user.
-- KEYS[1] user hash ({u:<username>}:user)
-- ARGV[1] expected user id (the record must not have been replaced meanwhile)
-- ARGV[2] new password hash, ARGV[3] updatedAt (ISO-8601, caller's clock)
-- ARGV[4] optional: the hash the caller read; when given, the update only happens if it is
--         still the stored one (a rehash on login never undoes a concurrent password change)
-- Reply: 1 when updated; 0 when no user with that id exists under this name (or ARGV[4] is stale).
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
if ARGV[4] and redis.call('HGET', KEYS[1], 'passwordHash') ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[2], 'updatedAt', ARGV[3])
return 1
`;

type RedisLike = Cluster | Redis;
type ScriptFn = (...args: string[]) => Promise<unknown>;
type WithScripts = RedisLike & { qvCreateUser?: ScriptFn; qvSetUserPassword?: ScriptFn };

/** Registers the scripts on a client once (EVALSHA, falling back to EVAL after a flush/failover). */
function scripts(redis: RedisLike): { qvCreateUser: ScriptFn; qvSetUserPassword: ScriptFn } {
  const r = redis as WithScripts;
  if (typeof r.qvCreateUser !== 'function')
    r.defineCommand('qvCreateUser', { lua: createUserLua, numberOfKeys: 1 });
  if (typeof r.qvSetUserPassword !== 'function') {
    r.defineCommand('qvSetUserPassword', { lua: setUserPasswordLua, numberOfKeys: 1 });
  }
  return r as { qvCreateUser: ScriptFn; qvSetUserPassword: ScriptFn };
}

function flag(reply: unknown, script: string): boolean {
  if (reply === 1 || reply === 0) return reply === 1;
  throw new Error(`${script}: unexpected reply ${JSON.stringify(reply)}`);
}

/** Runs create-user; true when the record now holds `id`, false when the name is taken. */
export async function runCreateUser(
  redis: RedisLike,
  key: string,
  id: string,
  fields: Record<string, string>,
): Promise<boolean> {
  const argv = Object.entries(fields).flat();
  return flag(await scripts(redis).qvCreateUser(key, id, ...argv), 'create-user');
}

/** Runs set-user-password; true when the password hash was replaced. */
export async function runSetUserPassword(
  redis: RedisLike,
  key: string,
  id: string,
  passwordHash: string,
  updatedAt: string,
  expectedHash?: string,
): Promise<boolean> {
  const args = expectedHash === undefined ? [] : [expectedHash];
  return flag(
    await scripts(redis).qvSetUserPassword(key, id, passwordHash, updatedAt, ...args),
    'set-user-password',
  );
}
