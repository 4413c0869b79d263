import sodium from 'libsodium-wrappers-sumo';
import { EncodingError, bytesEqual } from './bytes';
import type { Group } from './group';
import { scalarToBytes } from './scalar';

/**
 * ristretto255 from libsodium's sumo build (WASM, constant-time), the alternative
 * backend measured in docs/benchmarks.md. Points are kept as their canonical 32-byte
 * encodings, which is libsodium's own representation. Not exported from index.ts: the
 * WASM module is large, and only what imports this file loads it.
 */
export async function createSodiumGroup(): Promise<Group<Uint8Array>> {
  await sodium.ready;
  const identity = new Uint8Array(32);
  const isIdentity = (p: Uint8Array) => bytesEqual(p, identity);
  const base = sodium.crypto_scalarmult_ristretto255_base(scalarToBytes(1n));
  // libsodium refuses to return the identity from a scalar multiplication; in a prime
  // order group that only happens for a zero scalar or the identity point.
  const mulBase = (s: bigint) =>
    s === 0n ? identity : sodium.crypto_scalarmult_ristretto255_base(scalarToBytes(s));
  // G has precomputed tables in libsodium: about 3× faster than a variable-base multiplication.
  const mul = (p: Uint8Array, s: bigint) => {
    if (s === 0n || isIdentity(p)) return identity;
    return bytesEqual(p, base) ? mulBase(s) : sodium.crypto_scalarmult_ristretto255(scalarToBytes(s), p);
  };
  const add = (a: Uint8Array, b: Uint8Array) => sodium.crypto_core_ristretto255_add(a, b);
  return {
    name: 'libsodium',
    base,
    identity,
    decode(bytes) {
      if (bytes.length !== 32) throw new EncodingError('a point is 32 bytes');
      if (isIdentity(bytes)) return identity;
      if (!sodium.crypto_core_ristretto255_is_valid_point(bytes)) {
        throw new EncodingError('non-canonical or invalid ristretto255 encoding');
      }
      return Uint8Array.from(bytes);
    },
    encode: (p) => p,
    add,
    sub: (a, b) => sodium.crypto_core_ristretto255_sub(a, b),
    neg: (a) => sodium.crypto_core_ristretto255_sub(identity, a),
    equals: bytesEqual,
    isIdentity,
    mul,
    mulBase,
    mulPublic: mul,
    fixedBase: (p) => p,
    // libsodium has no multi-scalar multiplication: one constant-time multiplication per term.
    msm(points, scalars) {
      let acc: Uint8Array = identity;
      for (let i = 0; i < points.length; i++) acc = add(acc, mul(points[i]!, scalars[i]!));
      return acc;
    },
  };
}
