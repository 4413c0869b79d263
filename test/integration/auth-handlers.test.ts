import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createLocalJWKSet, jwtVerify } from 'jose';

/**
 * The identity functions end to end at handler level: synthetic HTTP API v2 events
 * against the real Redis Cluster. Modules are loaded after the environment points at
 * the test cluster and a private key folder.
 */
type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
type Modules = {
  token: Handler;
  usersCreate: Handler;
  jwks: Handler;
  auth: typeof import('../../functions/lib/auth');
  redis: typeof import('../../functions/lib/redis');
  users: typeof import('../../shared/auth/users');
  tokens: typeof import('../../shared/auth/tokens');
  userKeys: typeof import('../../shared/auth/user-keys');
};

const keyDir = mkdtempSync(join(tmpdir(), 'qv-auth-handlers-'));
const issuer = `qv-test-${randomUUID().slice(0, 8)}`;
// The handlers hash at the production scrypt cost (~0.4 s each, one at a time per
// process): a few logins and user creations take seconds on a busy 2-core machine.
jest.setTimeout(60_000);

const saved = { ...process.env };
let m: Modules;
const created: string[] = [];

beforeAll(() => {
  process.env['REDIS_SEEDS'] = process.env['TEST_REDIS_SEEDS'];
  // Logins hash at the real cost (~0.4 s, seconds on a loaded machine): no 5 s deadline 503s.
  process.env['REQUEST_DEADLINE_MS'] = '30000';
  process.env['JWT_KEY_DIR'] = keyDir;
  process.env['JWT_ISSUER'] = issuer;
  process.env['JWT_TTL_S'] = '900';
  delete process.env['JWT_PRIVATE_JWK'];
  delete process.env['JWKS_URL'];
  // What `npm start` does before any function runs.
  require('../../shared/auth/keys').ensureKeyPair({ keyDir, env: {} });
  jest.isolateModules(() => {
    m = {
      token: require('../../functions/auth-token').handler,
      usersCreate: require('../../functions/users-create').handler,
      jwks: require('../../functions/jwks').handler,
      auth: require('../../functions/lib/auth'),
      redis: require('../../functions/lib/redis'),
      users: require('../../shared/auth/users'),
      tokens: require('../../shared/auth/tokens'),
      userKeys: require('../../shared/auth/user-keys'),
    };
  });
});

afterAll(async () => {
  await Promise.all(created.map((u) => m.redis.redis().del(m.userKeys.userKeys.record(u))));
  await m.redis.redis().quit();
  rmSync(keyDir, { recursive: true, force: true });
  process.env = saved;
});

function event(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: 'offline',
      apiId: 'offline',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: randomUUID(),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies ad hoc
  body: any;
  headers: Record<string, unknown>;
}

async function call(h: Handler, ev: APIGatewayProxyEventV2): Promise<Reply> {
  const res = await h(ev);
  return {
    status: res.statusCode ?? 0,
    body: res.body ? JSON.parse(res.body) : undefined,
    headers: res.headers ?? {},
  };
}

const name = (prefix: string): string => {
  const n = `${prefix}-${randomUUID().slice(0, 12)}`;
  created.push(n);
  return n;
};

