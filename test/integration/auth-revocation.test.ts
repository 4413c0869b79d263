import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { systemClock } from '../../shared/clock';
import { parseSeeds } from '../../shared/config';
import { RevocationList } from '../../shared/auth/revocations';
import { ConnectionRegistry } from '../../shared/realtime/registry';
import { WsSession } from '../../shared/realtime/session';
import { parseTopic } from '../../shared/realtime/topics';
import { createRedisCluster } from '../../shared/redis/client';
import { type Handler, httpEvent, invoke } from '../helpers/lambda-events';

/**
 * Tokens can be revoked: ending a user's sessions or disabling the user makes every
 * token issued before refused (401), a disabled user cannot log in, and the user's
 * WebSocket subscriptions stop at once. Subscriptions also end with their token.
 */
type Modules = {
  token: Handler;
  revoke: Handler;
  disable: Handler;
  enable: Handler;
  auth: typeof import('../../functions/lib/auth');
  redis: typeof import('../../functions/lib/redis');
  users: typeof import('../../shared/auth/users');
  userKeys: typeof import('../../shared/auth/user-keys');
  tokens: typeof import('../../shared/auth/tokens');
};

const keyDir = mkdtempSync(join(tmpdir(), 'qv-revocation-'));
const saved = { ...process.env };
const clusterName = `rv${randomUUID().slice(0, 6)}`;
let m: Modules;
let probe: Cluster;
let admin: string;
const created: string[] = [];

beforeAll(async () => {
  process.env['REDIS_SEEDS'] = process.env['TEST_REDIS_SEEDS'];
  // Logins hash at the real cost (~0.4 s, seconds on a loaded machine): no 5 s deadline 503s.
  process.env['REQUEST_DEADLINE_MS'] = '30000';
  process.env['JWT_KEY_DIR'] = keyDir;
  process.env['CLUSTER_NAME'] = clusterName;
  delete process.env['JWT_PRIVATE_JWK'];
  delete process.env['JWKS_URL'];
  require('../../shared/auth/keys').ensureKeyPair({ keyDir, env: {} });
  jest.isolateModules(() => {
    m = {
      token: require('../../functions/auth-token').handler,
      revoke: require('../../functions/users-revoke-sessions').handler,
      disable: require('../../functions/users-disable').handler,
      enable: require('../../functions/users-enable').handler,
      auth: require('../../functions/lib/auth'),
      redis: require('../../functions/lib/redis'),
      users: require('../../shared/auth/users'),
      userKeys: require('../../shared/auth/user-keys'),
      tokens: require('../../shared/auth/tokens'),
    };
  });
  probe = createRedisCluster(parseSeeds(process.env['TEST_REDIS_SEEDS']!));
  admin = await m.tokens.mintToken({ sub: `rv-admin-${randomUUID()}`, role: 'admin' }, { keyDir, ttlS: 600 });
});

afterAll(async () => {
  await Promise.all(created.map((u) => m.redis.redis().del(m.userKeys.userKeys.record(u))));
  await m.redis.redis().quit();
  probe.disconnect();
  rmSync(keyDir, { recursive: true, force: true });
  process.env = saved;
});

let ipSeq = 0;
async function userAndToken(): Promise<{ username: string; password: string; id: string; token: string }> {
  const username = `rv-${randomUUID().slice(0, 12)}`;
  const password = `pw-${randomUUID()}`;
  created.push(username);
  // A cheap stored hash (the first login upgrades it to the current cost).
  const user = await new m.users.UserStore(m.redis.redis(), { scrypt: { N: 1024, r: 8, p: 1 } }).create({
    username,
    password,
    role: 'voter',
  });
  const token = await login(username, password);
  expect(token.status).toBe(200);
  return { username, password, id: user.id, token: token.body.token };
}

const login = (username: string, password: string) =>
  invoke(
    m.token,
    httpEvent('POST', '/auth/token', { body: { username, password }, sourceIp: `203.0.113.${++ipSeq}` }),
  );

const adminCall = (h: Handler, route: string, id: string, token = admin) =>
  invoke(
    h,
    httpEvent('POST', route.replace('{id}', id), {
      headers: { authorization: `Bearer ${token}` },
      params: { id },
    }),
  );

const status = (token: string) =>
  m.auth.authenticateToken(token).then(
    () => 200,
    (e: { status?: number }) => e.status,
  );

