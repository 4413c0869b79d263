import { randomInt } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import type { Role } from '../shared/auth/roles';
import { PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS } from '../shared/auth/user-input';
import { UserStore, type UserStoreOptions } from '../shared/auth/users';
import { ApiError } from '../shared/errors';

/**
 * Demo users for `npm start` (API.md "Identity", local only): `admin`, `auditor` and
 * the voters `alice`, `bob`, `carol`. The admin has a password of its own, so handing
 * a voter the printed voters' password never hands out the admin; both are printed.
 * `DEMO_PASSWORD` sets one password for all of them.
 */
export interface DemoUserSpec {
  username: string;
  role: Role;
}

/** The users API.md promises after `npm start`. */
export const DEMO_USERS: readonly DemoUserSpec[] = Object.freeze([
  { username: 'admin', role: 'admin' },
  { username: 'auditor', role: 'auditor' },
  { username: 'alice', role: 'voter' },
  { username: 'bob', role: 'voter' },
  { username: 'carol', role: 'voter' },
]);

/** One seeded user and what seeding did to it. */
export interface SeededUser {
  id: string;
  username: string;
  /** The stored role (an existing user keeps theirs). */
  role: Role;
  status: 'created' | 'kept' | 'password_reset';
}

export interface SeedOptions extends UserStoreOptions {
  /** Users to seed instead of {@link DEMO_USERS} (tests use random names). */
  users?: readonly DemoUserSpec[];
}

/** The demo passwords: one for admins, one for everybody else. */
export interface DemoPasswords {
  admin: string;
  others: string;
}

/** The password a demo user of `role` gets. */
export function passwordFor(passwords: DemoPasswords, role: Role): string {
  return role === 'admin' ? passwords.admin : passwords.others;
}

/**
 * Creates the demo users idempotently: existing users are kept (id and role), but
 * their password is reset to theirs (see {@link passwordFor}; a string gives everybody
 * the same) when it differs, so what `npm start` prints always logs in. Returns the
 * users keyed by username, in {@link DEMO_USERS} order.
 */
export async function seedDemoUsers(
  redis: Cluster | Redis,
  passwords: string | DemoPasswords,
  options: SeedOptions = {},
): Promise<Record<string, SeededUser>> {
  const store = new UserStore(redis, options);
  const all: DemoPasswords =
    typeof passwords === 'string' ? { admin: passwords, others: passwords } : passwords;
  const seedOne = async ({ username, role }: DemoUserSpec): Promise<SeededUser> => {
    const password = passwordFor(all, role);
    try {
      const user = await store.create({ username, password, role });
      return { id: user.id, username: user.username, role: user.role, status: 'created' };
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'user_exists') throw err;
    }
    const same = await store.verifyCredentials(username, password);
    if (same) return { id: same.id, username: same.username, role: same.role, status: 'kept' };
    if (!(await store.setPassword(username, password))) {
      throw new Error(`Demo user "${username}" vanished while its password was reset`);
    }
    const user = await store.get(username);
    if (!user) throw new Error(`Demo user "${username}" vanished while seeding`);
    return { id: user.id, username: user.username, role: user.role, status: 'password_reset' };
  };
  const seeded = await Promise.all((options.users ?? DEMO_USERS).map(seedOne));
  return Object.fromEntries(seeded.map((u) => [u.username, u]));
}

// No 0/o/1/l/i: the password is read off a terminal and typed into a browser.
const READABLE = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A random `xxxx-xxxx-xxxx-xxxx` password (~79 bits), easy to read and type. */
export function generateReadablePassword(): string {
  const group = () => Array.from({ length: 4 }, () => READABLE[randomInt(READABLE.length)]).join('');
  return [group(), group(), group(), group()].join('-');
}

export interface DemoPasswordOptions {
  env?: NodeJS.ProcessEnv;
  /** Folder of the `demo-password` file; default `.local`. */
  dir?: string;
  /** File name inside `dir`; default `demo-password` (the admin's: `demo-admin-password`). */
  file?: string;
}

/**
 * Both demo passwords: `DEMO_PASSWORD` for everybody when set; else the voters' from
 * `.local/demo-password` and the admin's from `.local/demo-admin-password`, each
 * generated once (they differ: two independent ~79-bit draws).
 */
export function demoPasswords(options: Omit<DemoPasswordOptions, 'file'> = {}): DemoPasswords {
  const others = demoPassword(options);
  const env = options.env ?? process.env;
  if (env['DEMO_PASSWORD'] !== undefined && env['DEMO_PASSWORD'] !== '') return { admin: others, others };
  let admin = demoPassword({ ...options, file: 'demo-admin-password' });
  if (admin === others) {
    // Only if someone copied one file over the other: the point is that they differ.
    rmSync(join(resolve(options.dir ?? '.local'), 'demo-admin-password'), { force: true });
    admin = demoPassword({ ...options, file: 'demo-admin-password' });
  }
  return { admin, others };
}

/**
 * The demo users' password: `DEMO_PASSWORD` when set, else one generated on first use
 * and kept in `.local/demo-password` (mode 0600), so every `npm start` prints the same
 * one. Two starts racing agree on one password (create-once via link, then re-read).
 */
export function demoPassword(options: DemoPasswordOptions = {}): string {
  const env = options.env ?? process.env;
  const fromEnv = env['DEMO_PASSWORD'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const chars = [...fromEnv].length;
    if (chars < PASSWORD_MIN_CHARS || chars > PASSWORD_MAX_CHARS) {
      throw new Error(`DEMO_PASSWORD must be ${PASSWORD_MIN_CHARS} to ${PASSWORD_MAX_CHARS} characters`);
    }
    return fromEnv;
  }
  const dir = resolve(options.dir ?? '.local');
  const path = join(dir, options.file ?? 'demo-password');
  const read = (): string | undefined => {
    try {
      const text = readFileSync(path, 'utf8').trim();
      return text.length >= PASSWORD_MIN_CHARS ? text : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const existing = read();
  if (existing) return existing;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomInt(1e9)}.tmp`;
  writeFileSync(tmp, `${generateReadablePassword()}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  const stored = read();
  if (!stored) throw new Error(`${path} does not hold a usable password; delete it to generate a new one`);
  return stored;
}
