import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { toHex } from './bytes';
import { encodeParts, type HashPart } from './hash-input';
import { bytesToNumberLE, mod } from './scalar';

/**
 * The two hash functions of qv/v1 (BALLOTS.md §1). `H` gives Fiat–Shamir challenges as
 * scalars; `D` gives identifiers (ctx, electionHash, tracker). The first part is always
 * a tag string so that no hash of one kind can be taken for another.
 */

/** `H(p1, …, pn) = SHA-512(lp(p1) || … || lp(pn))` as a 512-bit LE integer mod q. */
export function hashToScalar(parts: HashPart[]): bigint {
  return mod(bytesToNumberLE(sha512(encodeParts(parts))));
}

/** `D(p1, …, pn) = SHA-256(lp(p1) || … || lp(pn))`, 32 bytes. */
export function digest(parts: HashPart[]): Uint8Array {
  return sha256(encodeParts(parts));
}

/** `D` as lowercase hex, the form identifiers take in JSON. */
export function digestHex(parts: HashPart[]): string {
  return toHex(digest(parts));
}
