import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { toHex } from './bytes';
import { encodeParts, type HashPart } from './hash-input';
import { bytesToNumberLE, mod } from './scalar';

/**
 * The two hash functions of qv/v1 (BALLOTS.md §1). `H` gives Fiat–Shamir challenges as
 * scalars; `D` gives identifiers (ctx, electionHash, tracker). The first part is always
 * a tag string so that no hash of one kind can be taken for another.
 */

/** SHA-256 and SHA-512 as byte functions. */
export interface HashFunctions {
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
}

// noble's pure-JS SHA-2 runs everywhere; a server may install native ones (same
// outputs, several times faster; shared/ballots-node/native-hashes.ts).
let impl: HashFunctions = { sha256: nobleSha256, sha512: nobleSha512 };

/**
 * Replaces the SHA-2 implementation process-wide (e.g. node:crypto in validators). It
 * must compute the same standard functions: the test vectors check that it does.
 */
export function setHashFunctions(fns: HashFunctions): void {
  impl = fns;
}

/** `H(p1, …, pn) = SHA-512(lp(p1) || … || lp(pn))` as a 512-bit LE integer mod q. */
export function hashToScalar(parts: HashPart[]): bigint {
  return mod(bytesToNumberLE(impl.sha512(encodeParts(parts))));
}

/** `D(p1, …, pn) = SHA-256(lp(p1) || … || lp(pn))`, 32 bytes. */
export function digest(parts: HashPart[]): Uint8Array {
  return impl.sha256(encodeParts(parts));
}

/** `D` as lowercase hex, the form identifiers take in JSON. */
export function digestHex(parts: HashPart[]): string {
  return toHex(digest(parts));
}
