import { createHash } from 'node:crypto';
import { type HashFunctions, setHashFunctions } from '../ballots/hash';

/** SHA-256/512 from node:crypto (OpenSSL): the same functions as noble's, natively. */
export const nodeHashes: HashFunctions = {
  sha256: (data) => createHash('sha256').update(data).digest(),
  sha512: (data) => createHash('sha512').update(data).digest(),
};

/** Makes every qv/v1 hash in this process use node:crypto (validators, verifier CLI). */
export function installNodeHashes(): void {
  setHashFunctions(nodeHashes);
}
