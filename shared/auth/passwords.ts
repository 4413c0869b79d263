import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing for the local identity provider: scrypt (memory-hard, built into
 * Node, no native add-on to ship in a Lambda bundle).
 *
 * The encoded form `scrypt$N$r$p$<salt b64url>$<hash b64url>` carries its own
 * parameters, so the defaults can be raised later without invalidating stored hashes.
 */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelization. */
  p: number;
}

/**
 * N=2^17, r=8, p=1: the minimum the OWASP Password Storage Cheat Sheet gives for
 * scrypt (128 MiB per hash; measured ~0.4 s per hash on the 2-core machine this runs
 * on, see docs/operations.md). The memory and CPU this costs per login are why logins
 * are throttled (login-throttle.ts) and hashed a few at a time (hash-slots.ts). Stored
 * hashes carry their parameters: older, cheaper ones still verify and are rehashed
 * with these on the next successful login.
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Upper bounds on parameters read back from a stored hash, so a corrupt record cannot stall the process. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/** scrypt runs started by this process, by cost (`N/r/p`); see {@link scryptRunsByCost}. */
const runsByCost = new Map<string, number>();

/**
 * How many scrypt derivations this process has started, by cost `N/r/p`. An
 * observability figure (what logins cost), and how tests see that a path hashed at the
 * real cost without timing it: a login for an unknown name must run the same scrypt as
 * one for a known name, or response time reveals which names exist.
 */
export function scryptRunsByCost(): Record<string, number> {
  return Object.fromEntries(runsByCost);
}

function derive(password: string, salt: Buffer, params: ScryptParams, keyLen: number): Promise<Buffer> {
  const cost = `${params.N}/${params.r}/${params.p}`;
  runsByCost.set(cost, (runsByCost.get(cost) ?? 0) + 1);
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    // Node refuses anything above 32 MiB by default; N=2^17/r=8 needs 128 MiB.
    maxmem: 128 * params.N * params.r * 2 + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLen, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function validParams(params: ScryptParams): boolean {
  const { N, r, p } = params;
  return (
    Number.isInteger(N) &&
    N > 1 &&
    N <= MAX_N &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= MAX_R &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= MAX_P
  );
}

/** Hashes a password with a fresh random salt; returns the self-describing encoded string. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  if (!validParams(params)) throw new Error(`Invalid scrypt parameters ${JSON.stringify(params)}`);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, KEY_BYTES);
  return [
    'scrypt',
    params.N,
    params.r,
    params.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

/** The parts of an encoded hash; `undefined` when the string is not one this module wrote. */
export function parsePasswordHash(
  encoded: string,
): (ScryptParams & { salt: Buffer; hash: Buffer }) | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!validParams(params) || !/^[A-Za-z0-9_-]+$/.test(salt) || !/^[A-Za-z0-9_-]+$/.test(hash))
    return undefined;
  const hashBytes = Buffer.from(hash, 'base64url');
  if (hashBytes.length < 16 || hashBytes.length > 64) return undefined;
  return { ...params, salt: Buffer.from(salt, 'base64url'), hash: hashBytes };
}

/**
 * Checks a password against an encoded hash in constant time (for a given hash).
 * Returns false, never throws, for a malformed hash: a login must not become a 500.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}

/** True when a stored hash was made with weaker parameters than `params` (rehash on next login). */
export function needsRehash(encoded: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const parsed = parsePasswordHash(encoded);
  return !parsed || parsed.N < params.N || parsed.r < params.r || parsed.p < params.p;
}
