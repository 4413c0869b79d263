import { EncodingError } from './bytes';

/**
 * Scalars of ristretto255: integers mod the prime group order `q` (BALLOTS.md §1).
 * Plain bigints so that both group backends (noble, libsodium) share them.
 */

/** `q = 2^252 + 27742317777372353535851937790883648493`. */
export const Q = 2n ** 252n + 27742317777372353535851937790883648493n;

/** `x mod q` in [0, q). */
export function mod(x: bigint): bigint {
  const r = x % Q;
  return r < 0n ? r + Q : r;
}

/** Inverse mod q (Fermat; q is prime). Throws on 0, which has none. */
export function invert(x: bigint): bigint {
  const a = mod(x);
  if (a === 0n) throw new RangeError('0 has no inverse mod q');
  return powMod(a, Q - 2n);
}

function powMod(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = base;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % Q;
    b = (b * b) % Q;
    e >>= 1n;
  }
  return result;
}

/** A 512-bit (or any length) little-endian byte string as an integer. */
export function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** A scalar as 32 bytes little-endian (its only encoding). */
export function scalarToBytes(s: bigint): Uint8Array {
  if (s < 0n || s >= Q) throw new RangeError('scalar out of range');
  const out = new Uint8Array(32);
  let n = s;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** Decodes a 32-byte little-endian scalar and rejects values ≥ q (non-canonical). */
export function scalarFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new EncodingError('a scalar is 32 bytes');
  const n = bytesToNumberLE(bytes);
  if (n >= Q) throw new EncodingError('non-canonical scalar (≥ q)');
  return n;
}

/**
 * Lagrange coefficient at 0 for trustee `j` within the index set `set` (BALLOTS.md §5):
 * `λ_j = Π_{m∈S, m≠j} m·(m − j)^{−1} mod q`.
 */
export function lagrangeAtZero(j: number, set: number[]): bigint {
  let num = 1n;
  let den = 1n;
  for (const m of set) {
    if (m === j) continue;
    num = mod(num * BigInt(m));
    den = mod(den * BigInt(m - j));
  }
  return mod(num * invert(den));
}
