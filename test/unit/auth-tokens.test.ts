import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, createLocalJWKSet } from 'jose';
import { ManualClock } from '../../shared/clock';
import { ensureKeyPair, loadSigningKey } from '../../shared/auth/keys';
import { loadPublicJwks } from '../../shared/auth/public-keys';
import {
  InvalidTokenError,
  issueToken,
  KeySourceUnavailableError,
  mintToken,
  TokenVerifier,
} from '../../shared/auth/tokens';

const issuer = 'qv-test-issuer';
const audience = 'qv-test-audience';
const keyDir = mkdtempSync(join(tmpdir(), 'qv-auth-tokens-'));
const otherKeyDir = mkdtempSync(join(tmpdir(), 'qv-auth-tokens-other-'));
// What `npm start` does once; the issuer and the verifiers only read the result.
ensureKeyPair({ keyDir, env: {} });
ensureKeyPair({ keyDir: otherKeyDir, env: {} });
const t0 = Date.UTC(2030, 0, 1);
const clock = new ManualClock(t0);
const signer = { issuer, audience, keyDir, clock, env: {} };
const verifier = new TokenVerifier({ issuer, audience, keyDir, clock });

afterAll(() => {
  rmSync(keyDir, { recursive: true, force: true });
  rmSync(otherKeyDir, { recursive: true, force: true });
});
beforeEach(() => clock.set(t0));

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function rejection(token: string, v: TokenVerifier = verifier): Promise<InvalidTokenError> {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidTokenError);
  return err as InvalidTokenError;
}

