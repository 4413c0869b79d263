import { EncodingError, fromHex, toHex } from './bytes';
import type { Group } from './group';
import { scalarFromBytes, scalarToBytes } from './scalar';

/**
 * JSON ⇄ group values (BALLOTS.md §1): lowercase hex, canonical only. Every decoder
 * throws `EncodingError`, which verifiers report as `malformed`.
 */

/** A point from its 64-hex-character JSON form (the identity is allowed). */
export function decodePoint<P>(g: Group<P>, hex: unknown): P {
  return g.decode(fromHex(hex, 32));
}

/** A public key from JSON: like `decodePoint`, but the identity is rejected (§1). */
export function decodePublicKey<P>(g: Group<P>, hex: unknown): P {
  const p = decodePoint(g, hex);
  if (g.isIdentity(p)) throw new EncodingError('the identity is not a valid public key');
  return p;
}

/** A scalar from JSON: 32 bytes little-endian, rejected if ≥ q. */
export function decodeScalar(hex: unknown): bigint {
  return scalarFromBytes(fromHex(hex, 32));
}

/** A point's JSON form. */
export function encodePoint<P>(g: Group<P>, p: P): string {
  return toHex(g.encode(p));
}

/** A scalar's JSON form. */
export function encodeScalar(s: bigint): string {
  return toHex(scalarToBytes(s));
}

/** A list of scalars from JSON, of exactly `length` entries. */
export function decodeScalars(hexes: unknown, length: number): bigint[] {
  if (!Array.isArray(hexes) || hexes.length !== length) {
    throw new EncodingError(`expected a list of ${length} scalars`);
  }
  return hexes.map(decodeScalar);
}
