import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { ensureKeyPair } from '../../shared/auth/keys';
import { loadOidcConfig, type OidcConfig } from '../../shared/auth/oidc/config';
import { externalUserId } from '../../shared/auth/oidc/subject';
import {
  InvalidTokenError,
  KeySourceUnavailableError,
  mintToken,
  TokenVerifier,
} from '../../shared/auth/tokens';
import { parseSettings } from '../../shared/settings/load';

/**
 * The external-issuer path of TokenVerifier against a small issuer served over HTTP
 * (discovery document + JWKS) with keys of every accepted algorithm. The real provider
 * (oidc-provider, with logins) is in test/e2e/oidc-login.test.ts; this one covers the
 * algorithm table, discovery rules and key rotation exactly.
 */
type Alg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';
interface TestKey {
  kid: string;
  alg: Alg;
  privateKey: KeyObject;
}

function newKey(kid: string, alg: Alg): TestKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg, privateKey: pair.privateKey };
}

const localKeys = mkdtempSync(join(tmpdir(), 'qv-oidc-unit-'));
ensureKeyPair({ keyDir: localKeys, env: {} });

let server: Server;
let issuer: string;
let published: TestKey[] = [];
let discoveryIssuer: string | undefined;
let fetches = { discovery: 0, jwks: 0 };

beforeAll(async () => {
  server = createServer(async (req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      fetches.discovery++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: discoveryIssuer ?? issuer, jwks_uri: `${issuer}/jwks` }));
      return;
    }
    if (req.url === '/jwks') {
      fetches.jwks++;
      const keys = await Promise.all(
        published.map(async (k) => ({
          ...(await exportJWK(createPublicKey(k.privateKey))),
          kid: k.kid,
          alg: k.alg,
          use: 'sig',
        })),
      );
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(localKeys, { recursive: true, force: true });
});
beforeEach(() => {
  published = [];
  discoveryIssuer = undefined;
  fetches = { discovery: 0, jwks: 0 };
});

function oidcConfig(extra: Record<string, string> = {}): OidcConfig {
  return loadOidcConfig(
    parseSettings({
      OIDC_ISSUER: issuer,
      OIDC_AUDIENCE: 'qv-api',
      OIDC_ROLE_CLAIM: 'groups',
      OIDC_ROLE_MAP: 'vote-admins=admin,voters=voter',
      OIDC_CLOCK_TOLERANCE_S: '0',
      // The machine may be busy with other suites: a slow answer is not what is tested here.
      OIDC_HTTP_TIMEOUT_MS: '10000',
      ...extra,
    }),
  )!;
}

function verifierFor(config: OidcConfig): TokenVerifier {
  return new TokenVerifier({
    issuer: 'qv-local',
    audience: 'quorumvote',
    keyDir: localKeys,
    oidc: config,
    verifiedCacheMs: 0,
  });
}