describe('issueToken + TokenVerifier (local key)', () => {
  it('issues an EdDSA token with kid, iss, aud, iat, exp that verifies to typed claims', async () => {
    const token = await issueToken(
      { sub: 'usr_abc', role: 'voter', username: 'alice' },
      { ...signer, ttlS: 600 },
    );
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({
      alg: 'EdDSA',
      kid: loadSigningKey({ keyDir, env: {} }).kid,
      typ: 'JWT',
    });
    const claims = await verifier.verify(token);
    expect(claims).toEqual({
      sub: 'usr_abc',
      role: 'voter',
      username: 'alice',
      iss: issuer,
      aud: audience,
      iat: t0 / 1000,
      exp: t0 / 1000 + 600,
      jti: expect.any(String),
    });
  });

  it('refuses to issue tokens for unknown roles or without a lifetime', async () => {
    await expect(issueToken({ sub: 'u', role: 'root' as never }, { ...signer, ttlS: 60 })).rejects.toThrow(
      /role/,
    );
    await expect(issueToken({ sub: 'u', role: 'voter' }, { ...signer, ttlS: 0 })).rejects.toThrow(/ttlS/);
  });

  it('accepts every role', async () => {
    for (const role of ['voter', 'admin', 'auditor'] as const) {
      const claims = await verifier.verify(await mintToken({ sub: `s-${role}`, role }, signer));
      expect(claims.role).toBe(role);
    }
  });

  it('rejects a bad signature (tampered payload)', async () => {
    const token = await mintToken({ sub: 'usr_1', role: 'voter' }, signer);
    const [h, , s] = token.split('.');
    const forged = `${h}.${b64({ sub: 'usr_1', role: 'admin', iss: issuer, aud: audience, iat: t0 / 1000, exp: t0 / 1000 + 60 })}.${s}`;
    expect((await rejection(forged)).reason).toBe('bad_signature');
  });

  it('rejects a token signed by another key that claims our kid', async () => {
    const ours = loadSigningKey({ keyDir, env: {} });
    const theirs = loadSigningKey({ keyDir: otherKeyDir, env: {} });
    const token = await mintToken(
      { sub: 'usr_1', role: 'admin' },
      { ...signer, key: { ...theirs, kid: ours.kid } },
    );
    expect((await rejection(token)).reason).toBe('bad_signature');
  });

  it('rejects a token signed by an unknown kid', async () => {
    const token = await mintToken({ sub: 'usr_1', role: 'admin' }, { ...signer, keyDir: otherKeyDir });
    expect((await rejection(token)).reason).toBe('unknown_key');
  });

  it('rejects alg "none"', async () => {
    const now = t0 / 1000;
    const payload = { sub: 'usr_1', role: 'admin', iss: issuer, aud: audience, iat: now, exp: now + 60 };
    for (const header of [
      { alg: 'none', typ: 'JWT' },
      { alg: 'none', kid: loadSigningKey({ keyDir, env: {} }).kid },
    ]) {
      const err = await rejection(`${b64(header)}.${b64(payload)}.`);
      expect(['alg_not_allowed', 'malformed']).toContain(err.reason);
    }
  });

  it('rejects HS256 signed with the public key (algorithm confusion)', async () => {
    const { x } = loadPublicJwks({ keyDir, env: {} }).keys[0]!;
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('usr_1')
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(t0 / 1000)
      .setExpirationTime(t0 / 1000 + 60)
      .sign(Buffer.from(x, 'base64url'));
    expect((await rejection(token)).reason).toBe('alg_not_allowed');
  });

  it('rejects the wrong issuer', async () => {
    const token = await mintToken({ sub: 'usr_1', role: 'voter' }, { ...signer, issuer: 'someone-else' });
    expect(await rejection(token)).toMatchObject({
      reason: 'claims',
      message: expect.stringContaining('iss'),
    });
  });

  it('rejects the wrong audience', async () => {
    const token = await mintToken({ sub: 'usr_1', role: 'voter' }, { ...signer, audience: 'other-app' });
    expect(await rejection(token)).toMatchObject({
      reason: 'claims',
      message: expect.stringContaining('aud'),
    });
  });

  it('rejects an expired token, by the injected clock', async () => {
    const token = await issueToken({ sub: 'usr_1', role: 'voter' }, { ...signer, ttlS: 60 });
    clock.advance(59_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'usr_1' });
    clock.advance(1_000);
    expect((await rejection(token)).reason).toBe('expired');
    const past = await mintToken(
      { sub: 'usr_1', role: 'voter' },
      { ...signer, iat: t0 / 1000 - 7200, exp: t0 / 1000 - 3600 },
    );
    clock.set(t0);
    expect((await rejection(past)).reason).toBe('expired');
  });

  it('remembers a verified token for a minute at most, never past its expiry', async () => {
    const v = new TokenVerifier({ issuer, audience, keyDir, clock });
    const token = await issueToken({ sub: 'usr_cache', role: 'voter' }, { ...signer, ttlS: 600 });
    const claims = await v.verify(token);
    // From here on the verifier knows only another key: a fresh check would fail.
    loadSigningKey({ keyDir: otherKeyDir, env: {} });
    (v as unknown as { keys: unknown }).keys = createLocalJWKSet(loadPublicJwks({ keyDir: otherKeyDir }));
    clock.advance(59_000);
    await expect(v.verify(token)).resolves.toEqual(claims); // remembered
    const other = await issueToken({ sub: 'usr_cache', role: 'voter' }, { ...signer, ttlS: 600 });
    expect((await rejection(other, v)).reason).toBe('unknown_key'); // not the same bytes
    clock.advance(1_000);
    expect((await rejection(token, v)).reason).toBe('unknown_key'); // forgotten after 60 s

    const short = new TokenVerifier({ issuer, audience, keyDir, clock });
    const brief = await issueToken({ sub: 'usr_brief', role: 'voter' }, { ...signer, ttlS: 10 });
    await short.verify(brief);
    clock.advance(10_000);
    expect((await rejection(brief, short)).reason).toBe('expired'); // never past exp

    const off = new TokenVerifier({ issuer, audience, keyDir, clock, verifiedCacheMs: 0 });
    await off.verify(other);
    (off as unknown as { keys: unknown }).keys = createLocalJWKSet(loadPublicJwks({ keyDir: otherKeyDir }));
    expect((await rejection(other, off)).reason).toBe('unknown_key');
  });

  it('rejects unknown or missing roles', async () => {
    expect((await rejection(await mintToken({ sub: 'usr_1', role: 'superuser' }, signer))).reason).toBe(
      'role',
    );
    expect((await rejection(await mintToken({ sub: 'usr_1', role: 'Admin' }, signer))).reason).toBe('role');
    const { role: _, ...noRole } = { sub: 'usr_1', role: 'x' };
    expect((await rejection(await mintToken(noRole as never, signer))).reason).toBe('role');
  });

  it('rejects tokens without sub, exp or iat', async () => {
    const key = loadSigningKey({ keyDir, env: {} });
    const now = t0 / 1000;
    const base = { sub: 'usr_1', role: 'voter', iss: issuer, aud: audience, iat: now, exp: now + 60 };
    for (const drop of ['sub', 'exp', 'iat'] as const) {
      const { [drop]: _, ...payload } = base;
      const token = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
        .sign(key.privateKey);
      expect((await rejection(token)).reason).toBe('claims');
    }
  });

  it.each(['', 'abc', 'a.b.c', 'x'.repeat(9000), `${b64({ alg: 'EdDSA' })}.!!!.sig`])(
    'rejects the malformed token %#',
    async (token) => {
      expect(['malformed', 'bad_signature']).toContain((await rejection(token)).reason);
    },
  );
});

