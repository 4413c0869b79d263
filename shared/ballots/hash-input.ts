import { concatBytes, utf8 } from './bytes';

/**
 * The injective encoding of hash inputs (BALLOTS.md §1): every part is length-prefixed,
 * so no two different lists of parts hash the same bytes.
 */

/** A part of a hash input: a string (its UTF-8 bytes) or raw bytes (points, scalars, `u64`). */
export type HashPart = string | Uint8Array;

/** `u64(x)`: 8 bytes big-endian; indices, counts and thresholds enter hashes this way. */
export function u64(x: number | bigint): Uint8Array {
  const n = BigInt(x);
  if (n < 0n || n >= 1n << 64n) throw new RangeError(`u64 out of range: ${x}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, false);
  return out;
}

/** `lp(x) = u32be(len(x)) || x`. */
export function lp(part: HashPart): Uint8Array {
  const bytes = typeof part === 'string' ? utf8(part) : part;
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, false);
  out.set(bytes, 4);
  return out;
}

/** `lp(p1) || … || lp(pn)`: the exact bytes `H` and `D` hash (exported for test vectors). */
export function encodeParts(parts: HashPart[]): Uint8Array {
  return concatBytes(parts.map(lp));
}
