import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The cluster secret that authenticates coordinator peer messages (HMAC-SHA256, see
 * peer-auth.ts). Every coordinator of one cluster holds the same secret; nothing else
 * needs it. A deployment supplies it as `CLUSTER_SECRET` (the text itself) or
 * `CLUSTER_SECRET_FILE` (a path, e.g. a mounted secret); `npm start` generates one
 * into the local key folder. There is no default: a coordinator without a secret
 * would accept (and send) forgeable election messages, so it refuses to start.
 */

/** Fewer characters than this cannot carry 128 bits even as hex. */
export const MIN_SECRET_LENGTH = 32;

/** File name of the generated secret inside the local key folder. */
export const CLUSTER_SECRET_FILE_NAME = 'cluster-secret';

/** Reads the secret from CLUSTER_SECRET or CLUSTER_SECRET_FILE; throws a clear error when there is none. */
export function loadClusterSecret(env: NodeJS.ProcessEnv = process.env): Buffer {
  const inline = env['CLUSTER_SECRET'];
  const file = env['CLUSTER_SECRET_FILE'];
  if (inline && file) throw new Error('Set CLUSTER_SECRET or CLUSTER_SECRET_FILE, not both');
  let text: string;
  if (inline) text = inline;
  else if (file) {
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new Error(`CLUSTER_SECRET_FILE ${file} cannot be read: ${(err as Error).message}`);
    }
  } else {
    throw new Error(
      'No cluster secret: set CLUSTER_SECRET or CLUSTER_SECRET_FILE (the same value on every coordinator); ' +
        'peer election messages are authenticated with it (`npm start` generates one in .local/keys)',
    );
  }
  if (text.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `The cluster secret must be at least ${MIN_SECRET_LENGTH} characters (e.g. 32 random bytes as hex)`,
    );
  }
  return Buffer.from(text, 'utf8');
}

/** A fresh random secret: 32 bytes as hex. */
export function generateClusterSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Creates the secret file (mode 0600, only the owner can read it) if it does not exist
 * yet, and tightens the mode of an existing one. Returns the path. Used by `npm start`.
 */
export function ensureClusterSecretFile(path: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // 'wx': never overwrite a secret that exists (a running cluster may use it).
    writeFileSync(path, `${generateClusterSecret()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  chmodSync(path, 0o600);
  return path;
}
