import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The local identity provider's signing key pair. Only the token issuer (and local
 * tooling that mints tokens) holds the private half: `JWT_PRIVATE_JWK` (a JSON private
 * JWK, for deployments that keep keys in a secret store) or `<keyDir>/signing-key.json`.
 * Verifiers read only the public JWKS (public-keys.ts). The pair is generated once, by
 * `npm start` or a test launcher ({@link ensureKeyPair}), never by a function.
 */
export type SigningAlg = 'EdDSA' | 'ES256';

/** A public JWK as published at `/.well-known/jwks.json`. */
export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid: string;
  alg: SigningAlg;
  use: 'sig';
}

/** The key material tokens are signed with. */
export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
  /** Where the key came from, for logs and `npm start` output (never the key itself). */
  source: 'env' | 'file' | 'generated';
}

/** A JSON Web Key Set (RFC 7517 §5). */
export interface Jwks {
  keys: PublicJwk[];
}

export interface KeySourceOptions {
  /** Folder of `signing-key.json`; defaults to `JWT_KEY_DIR` or `.local/keys`. */
  keyDir?: string;
  /** Where `JWT_PRIVATE_JWK` is read from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** File name of the generated key inside `keyDir`. */
export const SIGNING_KEY_FILE = 'signing-key.json';

const cache = new Map<string, SigningKey>();

/** RFC 7638 thumbprint: a kid that is stable for the key and needs no bookkeeping. */
function thumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'OKP'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function toSigningKey(jwk: unknown, source: SigningKey['source'], where: string): SigningKey {
  if (typeof jwk !== 'object' || jwk === null) throw new Error(`${where}: not a JSON object`);
  const j = jwk as JsonWebKey & { kid?: unknown };
  const okp = j.kty === 'OKP' && j.crv === 'Ed25519';
  const ec = j.kty === 'EC' && j.crv === 'P-256';
  if (!okp && !ec) throw new Error(`${where}: expected an Ed25519 (OKP) or P-256 (EC) private JWK`);
  if (typeof j.d !== 'string') throw new Error(`${where}: the JWK has no private part ("d")`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: j, format: 'jwk' });
  } catch (err) {
    throw new Error(`${where}: unusable private JWK (${(err as Error).message})`);
  }
  // Derive the public half from the private key rather than trusting x/y as given.
  const pub = createPublicKey(privateKey).export({ format: 'jwk' });
  const alg: SigningAlg = okp ? 'EdDSA' : 'ES256';
  const kid = typeof j.kid === 'string' && j.kid !== '' ? j.kid : thumbprint(pub);
  const publicJwk: PublicJwk = {
    kty: okp ? 'OKP' : 'EC',
    crv: okp ? 'Ed25519' : 'P-256',
    x: pub.x as string,
    ...(ec ? { y: pub.y as string } : {}),
    kid,
    alg,
    use: 'sig',
  };
  return { kid, alg, privateKey, publicJwk, source };
}

function readKeyFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON; delete it to generate a new signing key`);
  }
}

/**
 * Creates `path` with `content` only if it does not exist yet, atomically: the content
 * goes to a private temp file first, then `link` publishes it under the final name and
 * fails if another process got there first. Unlike `rename`, `link` never replaces a key
 * someone else already published (and may have signed tokens with). Filesystems without
 * hard links fall back to rename, accepting a last-writer-wins window.
 * Returns true when this call created the file.
 */
function createFileOnce(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // the umask may have narrowed it further, never widened; be explicit
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw err;
    renameSync(tmp, path);
    return true;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** File name of the public JWKS written next to the private key (what verifiers read). */
export const PUBLIC_JWKS_FILE = 'jwks.json';

function missingKey(path: string): Error {
  return new Error(
    `No signing key at ${path}: the key pair is generated once by \`npm start\` (local/) or ` +
      'supplied by the deployment (JWT_PRIVATE_JWK); a function never creates or rotates it',
  );
}

function readDir(keyDir: string): SigningKey {
  const path = join(keyDir, SIGNING_KEY_FILE);
  try {
    return toSigningKey(readKeyFile(path), 'file', path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missingKey(path);
    throw err;
  }
}

function fromEnvJwk(text: string): SigningKey {
  const cacheKey = `env:${text}`;
  let key = cache.get(cacheKey);
  if (!key) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error('JWT_PRIVATE_JWK is not valid JSON');
    }
    key = toSigningKey(parsed, 'env', 'JWT_PRIVATE_JWK');
    cache.set(cacheKey, key);
  }
  return key;
}

function envJwk(env: NodeJS.ProcessEnv): string | undefined {
  const v = env['JWT_PRIVATE_JWK'];
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/** The key folder an options object names (relative paths against the working directory). */
export function resolveKeyDir(options: KeySourceOptions = {}): string {
  const env = options.env ?? process.env;
  return resolve(options.keyDir ?? env['JWT_KEY_DIR'] ?? '.local/keys');
}

/**
 * The token issuer's private signing key: `JWT_PRIVATE_JWK` when set, else
 * `<keyDir>/signing-key.json`. Only the issuer (`POST /auth/token`) and local tooling
 * call this; a missing file is an error (see {@link ensureKeyPair} for who creates it),
 * never a reason to generate a key on the fly: a key generated by one function would
 * silently invalidate every token the others trust. Cached for the life of the process.
 */
export function loadSigningKey(options: KeySourceOptions = {}): SigningKey {
  const env = options.env ?? process.env;
  const fromEnv = envJwk(env);
  if (fromEnv !== undefined) return fromEnvJwk(fromEnv);
  const keyDir = resolveKeyDir(options);
  const cacheKey = `dir:${keyDir}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = readDir(keyDir);
    cache.set(cacheKey, key);
  }
  return key;
}

/** The JWKS text that publishes `key`'s public half. */
function jwksText(key: SigningKey): string {
  return `${JSON.stringify({ keys: [key.publicJwk] }, null, 2)}\n`;
}

/**
 * Generates the key pair once (Ed25519, private file mode 0600) unless it exists, and
 * (re)writes the public JWKS file next to it (mode 0644) so verifiers never need the
 * private half. For `npm start`, the test launchers and tooling that mint tokens, never
 * for a function. Safe against racing processes: the private key is created with
 * create-once semantics and re-read, so everybody ends up with the same key.
 */
export function ensureKeyPair(options: KeySourceOptions = {}): SigningKey {
  const env = options.env ?? process.env;
  const fromEnv = envJwk(env);
  if (fromEnv !== undefined) return fromEnvJwk(fromEnv);
  const keyDir = resolveKeyDir(options);
  const path = join(keyDir, SIGNING_KEY_FILE);
  let created = false;
  try {
    readKeyFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(keyDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const content = `${JSON.stringify({ ...jwk, kid: thumbprint(jwk), alg: 'EdDSA', use: 'sig' }, null, 2)}\n`;
    created = createFileOnce(path, content);
  }
  // Re-read: when another process won the race, its key is the one everybody uses.
  const key = toSigningKey(readKeyFile(path), created ? 'generated' : 'file', path);
  const pubPath = join(keyDir, PUBLIC_JWKS_FILE);
  const text = jwksText(key);
  let current: string | undefined;
  try {
    current = readFileSync(pubPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (current !== text) {
    // Derived data: replacing it atomically (rename) is safe, every writer writes the same bytes.
    const tmp = `${pubPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644, flag: 'wx' });
    chmodSync(tmp, 0o644);
    renameSync(tmp, pubPath);
  }
  cache.set(`dir:${keyDir}`, key);
  return key;
}