// Fixture users get a cheap scrypt cost (the hash carries it), so logins in tests stay fast.
async function userWithToken(role: 'voter' | 'admin' | 'auditor') {
  const username = name(role);
  const password = `pw-${randomUUID()}`;
  const user = await new m.users.UserStore(m.redis.redis(), { scrypt: { N: 1024, r: 8, p: 1 } }).create({
    username,
    password,
    role,
  });
  const res = await call(m.token, event('POST', '/auth/token', { username, password }));
  expect(res.status).toBe(200);
  return { user, username, password, token: res.body.token as string };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('POST /auth/token', () => {
  it('returns a token for the right password, verifiable with the published JWKS', async () => {
    const { user, username, token } = await userWithToken('voter');
    const res = await call(m.token, event('POST', '/auth/token', { username, password: 'irrelevant' }));
    expect(res.status).toBe(401);

    const login = await userWithToken('auditor');
    const body = (
      await call(
        m.token,
        event('POST', '/auth/token', { username: login.username, password: login.password }),
      )
    ).body;
    expect(body).toEqual({
      token: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
      role: 'auditor',
      sub: login.user.id,
      username: login.username,
    });

    const jwks = await call(m.jwks, event('GET', '/.well-known/jwks.json'));
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toEqual([
      expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' }),
    ]);
    expect(jwks.body.keys[0]).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.body), {
      issuer,
      audience: 'quorumvote',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: jwks.body.keys[0].kid });
    expect(payload).toMatchObject({ sub: user.id, role: 'voter', username });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('answers 401 invalid_credentials for a wrong password or an unknown user', async () => {
    const { username } = await userWithToken('voter');
    for (const body of [
      { username, password: 'wrong-password' },
      { username: `nobody-${randomUUID()}`, password: 'whatever-password' },
      { username: 'x', password: 'y' },
    ]) {
      const res = await call(m.token, event('POST', '/auth/token', body));
      expect(res).toMatchObject({ status: 401, body: { error: { code: 'invalid_credentials' } } });
    }
  });

  it.each([
    undefined,
    '{not json',
    [],
    { username: 'alice' },
    { username: 1, password: 'x' },
    { password: 'x' },
  ])('answers 400 invalid_request for the malformed body %p', async (body) => {
    const res = await call(m.token, event('POST', '/auth/token', body));
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });
});

describe('POST /users', () => {
  it('lets an admin create users (201), then 409 user_exists for the same name', async () => {
    const admin = await userWithToken('admin');
    const username = name('new');
    const input = { username, password: 'new-user-password', role: 'voter' };
    const res = await call(m.usersCreate, event('POST', '/users', input, bearer(admin.token)));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^usr_[a-z2-7]{16}$/),
      username,
      role: 'voter',
      createdAt: expect.any(String),
    });
    expect(res.body).not.toHaveProperty('passwordHash');
    const again = await call(
      m.usersCreate,
      event('POST', '/users', { ...input, role: 'admin' }, bearer(admin.token)),
    );
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'user_exists' } } });

    const login = await call(
      m.token,
      event('POST', '/auth/token', { username, password: 'new-user-password' }),
    );
    expect(login.body).toMatchObject({ sub: res.body.id, role: 'voter' });
  });

  it('answers 400 invalid_request for bad input, naming the field', async () => {
    const admin = await userWithToken('admin');
    const cases: [unknown, string][] = [
      [{ username: 'ab', password: 'long-enough-pw', role: 'voter' }, 'username'],
      [{ username: name('x'), password: 'short', role: 'voter' }, 'password'],
      [{ username: name('x'), password: 'long-enough-pw', role: 'owner' }, 'role'],
    ];
    for (const [body, field] of cases) {
      const res = await call(m.usersCreate, event('POST', '/users', body, bearer(admin.token)));
      expect(res).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request', details: { field } } },
      });
    }
  });

  it('needs a valid token (401) with the admin role (403)', async () => {
    const input = { username: name('blocked'), password: 'long-enough-pw', role: 'admin' };
    const noToken = await call(m.usersCreate, event('POST', '/users', input));
    expect(noToken).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(noToken.headers['WWW-Authenticate']).toMatch(/^Bearer /);
    for (const role of ['voter', 'auditor'] as const) {
      const { token } = await userWithToken(role);
      const res = await call(m.usersCreate, event('POST', '/users', input, bearer(token)));
      expect(res).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    }
    expect(await m.redis.redis().exists(m.userKeys.userKeys.record(input.username))).toBe(0);
  });
});

describe('authenticate / requireRole', () => {
  const req = (headers: Record<string, string>) =>
    ({
      requestId: 'r',
      method: 'GET',
      path: '/',
      headers,
      query: {},
      params: {},
      body: undefined,
      sourceIp: '',
    }) as const;
  const mint = (claims: Record<string, unknown>, options: Record<string, unknown> = {}) =>
    m.tokens.mintToken(
      { sub: 'usr_test', role: 'voter', ...claims },
      { keyDir, issuer, audience: 'quorumvote', ...options },
    );

  async function status(headers: Record<string, string>, ...roles: ('voter' | 'admin' | 'auditor')[]) {
    try {
      await (roles.length ? m.auth.requireRole(req(headers), ...roles) : m.auth.authenticate(req(headers)));
      return 200;
    } catch (err) {
      return (err as { status: number; code: string }).status;
    }
  }

  it('returns typed claims for a good token', async () => {
    const token = await mint({ role: 'auditor' });
    await expect(m.auth.authenticate(req(bearer(token)))).resolves.toMatchObject({
      sub: 'usr_test',
      role: 'auditor',
      iss: issuer,
    });
    await expect(
      m.auth.requireRole(req({ authorization: `bearer  ${token}` }), 'admin', 'auditor'),
    ).resolves.toMatchObject({
      role: 'auditor',
    });
  });

  it('answers 401 for missing, malformed, forged, alg-none, wrong iss/aud and expired tokens', async () => {
    const good = await mint({});
    const [h, p] = good.split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    const otherKeyDir = mkdtempSync(join(tmpdir(), 'qv-auth-other-'));
    try {
      const cases: Record<string, string>[] = [
        {},
        { authorization: '' },
        { authorization: good },
        { authorization: `Basic ${good}` },
        { authorization: 'Bearer not-a-jwt' },
        bearer(`${h}.${p}.${'A'.repeat(86)}`),
        bearer(none),
        bearer(await mint({}, { keyDir: otherKeyDir })),
        bearer(await mint({}, { issuer: 'evil' })),
        bearer(await mint({}, { audience: 'other' })),
        bearer(await mint({}, { exp: Math.floor(Date.now() / 1000) - 5 })),
        bearer(await mint({ role: 'root' })),
      ];
      for (const headers of cases)
        expect([JSON.stringify(headers).slice(0, 40), await status(headers)]).toEqual([
          JSON.stringify(headers).slice(0, 40),
          401,
        ]);
    } finally {
      rmSync(otherKeyDir, { recursive: true, force: true });
    }
  });

  it('answers 403 for a valid token with the wrong role', async () => {
    expect(await status(bearer(await mint({ role: 'voter' })), 'admin')).toBe(403);
    expect(await status(bearer(await mint({ role: 'admin' })), 'voter')).toBe(403);
    expect(await status(bearer(await mint({ role: 'admin' })), 'admin')).toBe(200);
  });
});
