import type { Cluster } from 'ioredis';
import { badRequest } from '../errors';
import { revocationKeys } from '../redis/keys';
import { isRole, type Role } from './roles';
import { canonicalUsername, userKeys } from './user-keys';

/**
 * The searchable user list behind `GET /users` (admin): usernames in one sorted set
 * (user-keys.ts `index`), paged by username with an opaque cursor, searched by prefix.
 * It exists so that an administrator names voters by username (a roll's `username`
 * column, an election's voter list) instead of copying internal ids.
 */

export interface DirectoryUser {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
}

const QUERY = /^[A-Za-z0-9_.-]{0,64}$/;

/** Adds a user to the directory (after its record was created). */
export async function indexUser(redis: Cluster, username: string): Promise<void> {
  await redis.zadd(userKeys.index, 0, canonicalUsername(username));
}

/**
 * Builds the index from every user record once (users created before it existed, by an
 * older version). Run by every coordinator at start, never by `GET /users`: a read
 * changes nothing. Idempotent; `indexed` marks that it ran.
 */
export async function indexExistingUsers(redis: Cluster): Promise<void> {
  if ((await redis.get(userKeys.indexed)) === '1') return;
  for (const node of redis.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', userKeys.recordPattern, 'COUNT', 1000);
      cursor = next;
      const names = keys.map((k) => /^\{u:(.+)\}:user$/.exec(k)?.[1]).filter((n): n is string => !!n);
      if (names.length > 0) await redis.zadd(userKeys.index, ...names.flatMap((n) => [0, n]));
    } while (cursor !== '0');
  }
  await redis.set(userKeys.indexed, '1');
}

/**
 * One page of users in username order: `q` a username prefix (any case), `cursor` the
 * last username of the previous page, `limit` 1-200. `400` for a malformed `q`/`cursor`.
 */
export async function listUsers(
  redis: Cluster,
  opts: { q?: string; cursor?: string; limit: number },
): Promise<{ users: DirectoryUser[]; nextCursor?: string }> {
  const q = (opts.q ?? '').toLowerCase();
  if (!QUERY.test(q)) throw badRequest('q must be a username prefix (A-Z a-z 0-9 _ . -)', { field: 'q' });
  if (opts.cursor !== undefined && !/^[a-z0-9_.-]{3,64}$/.test(opts.cursor)) {
    throw badRequest('cursor is not valid', { field: 'cursor' });
  }
  const min = opts.cursor !== undefined && opts.cursor >= q ? `(${opts.cursor}` : `[${q}`;
  // Usernames are ASCII: every name starting with q sorts below q + 0xff.
  const max = q === '' ? '+' : `[${q}\xff`;
  const names = await redis.zrangebylex(userKeys.index, min, max, 'LIMIT', 0, opts.limit + 1);
  const more = names.length > opts.limit;
  const shown = names.slice(0, opts.limit);
  const records = await Promise.all(
    shown.map((n) => redis.hmget(userKeys.record(n), 'id', 'username', 'role')),
  );
  const users: DirectoryUser[] = [];
  const found: { id: string; username: string; role: Role }[] = [];
  for (const [id, username, role] of records) {
    if (id && username && isRole(role)) found.push({ id, username, role });
  }
  const disabled = await Promise.all(found.map((u) => redis.hget(revocationKeys.subject(u.id), 'd')));
  for (const [i, u] of found.entries()) users.push({ ...u, disabled: disabled[i] === '1' });
  const last = shown[shown.length - 1];
  return { users, ...(more && last ? { nextCursor: last } : {}) };
}
