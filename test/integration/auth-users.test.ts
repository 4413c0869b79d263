import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { parsePasswordHash, scryptRunsByCost } from '../../shared/auth/passwords';
import { userKeys } from '../../shared/auth/user-keys';
import { indexExistingUsers, listUsers } from '../../shared/auth/user-directory';
import { UserStore } from '../../shared/auth/users';
import { ManualClock } from '../../shared/clock';
import { parseSeeds } from '../../shared/config';
import { ApiError } from '../../shared/errors';
import { createRedisCluster } from '../../shared/redis/client';
import {
  DEMO_USERS,
  demoPassword,
  demoPasswords,
  generateReadablePassword,
  seedDemoUsers,
} from '../../local/seed-users';

const scrypt = { N: 1024, r: 8, p: 1 };
let redis: Cluster;
let store: UserStore;
const clock = new ManualClock(Date.UTC(2030, 5, 1, 12));
const usernames: string[] = [];
const uniqueName = (prefix = 'u'): string => {
  const name = `${prefix}-${randomUUID().slice(0, 12)}`;
  usernames.push(name);
  return name;
};

beforeAll(() => {
  redis = createRedisCluster(parseSeeds(process.env['TEST_REDIS_SEEDS']!));
  store = new UserStore(redis, { clock, scrypt });
});
afterAll(async () => {
  await Promise.all(usernames.map((u) => redis.del(userKeys.record(u))));
  await redis.quit();
});

describe('UserStore (Redis Cluster)', () => {
  it('creates a user as one hash in its own slot, never storing the password', async () => {
    const username = uniqueName('Alice');
    const user = await store.create({ username, password: 'secret-password', role: 'voter' });
    expect(user).toEqual({
      id: expect.stringMatching(/^usr_[a-z2-7]{16}$/),
      username,
      role: 'voter',
      createdAt: '2030-06-01T12:00:00.000Z',
    });
    const stored = await redis.hgetall(userKeys.record(username));
    expect(stored).toEqual({
      id: user.id,
      username,
      role: 'voter',
      createdAt: '2030-06-01T12:00:00.000Z',
      passwordHash: expect.stringMatching(/^scrypt\$1024\$8\$1\$/),
    });
    expect(JSON.stringify(stored)).not.toContain('secret-password');
    expect(parsePasswordHash(stored['passwordHash']!)).toBeDefined();
    await expect(store.get(username.toUpperCase())).resolves.toEqual(user);
  });

  it('answers 409 user_exists for a taken name, in any case, and keeps the first user', async () => {
    const username = uniqueName();
    const first = await store.create({ username, password: 'first-password', role: 'admin' });
    for (const name of [username, username.toUpperCase()]) {
      await expect(
        store.create({ username: name, password: 'second-password', role: 'voter' }),
      ).rejects.toMatchObject({
        status: 409,
        code: 'user_exists',
      });
    }
    await expect(store.verifyCredentials(username, 'first-password')).resolves.toMatchObject({
      id: first.id,
      role: 'admin',
    });
    await expect(store.verifyCredentials(username, 'second-password')).resolves.toBeNull();
  });

  it('lets exactly one of many concurrent creates win', async () => {
    const username = uniqueName();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.create({ username, password: `password-${i}`, role: 'voter' }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 409, code: 'user_exists' });
    }
    const winner = (won[0] as PromiseFulfilledResult<{ id: string }>).value;
    await expect(store.get(username)).resolves.toMatchObject({ id: winner.id });
  });

  it('validates input with 400 invalid_request', async () => {
    await expect(
      store.create({ username: 'no', password: 'long-enough', role: 'voter' }),
    ).rejects.toBeInstanceOf(ApiError);
    await expect(
      store.create({ username: uniqueName(), password: 'short', role: 'voter' }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    await expect(
      store.create({ username: uniqueName(), password: 'long-enough', role: 'superuser' as never }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('role') });
  });

  it('verifies credentials: right password → user, anything else → null', async () => {
    const username = uniqueName();
    const user = await store.create({ username, password: 'p@ssw0rd-long', role: 'auditor' });
    await expect(store.verifyCredentials(username, 'p@ssw0rd-long')).resolves.toEqual(user);
    await expect(store.verifyCredentials(username.toUpperCase(), 'p@ssw0rd-long')).resolves.toEqual(user);
    await expect(store.verifyCredentials(username, 'P@ssw0rd-long')).resolves.toBeNull();
    await expect(store.verifyCredentials(username, '')).resolves.toBeNull();
    await expect(store.verifyCredentials(username, 'x'.repeat(5000))).resolves.toBeNull();
    await expect(store.verifyCredentials(`nobody-${randomUUID()}`, 'p@ssw0rd-long')).resolves.toBeNull();
    await expect(store.verifyCredentials('bad name!', 'p@ssw0rd-long')).resolves.toBeNull();
  });

  it('runs the same scrypt for unknown, malformed and over-long logins as for a wrong password', async () => {
    // Counted, not timed (a timing sample on a shared 2-core machine proves nothing):
    // every failing path must run exactly the scrypt a known user's check runs, at the
    // same cost, or response time reveals which names exist.
    const username = uniqueName();
    await store.create({ username, password: 'p@ssw0rd-long', role: 'voter' });
    await store.verifyCredentials(`warm-${randomUUID()}`, 'x-password'); // builds the dummy hash
    const runsDuring = async (name: string, password: string) => {
      const before = scryptRunsByCost();
      await expect(store.verifyCredentials(name, password)).resolves.toBeNull();
      const after = scryptRunsByCost();
      const diff: Record<string, number> = {};
      for (const [cost, n] of Object.entries(after)) {
        if (n !== (before[cost] ?? 0)) diff[cost] = n - (before[cost] ?? 0);
      }
      return diff;
    };
    const known = await runsDuring(username, 'wrong-password');
    expect(known).toEqual({ [`${scrypt.N}/${scrypt.r}/${scrypt.p}`]: 1 });
    expect(await runsDuring(`nobody-${randomUUID()}`, 'wrong-password')).toEqual(known);
    expect(await runsDuring('bad name!', 'wrong-password')).toEqual(known);
    expect(await runsDuring(username, 'x'.repeat(5000))).toEqual(known);
  });

  it('resets a password for an existing user only', async () => {
    const username = uniqueName();
    const user = await store.create({ username, password: 'old-password', role: 'voter' });
    clock.advance(1000);
    await expect(store.setPassword(username, 'new-password')).resolves.toBe(true);
    await expect(store.verifyCredentials(username, 'old-password')).resolves.toBeNull();
    await expect(store.verifyCredentials(username, 'new-password')).resolves.toEqual(user);
    expect(await redis.hget(userKeys.record(username), 'updatedAt')).toBe('2030-06-01T12:00:01.000Z');
    await expect(store.setPassword(username, 'short')).rejects.toMatchObject({ status: 400 });
    await expect(store.setPassword(`nobody-${randomUUID()}`, 'new-password')).resolves.toBe(false);
  });

  it('fails loudly on a corrupt record instead of logging someone in', async () => {
    const username = uniqueName();
    await redis.hset(userKeys.record(username), { username, role: 'admin' });
    await expect(store.verifyCredentials(username, 'whatever-password')).rejects.toThrow(
      /Corrupt user record/,
    );
  });
});

