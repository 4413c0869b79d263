import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKeyPair, PUBLIC_JWKS_FILE, SIGNING_KEY_FILE } from '../../shared/auth/keys';
import { mintToken } from '../../shared/auth/tokens';
import { type Handler, httpEvent, invoke } from '../helpers/lambda-events';

/**
 * Only the token issuer holds the private key: functions that verify tokens run with
 * nothing but the public JWKS, and a function whose key file is missing fails at
 * start with a clear error instead of generating (and silently rotating to) a key.
 */
const saved = { ...process.env };
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'qv-key-sep-'));
  dirs.push(d);
  return d;
};

/** Loads modules in a fresh registry, as a new Lambda container would (all of `paths` share it). */
function loadAll(keyDir: string, paths: string[]): unknown[] {
  process.env['REDIS_SEEDS'] = process.env['TEST_REDIS_SEEDS'];
  process.env['JWT_KEY_DIR'] = keyDir;
  delete process.env['JWT_PRIVATE_JWK'];
  delete process.env['JWT_PUBLIC_JWKS'];
  delete process.env['JWKS_URL'];
  const mods: unknown[] = [];
  jest.isolateModules(() => {
    for (const p of paths) mods.push(require(p));
  });
  return mods;
}
const load = (keyDir: string, path: string): unknown => loadAll(keyDir, [path])[0];

const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of closers) c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  process.env = saved;
});

describe('key separation', () => {
  it('verifying functions work with only the public JWKS present (no private key file)', async () => {
    const keyDir = tempDir();
    ensureKeyPair({ keyDir, env: {} });
    const token = await mintToken({ sub: 'sep-admin', role: 'admin' }, { keyDir, env: {}, ttlS: 600 });
    rmSync(join(keyDir, SIGNING_KEY_FILE));

    const [auth, lib] = loadAll(keyDir, ['../../functions/lib/auth', '../../functions/lib/redis']) as [
      typeof import('../../functions/lib/auth'),
      typeof import('../../functions/lib/redis'),
    ];
    closers.push(() => lib.redis().disconnect());
    await expect(auth.authenticateToken(token)).resolves.toMatchObject({ sub: 'sep-admin', role: 'admin' });
    const jwks = (load(keyDir, '../../functions/jwks') as { handler: Handler }).handler;
    const r = await invoke(jwks, httpEvent('GET', '/.well-known/jwks.json'));
    expect(r.status).toBe(200);
    expect(r.body.keys).toHaveLength(1);
    expect(r.body.keys[0]).not.toHaveProperty('d');
    // Nothing recreated the private half behind our back.
    expect(existsSync(join(keyDir, SIGNING_KEY_FILE))).toBe(false);
  });

  it('a function whose key file is missing fails at start, clearly, and creates no key', () => {
    const keyDir = tempDir();
    expect(() => load(keyDir, '../../functions/lib/auth')).toThrow(/No public key file at .*jwks\.json/);
    expect(() => load(keyDir, '../../functions/jwks')).toThrow(/No public key file/);
    expect(() => load(keyDir, '../../functions/auth-token')).toThrow(/No signing key at .*signing-key\.json/);
    expect(existsSync(join(keyDir, SIGNING_KEY_FILE))).toBe(false);
    expect(existsSync(join(keyDir, PUBLIC_JWKS_FILE))).toBe(false);
  });
});
