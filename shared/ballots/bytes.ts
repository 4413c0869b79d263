/**
 * Byte and hex helpers for qv/v1 (BALLOTS.md §1). Runtime-agnostic on purpose: the
 * same code runs in Node and in the browser (Vite), so no `Buffer` and no node:crypto.
 */

const encoder = new TextEncoder();

/** UTF-8 bytes of a string: how every string enters `H` and `D`. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Lowercase hex, the only form points, scalars and hashes take in JSON. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/**
 * Strict hex decoding: lowercase only and exactly `length` bytes, so that one value has
 * exactly one JSON spelling (an uppercase or padded variant would give the same bytes
 * but a different record, which a verifier comparing strings would treat differently).
 */
export function fromHex(hex: unknown, length: number): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== length * 2 || !/^[0-9a-f]*$/.test(hex)) {
    throw new EncodingError(`expected ${length * 2} lowercase hex characters`);
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Concatenation without Buffer. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Constant-length comparison of two byte strings (public data; not for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A value in the record or a ballot that cannot be decoded (wrong length, non-canonical
 * point or scalar, identity where a key is expected). Verifiers map it to `malformed`.
 */
export class EncodingError extends Error {
  override name = 'EncodingError';
}
