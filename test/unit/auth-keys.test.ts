import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ensureKeyPair, loadSigningKey, PUBLIC_JWKS_FILE, SIGNING_KEY_FILE } from '../../shared/auth/keys';
import { loadPublicJwks } from '../../shared/auth/public-keys';

const execFileP = promisify(execFile);
const root = resolve(__dirname, '../..');
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'qv-auth-keys-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('signing key', () => {
  it('generates an Ed25519 key pair once (the launcher), private 0600, public JWKS beside it', () => {
    const keyDir = join(tempDir(), 'nested', 'keys');
    const key = ensureKeyPair({ keyDir, env: {} });
    expect(key.alg).toBe('EdDSA');
    expect(key.source).toBe('generated');
    const path = join(keyDir, SIGNING_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    expect(stored).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: key.kid, alg: 'EdDSA' });
    expect(typeof stored.d).toBe('string');
    // Same process: cached; the file is what another process would read.
    expect(loadSigningKey({ keyDir, env: {} })).toBe(key);
    const pub = join(keyDir, PUBLIC_JWKS_FILE);
    expect(statSync(pub).mode & 0o777).toBe(0o644);
    expect(JSON.parse(readFileSync(pub, 'utf8'))).toEqual({ keys: [key.publicJwk] });
    // A second start keeps the key.
    expect(ensureKeyPair({ keyDir, env: {} }).kid).toBe(key.kid);
  });

  it('never generates a key on the fly: a missing key file is an error for issuer and verifiers', () => {
    const keyDir = tempDir();
    expect(() => loadSigningKey({ keyDir, env: {} })).toThrow(/No signing key at .*signing-key\.json/);
    expect(() => loadPublicJwks({ keyDir, env: {} })).toThrow(/No public key file at .*jwks\.json/);
    expect(() => statSync(join(keyDir, SIGNING_KEY_FILE))).toThrow();
    expect(() => statSync(join(keyDir, PUBLIC_JWKS_FILE))).toThrow();
  });

  it('verifiers read the public JWKS without the private key file', () => {
    const keyDir = tempDir();
    const key = ensureKeyPair({ keyDir, env: {} });
    rmSync(join(keyDir, SIGNING_KEY_FILE));
    expect(loadPublicJwks({ keyDir, env: {} })).toEqual({ keys: [key.publicJwk] });
  });

  it('refuses a public JWKS that carries private material', () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    expect(() =>
      loadPublicJwks({ env: { JWT_PUBLIC_JWKS: JSON.stringify({ keys: [{ ...ed, kid: 'k' }] }) } }),
    ).toThrow(/private material/);
    const { d: _, ...pub } = ed;
    expect(
      loadPublicJwks({ env: { JWT_PUBLIC_JWKS: JSON.stringify({ keys: [{ ...pub, kid: 'k' }] }) } }),
    ).toEqual({ keys: [{ ...pub, kid: 'k', alg: 'EdDSA', use: 'sig' }] });
  });

  it('publishes only the public half with kid, alg and use', () => {
    const keyDir = tempDir();
    ensureKeyPair({ keyDir, env: {} });
    const jwks = loadPublicJwks({ keyDir, env: {} });
    expect(jwks.keys).toHaveLength(1);
    const [jwk] = jwks.keys;
    expect(jwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: expect.any(String),
      kid: loadSigningKey({ keyDir, env: {} }).kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(jwk).not.toHaveProperty('d');
  });

  it('prefers JWT_PRIVATE_JWK (Ed25519 or P-256) over the key folder', () => {
    const keyDir = tempDir();
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const fromEnv = loadSigningKey({
      keyDir,
      env: { JWT_PRIVATE_JWK: JSON.stringify({ ...ed, kid: 'k-env' }) },
    });
    expect(fromEnv).toMatchObject({ kid: 'k-env', alg: 'EdDSA', source: 'env' });
    expect(fromEnv.publicJwk.x).toBe(ed.x);

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const es = loadSigningKey({ env: { JWT_PRIVATE_JWK: JSON.stringify(ec) } });
    expect(es.alg).toBe('ES256');
    expect(es.publicJwk).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      use: 'sig',
      x: ec.x,
      y: ec.y,
    });
    expect(es.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => statSync(join(keyDir, SIGNING_KEY_FILE))).toThrow();
  });

  it('explains an unusable JWT_PRIVATE_JWK', () => {
    const pub = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    expect(() => loadSigningKey({ env: { JWT_PRIVATE_JWK: '{nope' } })).toThrow(/not valid JSON/);
    expect(() => loadSigningKey({ env: { JWT_PRIVATE_JWK: JSON.stringify(pub) } })).toThrow(
      /no private part/,
    );
    expect(() => loadSigningKey({ env: { JWT_PRIVATE_JWK: '{"kty":"oct","k":"c2VjcmV0"}' } })).toThrow(
      /Ed25519 \(OKP\) or P-256/,
    );
  });

  it('refuses to overwrite a corrupt key file', () => {
    const keyDir = tempDir();
    writeFileSync(join(keyDir, SIGNING_KEY_FILE), 'garbage');
    expect(() => loadSigningKey({ keyDir, env: {} })).toThrow(/not valid JSON/);
    expect(() => ensureKeyPair({ keyDir, env: {} })).toThrow(/not valid JSON/);
    expect(readFileSync(join(keyDir, SIGNING_KEY_FILE), 'utf8')).toBe('garbage');
  });

  it('makes racing processes agree on one key', async () => {
    const keyDir = tempDir();
    const script = `import { ensureKeyPair } from ${JSON.stringify(join(root, 'shared/auth/keys.ts'))};
      console.log(ensureKeyPair({ keyDir: process.argv[1], env: {} }).kid);`;
    const tsx = join(root, 'node_modules/.bin/tsx');
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => execFileP(tsx, ['-e', script, keyDir], { cwd: root })),
    );
    const kids = new Set(runs.map((r) => r.stdout.trim()));
    expect(kids.size).toBe(1);
    expect(loadSigningKey({ keyDir, env: {} }).kid).toBe([...kids][0]);
  });
});