describe('seedDemoUsers', () => {
  it('seeds the users API.md promises by default', () => {
    expect(DEMO_USERS.map((u) => [u.username, u.role])).toEqual([
      ['admin', 'admin'],
      ['auditor', 'auditor'],
      ['alice', 'voter'],
      ['bob', 'voter'],
      ['carol', 'voter'],
    ]);
  });

  it('creates the users once, keeps them, and resets a changed password', async () => {
    const users = [
      { username: uniqueName('admin'), role: 'admin' as const },
      { username: uniqueName('alice'), role: 'voter' as const },
    ];
    const seeded = await seedDemoUsers(redis, 'demo-password-1', { users, scrypt });
    expect(Object.keys(seeded)).toEqual(users.map((u) => u.username));
    const first = Object.values(seeded);
    expect(first.map((u) => [u.username, u.role, u.status])).toEqual([
      [users[0]!.username, 'admin', 'created'],
      [users[1]!.username, 'voter', 'created'],
    ]);
    const again = Object.values(await seedDemoUsers(redis, 'demo-password-1', { users, scrypt }));
    expect(again.map((u) => [u.id, u.status])).toEqual(first.map((u) => [u.id, 'kept']));
    const reset = Object.values(await seedDemoUsers(redis, 'demo-password-2', { users, scrypt }));
    expect(reset.map((u) => [u.id, u.status])).toEqual(first.map((u) => [u.id, 'password_reset']));
    await expect(store.verifyCredentials(users[1]!.username, 'demo-password-2')).resolves.toMatchObject({
      id: first[1]!.id,
    });
    await expect(store.verifyCredentials(users[1]!.username, 'demo-password-1')).resolves.toBeNull();
  });

  it('is safe when two starts seed at once', async () => {
    const users = [{ username: uniqueName('carol'), role: 'voter' as const }];
    const [a, b] = await Promise.all([
      seedDemoUsers(redis, 'same-password', { users, scrypt }),
      seedDemoUsers(redis, 'same-password', { users, scrypt }),
    ]);
    const name = users[0]!.username;
    expect(a[name]!.id).toBe(b[name]!.id);
    expect([a[name]!.status, b[name]!.status].sort()).toEqual(['created', 'kept']);
  });
});