describe('token revocation', () => {
  it('POST /users/{id}/revoke-sessions refuses every earlier token (401); a new login works', async () => {
    const u = await userAndToken();
    const second = (await login(u.username, u.password)).body.token as string;
    expect(await status(u.token)).toBe(200);
    const r = await adminCall(m.revoke, '/users/{id}/revoke-sessions', u.id);
    expect(r).toMatchObject({ status: 200, body: { id: u.id, disabled: false, sessionVersion: 1 } });
    expect(await status(u.token)).toBe(401);
    expect(await status(second)).toBe(401);
    const fresh = await login(u.username, u.password);
    expect(fresh.status).toBe(200);
    expect(await status(fresh.body.token)).toBe(200);
    // Any other instance agrees at once.
    expect(await new RevocationList(probe).revoked(u.id, undefined)).toBe(true);
  });

  it('a disabled user cannot log in (403 user_disabled) and their tokens are refused; enable lets them log in again', async () => {
    const u = await userAndToken();
    expect((await adminCall(m.disable, '/users/{id}/disable', u.id)).body).toMatchObject({ disabled: true });
    expect(await status(u.token)).toBe(401);
    const refused = await login(u.username, u.password);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'user_disabled' } } });
    expect((await adminCall(m.enable, '/users/{id}/enable', u.id)).body).toMatchObject({ disabled: false });
    expect(await status(u.token)).toBe(401); // tokens from before the disable stay revoked
    const back = await login(u.username, u.password);
    expect(back.status).toBe(200);
    expect(await status(back.body.token)).toBe(200);
  });

  it('only admins may revoke (403), and the id is checked (400)', async () => {
    const u = await userAndToken();
    expect((await adminCall(m.revoke, '/users/{id}/revoke-sessions', u.id, u.token)).status).toBe(403);
    expect((await adminCall(m.disable, '/users/{id}/disable', u.id, 'nope')).status).toBe(401);
    const bad = await adminCall(m.disable, '/users/{id}/disable', 'x'.repeat(200));
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await status(u.token)).toBe(200); // nothing changed
  });
});

describe('WebSocket subscriptions end with their token', () => {
  const registry = () => new ConnectionRegistry(probe, { connectionTtlMs: 3_600_000, cluster: clusterName });
  const topic = parseTopic('election:elrevoke0001')!;
  const directory = { electionExists: async () => true, voteOwner: async () => null };
  const snapshots = { election: async () => null, vote: async () => null };

  it('a revoked user is dropped from every topic at once, and a later subscribe is refused', async () => {
    const u = await userAndToken();
    const claims = await m.auth.authenticateToken(u.token);
    const reg = registry();
    const conn = await reg.add(`conn-${randomUUID()}`, claims, Date.now());
    await reg.subscribe(conn, topic);
    expect(await reg.subscribers(topic.name, Date.now())).toContain(conn.id);

    expect((await adminCall(m.revoke, '/users/{id}/revoke-sessions', u.id)).body.subscriptionsEnded).toBe(1);
    expect(await reg.subscribers(topic.name, Date.now())).not.toContain(conn.id);

    // The connection itself lives on, but cannot subscribe again.
    expect(await reg.get(conn.id)).toMatchObject({ sub: u.id, topics: [] });
    const session = new WsSession(reg, directory, snapshots, systemClock, new RevocationList(probe));
    const [reply] = await session.handle(conn.id, JSON.stringify({ action: 'subscribe', topic: topic.name }));
    expect(reply).toMatchObject({ type: 'error', code: 'token_revoked' });
    expect(await reg.subscribers(topic.name, Date.now())).not.toContain(conn.id);
    await reg.remove(conn.id, Date.now());
  });

  it('a subscription stops receiving once its token expires, though the connection lives on', async () => {
    const reg = registry();
    const now = Date.now();
    const conn = await reg.add(
      `conn-${randomUUID()}`,
      { sub: 'rv-expiring', role: 'voter', exp: Math.floor(now / 1000) + 2 },
      now,
    );
    await reg.subscribe(conn, topic);
    expect(await reg.subscribers(topic.name, now)).toContain(conn.id);
    const after = (Math.floor(now / 1000) + 2) * 1000 + 1;
    expect(await reg.subscribers(topic.name, after)).not.toContain(conn.id);
    expect(await reg.countSubscribers(topic.name, after)).toBe(0);
    await reg.remove(conn.id, Date.now());
  });
});
