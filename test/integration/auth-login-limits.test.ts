import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Handler, httpEvent, invoke } from '../helpers/lambda-events';

/**
 * `POST /auth/token` under attack, at handler level against the real Redis Cluster:
 * per-user and per-address back-off (429 + Retry-After, doubling), a success resets
 * the user's back-off, a bounded number of concurrent scrypt runs (503 beyond), and
 * stored hashes upgraded to the OWASP cost on login.
 */
type Modules = {
  token: Handler;
  redis: typeof import('../../functions/lib/redis');
  users: typeof import('../../shared/auth/users');
  userKeys: typeof import('../../shared/auth/user-keys');
  passwords: typeof import('../../shared/auth/passwords');
};

const keyDir = mkdtempSync(join(tmpdir(), 'qv-login-limits-'));
const saved = { ...process.env };
let m: Modules;
const created: string[] = [];
const closers: (() => void)[] = [];
// Logins hash at the production scrypt cost (~0.4 s at N=2^17; seconds each on a busy
// 2-core machine) one at a time: a test of a few logins needs more than the 15 s default.
// A test cut off mid-hash would also leave the one hash slot taken and turn the next
// test's logins into 503s.
jest.setTimeout(60_000);

beforeAll(() => {
  process.env['REDIS_SEEDS'] = process.env['TEST_REDIS_SEEDS'];
  // Logins hash at the real cost (~0.4 s, seconds on a loaded machine): no 5 s deadline 503s.
  process.env['REQUEST_DEADLINE_MS'] = '30000';
  process.env['JWT_KEY_DIR'] = keyDir;
  delete process.env['JWT_PRIVATE_JWK'];
  delete process.env['JWKS_URL'];
  // A lower per-address budget than the default 20 keeps this test short; the per-user
  // rule is the default (5 attempts, then 1 s, 2 s, 4 s...).
  process.env['LOGIN_ADDRESS_FREE'] = '8';
  // One hash at a time and nobody waiting: the bound is easy to see.
  process.env['LOGIN_HASH_CONCURRENCY'] = '1';
  process.env['LOGIN_HASH_QUEUE'] = '0';
  require('../../shared/auth/keys').ensureKeyPair({ keyDir, env: {} });
  jest.isolateModules(() => {
    m = {
      token: require('../../functions/auth-token').handler,
      redis: require('../../functions/lib/redis'),
      users: require('../../shared/auth/users'),
      userKeys: require('../../shared/auth/user-keys'),
      passwords: require('../../shared/auth/passwords'),
    };
  });
});

afterAll(async () => {
  await Promise.all(created.map((u) => m.redis.redis().del(m.userKeys.userKeys.record(u))));
  await m.redis.redis().quit();
  for (const close of closers) close();
  rmSync(keyDir, { recursive: true, force: true });
  process.env = saved;
});

/** A fresh client address per test, so tests never share an address budget. */
let ipSeq = 0;
const address = (): string => `198.51.100.${++ipSeq}`;

async function newUser(): Promise<{ username: string; password: string; id: string }> {
  const username = `lim-${randomUUID().slice(0, 12)}`;
  const password = `pw-${randomUUID()}`;
  created.push(username);
  // A cheap stored hash keeps wrong guesses fast; the first good login upgrades it.
  const user = await new m.users.UserStore(m.redis.redis(), { scrypt: { N: 1024, r: 8, p: 1 } }).create({
    username,
    password,
    role: 'voter',
  });
  return { username, password, id: user.id };
}

const login = (username: string, password: string, sourceIp: string) =>
  invoke(m.token, httpEvent('POST', '/auth/token', { body: { username, password }, sourceIp }));