describe('demoPassword', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qv-demo-password-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses DEMO_PASSWORD when set, and checks it', () => {
    expect(demoPassword({ env: { DEMO_PASSWORD: 'from-the-env' }, dir })).toBe('from-the-env');
    expect(() => demoPassword({ env: { DEMO_PASSWORD: 'short' }, dir })).toThrow(/8 to 256/);
  });

  it('generates a readable password once and persists it (0600)', () => {
    const first = demoPassword({ env: {}, dir });
    expect(first).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(demoPassword({ env: {}, dir })).toBe(first);
    const path = join(dir, 'demo-password');
    expect(readFileSync(path, 'utf8').trim()).toBe(first);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt password file', () => {
    const other = mkdtempSync(join(tmpdir(), 'qv-demo-password-bad-'));
    try {
      writeFileSync(join(other, 'demo-password'), 'x\n');
      expect(() => demoPassword({ env: {}, dir: other })).toThrow(/does not hold a usable password/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('generates distinct passwords', () => {
    expect(new Set(Array.from({ length: 50 }, generateReadablePassword)).size).toBe(50);
  });
});

describe('demo passwords: the admin has its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qv-demo-passwords-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('without DEMO_PASSWORD, the admin gets a generated password that differs from the voters', async () => {
    const passwords = demoPasswords({ env: {}, dir });
    expect(passwords.admin).not.toBe(passwords.others);
    expect(passwords.admin).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(statSync(join(dir, 'demo-admin-password')).mode & 0o777).toBe(0o600);
    expect(demoPasswords({ env: {}, dir })).toEqual(passwords); // the same on every start

    const users = [
      { username: uniqueName('admin'), role: 'admin' as const },
      { username: uniqueName('auditor'), role: 'auditor' as const },
      { username: uniqueName('alice'), role: 'voter' as const },
    ];
    await seedDemoUsers(redis, passwords, { users, scrypt });
    const [admin, auditor, voter] = users.map((u) => u.username) as [string, string, string];
    await expect(store.verifyCredentials(admin, passwords.admin)).resolves.toMatchObject({ role: 'admin' });
    await expect(store.verifyCredentials(admin, passwords.others)).resolves.toBeNull();
    await expect(store.verifyCredentials(voter, passwords.others)).resolves.toMatchObject({ role: 'voter' });
    await expect(store.verifyCredentials(voter, passwords.admin)).resolves.toBeNull();
    await expect(store.verifyCredentials(auditor, passwords.others)).resolves.toMatchObject({
      role: 'auditor',
    });
  });

  it("DEMO_PASSWORD, when set, is everybody's password", async () => {
    const passwords = demoPasswords({ env: { DEMO_PASSWORD: 'one-for-all-123' }, dir });
    expect(passwords).toEqual({ admin: 'one-for-all-123', others: 'one-for-all-123' });
    const users = [
      { username: uniqueName('admin'), role: 'admin' as const },
      { username: uniqueName('bob'), role: 'voter' as const },
    ];
    await seedDemoUsers(redis, passwords, { users, scrypt });
    for (const u of users) {
      await expect(store.verifyCredentials(u.username, 'one-for-all-123')).resolves.toMatchObject({
        role: u.role,
      });
    }
  });
});

describe('the user directory behind GET /users', () => {
  test('users made before the directory existed are indexed by indexExistingUsers (run at coordinator start), never by a read', async () => {
    const name = uniqueName('pre-index');
    await store.create({ username: name, password: 'correct-horse-9', role: 'voter' });
    // As an older version left it: the record without its directory entry.
    await redis.zrem(userKeys.index, name);
    await redis.del(userKeys.indexed);
    expect((await listUsers(redis, { q: name, limit: 5 })).users).toEqual([]);
    expect(await redis.get(userKeys.indexed)).toBeNull(); // the read wrote nothing
    await indexExistingUsers(redis);
    expect((await listUsers(redis, { q: name, limit: 5 })).users).toEqual([
      expect.objectContaining({ username: name, role: 'voter', disabled: false }),
    ]);
    expect(await redis.get(userKeys.indexed)).toBe('1');
  });
});
