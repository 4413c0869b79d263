import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Jwks, type KeySourceOptions, PUBLIC_JWKS_FILE, type PublicJwk, resolveKeyDir } from './keys';

/**
 * The verifier's side of the key pair: the public JWKS only. Functions that merely
 * check tokens never read, let alone create, the private signing key, so a bug or a
 * compromise in one of them cannot mint tokens. Sources, in order: `JWT_PUBLIC_JWKS`
 * (a JSON JWKS, for deployments), else `<keyDir>/jwks.json` (written next to the
 * private key by `npm start`). A missing or unusable source is an error at start.
 */

const cache = new Map<string, Jwks>();

function toPublicJwk(value: unknown, where: string): PublicJwk {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: a key is not a JSON object`);
  const k = value as Record<string, unknown>;
  // A private member here means someone published the secret: refuse rather than spread it.
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
    if (secret in k) throw new Error(`${where}: key "${String(k['kid'])}" carries private material`);
  }
  const okp = k['kty'] === 'OKP' && k['crv'] === 'Ed25519';
  const ec = k['kty'] === 'EC' && k['crv'] === 'P-256' && typeof k['y'] === 'string';
  if ((!okp && !ec) || typeof k['x'] !== 'string' || typeof k['kid'] !== 'string' || k['kid'] === '') {
    throw new Error(`${where}: expected Ed25519 (OKP) or P-256 (EC) public keys with a kid`);
  }
  return {
    kty: okp ? 'OKP' : 'EC',
    crv: okp ? 'Ed25519' : 'P-256',
    x: k['x'] as string,
    ...(ec ? { y: k['y'] as string } : {}),
    kid: k['kid'] as string,
    alg: okp ? 'EdDSA' : 'ES256',
    use: 'sig',
  };
}

/** Parses and checks a JWKS document (public keys only, at least one). */
export function parseJwks(text: string, where: string): Jwks {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${where}: expected {"keys": [...]}`);
  return { keys: keys.map((k) => toPublicJwk(k, where)) };
}

/**
 * The public JWKS tokens are verified with. Never touches the private key file; cached
 * per source for the life of the process.
 */
export function loadPublicJwks(options: KeySourceOptions = {}): Jwks {
  const env = options.env ?? process.env;
  const fromEnv = env['JWT_PUBLIC_JWKS'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const key = `env:${fromEnv}`;
    let jwks = cache.get(key);
    if (!jwks) {
      jwks = parseJwks(fromEnv, 'JWT_PUBLIC_JWKS');
      cache.set(key, jwks);
    }
    return jwks;
  }
  const path = join(resolveKeyDir(options), PUBLIC_JWKS_FILE);
  let jwks = cache.get(path);
  if (!jwks) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new Error(
        `No public key file at ${path}: it is written by \`npm start\` (local/) next to the signing ` +
          'key; a deployment sets JWT_PUBLIC_JWKS or JWKS_URL instead',
      );
    }
    jwks = parseJwks(text, path);
    cache.set(path, jwks);
  }
  return { keys: jwks.keys.map((k) => ({ ...k })) };
}