describe('POST /auth/token: login back-off', () => {
  it('answers the 6th wrong password for a user with 429 + Retry-After, doubling; other users are unaffected', async () => {
    const victim = await newUser();
    const bystander = await newUser();
    const ip = address();
    for (let i = 1; i <= 5; i++) {
      const r = await login(victim.username, 'wrong-password', ip);
      expect({ attempt: i, status: r.status }).toEqual({ attempt: i, status: 401 });
    }
    const sixth = await login(victim.username, 'wrong-password', ip);
    expect(sixth).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(sixth.headers['Retry-After']).toBe('1');
    // Even the right password waits: the back-off is about the account, not the guess.
    expect((await login(victim.username, victim.password, ip)).status).toBe(429);
    // Another user, from the same address, logs in at once.
    expect((await login(bystander.username, bystander.password, ip)).status).toBe(200);

    await new Promise((r) => setTimeout(r, 1100));
    expect((await login(victim.username, 'wrong-password', ip)).status).toBe(401);
    const next = await login(victim.username, 'wrong-password', ip);
    expect(next.status).toBe(429);
    expect(next.headers['Retry-After']).toBe('2'); // doubled
  });

  it('the back-off starts when a slow password check ends, not when it was admitted', async () => {
    // A first back-off (100 ms) shorter than one check at the real cost (~0.4 s or more).
    let quick: Handler | undefined;
    let quickRedis: typeof import('../../functions/lib/redis') | undefined;
    process.env['LOGIN_USER_BACKOFF_MS'] = '100';
    jest.isolateModules(() => {
      quick = require('../../functions/auth-token').handler;
      quickRedis = require('../../functions/lib/redis');
    });
    closers.push(() => quickRedis!.redis().disconnect());
    delete process.env['LOGIN_USER_BACKOFF_MS'];
    const username = `lim-${randomUUID().slice(0, 12)}`;
    created.push(username);
    await new m.users.UserStore(m.redis.redis()).create({
      username,
      password: 'right-password',
      role: 'voter',
    });
    const ip = address();
    const attempt = () =>
      invoke(
        quick!,
        httpEvent('POST', '/auth/token', { body: { username, password: 'wrong' }, sourceIp: ip }),
      );
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(401);
    const sixth = await attempt();
    expect(sixth).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(sixth.headers['Retry-After']).toBe('1');
  });

  it('a successful login resets the user back-off', async () => {
    const u = await newUser();
    const ip = address();
    for (let i = 0; i < 4; i++) expect((await login(u.username, 'wrong-password', ip)).status).toBe(401);
    expect((await login(u.username, u.password, ip)).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      const r = await login(u.username, 'wrong-password', ip);
      expect({ after: i, status: r.status }).toEqual({ after: i, status: 401 });
    }
  });

  it('backs off an address that sprays many users, and only that address', async () => {
    const ip = address();
    const users = await Promise.all(Array.from({ length: 9 }, () => newUser()));
    for (const u of users.slice(0, 8))
      expect((await login(u.username, 'wrong-password', ip)).status).toBe(401);
    const over = await login(users[8]!.username, users[8]!.password, ip);
    expect(over).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(over.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect((await login(users[8]!.username, users[8]!.password, address())).status).toBe(200);
  });

  it('refuses (503 + Retry-After) logins beyond the concurrent-hash bound instead of queueing them', async () => {
    const us = await Promise.all(Array.from({ length: 4 }, () => newUser()));
    // The first good login also rehashes at the OWASP cost: each holds its slot ~0.4 s.
    const replies = await Promise.all(us.map((u) => login(u.username, u.password, address())));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    for (const r of replies.filter((x) => x.status === 503)) {
      expect(r.body.error.code).toBe('unavailable');
      expect(r.headers['Retry-After']).toBe('1');
    }
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
  });

  it('upgrades a stored hash to the OWASP cost (N=2^17, r=8, p=1) on a successful login', async () => {
    expect(m.passwords.DEFAULT_SCRYPT_PARAMS).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    const u = await newUser();
    const key = m.userKeys.userKeys.record(u.username);
    expect(await m.redis.redis().hget(key, 'passwordHash')).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect((await login(u.username, u.password, address())).status).toBe(200);
    const upgraded = await m.redis.redis().hget(key, 'passwordHash');
    expect(upgraded).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect((await login(u.username, u.password, address())).status).toBe(200);
    expect(await m.redis.redis().hget(key, 'passwordHash')).toBe(upgraded); // once
  });
});