describe('TokenVerifier with a remote JWKS', () => {
  let server: Server;
  let url: string;
  let status = 200;
  let fetches = 0;
  // The remote issuer signs with ES256 (a P-256 key given as JWT_PRIVATE_JWK).
  const ecJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const remoteKey = loadSigningKey({
    env: { JWT_PRIVATE_JWK: JSON.stringify({ ...ecJwk, kid: 'remote-1' }) },
  });
  const remoteSigner = { issuer, audience, clock, key: remoteKey };

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [remoteKey.publicJwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('verifies ES256 tokens against the fetched keys and caches them', async () => {
    const remote = new TokenVerifier({ issuer, audience, jwksUrl: url, clock });
    expect(remote.remote).toBe(true);
    const before = fetches;
    for (let i = 0; i < 3; i++) {
      const claims = await remote.verify(await mintToken({ sub: `usr_${i}`, role: 'auditor' }, remoteSigner));
      expect(claims).toMatchObject({ sub: `usr_${i}`, role: 'auditor' });
    }
    expect(fetches - before).toBe(1);
  });

  it('still enforces issuer, audience, expiry and the role list', async () => {
    const remote = new TokenVerifier({ issuer, audience, jwksUrl: url, clock });
    const wrongAud = await mintToken({ sub: 'usr_1', role: 'voter' }, { ...remoteSigner, audience: 'x' });
    expect((await rejection(wrongAud, remote)).reason).toBe('claims');
    const expired = await mintToken({ sub: 'usr_1', role: 'voter' }, { ...remoteSigner, exp: t0 / 1000 - 1 });
    expect((await rejection(expired, remote)).reason).toBe('expired');
    // A token from the local key is not in the remote set.
    const local = await mintToken({ sub: 'usr_1', role: 'voter' }, signer);
    expect((await rejection(local, remote)).reason).toBe('unknown_key');
  });

  it('reports an unreachable or failing JWKS as unavailable, not as a bad token', async () => {
    const token = await mintToken({ sub: 'usr_1', role: 'voter' }, remoteSigner);
    status = 500;
    try {
      const failing = new TokenVerifier({ issuer, audience, jwksUrl: url, clock });
      await expect(failing.verify(token)).rejects.toBeInstanceOf(KeySourceUnavailableError);
    } finally {
      status = 200;
    }
    const closed = new TokenVerifier({ issuer, audience, jwksUrl: 'http://127.0.0.1:1/jwks.json', clock });
    await expect(closed.verify(token)).rejects.toBeInstanceOf(KeySourceUnavailableError);
  });
});