const now = () => Math.floor(Date.now() / 1000);
function sign(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({
    iss: issuer,
    aud: 'qv-api',
    sub: 'user-1',
    iat: now(),
    exp: now() + 300,
    groups: ['voters'],
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

async function refusal(v: TokenVerifier, token: string): Promise<Error> {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err).toBeDefined();
  return err!;
}

describe('tokens of an external OpenID Connect issuer', () => {
  it.each(['RS256', 'PS256', 'ES256', 'EdDSA'] as const)(
    'accepts %s, mapping (iss, sub) to one user id and a role',
    async (alg) => {
      const key = newKey(`k-${alg}`, alg);
      published = [key];
      const v = verifierFor(oidcConfig());
      const claims = await v.verify(await sign(key, { preferred_username: 'alice' }));
      expect(claims).toMatchObject({
        sub: externalUserId(issuer, 'user-1'),
        externalSub: 'user-1',
        role: 'voter',
        username: 'alice',
        iss: issuer,
      });
      expect(claims.sub).toMatch(/^oidc_[a-z2-7]{32}$/);
    },
  );

  it('refuses HS256 (even keyed with a published key) and alg "none"', async () => {
    const key = newKey('k1', 'ES256');
    published = [key];
    const v = verifierFor(oidcConfig());
    const hs = await new SignJWT({ iss: issuer, aud: 'qv-api', sub: 'u', iat: now(), exp: now() + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode('a shared secret of at least 32 bytes!!'));
    expect(await refusal(v, hs)).toMatchObject({ reason: 'alg_not_allowed' });
    const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64({ iss: issuer, aud: 'qv-api', sub: 'u', iat: now(), exp: now() + 60 })}.`;
    expect(await refusal(v, none)).toBeInstanceOf(InvalidTokenError);
    // An HMAC over the header and payload with anything public as the secret changes nothing.
    const forged = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64({ iss: issuer, aud: 'qv-api', sub: 'u', iat: now(), exp: now() + 60 })}`;
    const mac = createHmac('sha256', 'x').update(forged).digest('base64url');
    expect(await refusal(v, `${forged}.${mac}`)).toMatchObject({ reason: 'alg_not_allowed' });
  });

  it('refuses an algorithm left out of OIDC_ALGORITHMS', async () => {
    const key = newKey('k-rs', 'RS256');
    published = [key];
    const v = verifierFor(oidcConfig({ OIDC_ALGORITHMS: 'ES256' }));
    expect(await refusal(v, await sign(key))).toMatchObject({ reason: 'alg_not_allowed' });
  });

  it('refuses a wrong audience, an expired token, an unmapped role, and an untrusted issuer, each with its own message', async () => {
    const key = newKey('k1', 'ES256');
    published = [key];
    const v = verifierFor(oidcConfig());
    expect(await refusal(v, await sign(key, { aud: 'someone-else' }))).toMatchObject({
      reason: 'claims',
      message: 'Token claim "aud" is invalid',
    });
    expect(await refusal(v, await sign(key, { iat: now() - 120, exp: now() - 60 }))).toMatchObject({
      reason: 'expired',
      message: 'Token has expired',
    });
    expect(await refusal(v, await sign(key, { groups: ['visitors'] }))).toMatchObject({
      reason: 'role',
      message: expect.stringContaining('claim "groups" holds none of the values of OIDC_ROLE_MAP'),
    });
    expect(await refusal(v, await sign(key, { iss: 'https://evil.example.com' }))).toMatchObject({
      reason: 'issuer',
      message: 'Token issuer is not trusted',
    });
  });

  it('refuses a token signed by a key the issuer never published, fetching keys at most once per cooldown', async () => {
    const key = newKey('k1', 'ES256');
    published = [key];
    const v = verifierFor(oidcConfig({ OIDC_JWKS_COOLDOWN_MS: '60000' }));
    await v.verify(await sign(key));
    const stranger = newKey('k2', 'ES256');
    for (let i = 0; i < 5; i++)
      expect(await refusal(v, await sign(stranger))).toMatchObject({ reason: 'unknown_key' });
    // The same kid as the real key, signed by another: the signature fails.
    expect(await refusal(v, await sign(newKey('k1', 'ES256')))).toMatchObject({ reason: 'bad_signature' });
    expect(fetches).toEqual({ discovery: 1, jwks: 1 });
  });

  it('follows key rotation: a new kid is fetched at once and accepted, the old one works until it is withdrawn', async () => {
    const a = newKey('a', 'RS256');
    const b = newKey('b', 'RS256');
    published = [a];
    // Keys cached for a minute: only the unknown kid can make the verifier fetch again.
    const v = verifierFor(oidcConfig({ OIDC_JWKS_COOLDOWN_MS: '0', OIDC_JWKS_CACHE_MS: '60000' }));
    const tokenA = await sign(a);
    const tokenB = await sign(b);
    await v.verify(tokenA);
    published = [b, a];
    expect((await v.verify(tokenB)).role).toBe('voter');
    expect(fetches.jwks).toBe(2);
    await v.verify(tokenA);
    expect(fetches.jwks).toBe(2);

    // Withdrawn: refused once the cached set has aged out (OIDC_JWKS_CACHE_MS).
    const short = verifierFor(oidcConfig({ OIDC_JWKS_COOLDOWN_MS: '0', OIDC_JWKS_CACHE_MS: '300' }));
    await short.verify(tokenA);
    published = [b];
    await new Promise((r) => setTimeout(r, 400));
    expect(await refusal(short, tokenA)).toMatchObject({ reason: 'unknown_key' });
    expect((await short.verify(tokenB)).role).toBe('voter');
  });

  it('answers "keys unavailable" (503, not 401) when discovery names another issuer', async () => {
    const key = newKey('k1', 'ES256');
    published = [key];
    discoveryIssuer = 'https://someone-else.example.com';
    const v = verifierFor(oidcConfig());
    const err = await refusal(v, await sign(key));
    expect(err).toBeInstanceOf(KeySourceUnavailableError);
    expect(err.message).toMatch(/names another issuer/);
  });

  it('keeps accepting our own tokens unchanged', async () => {
    const v = verifierFor(oidcConfig());
    const ours = await mintToken(
      { sub: 'usr_local', role: 'admin' },
      { keyDir: localKeys, issuer: 'qv-local', audience: 'quorumvote', ttlS: 60, env: {} },
    );
    expect(await v.verify(ours)).toMatchObject({ sub: 'usr_local', role: 'admin', iss: 'qv-local' });
    expect(fetches).toEqual({ discovery: 0, jwks: 0 });
  });
});
