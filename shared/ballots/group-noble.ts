import { mulAddUnsafe, pippenger } from '@noble/curves/abstract/curve.js';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { EncodingError } from './bytes';
import type { Group } from './group';

/** A ristretto255 element as @noble/curves represents it. */
export type NoblePoint = InstanceType<typeof ristretto255.Point>;

const Point = ristretto255.Point;

/**
 * ristretto255 from @noble/curves (audited, pure JS, runs in browsers and Node). Its
 * `fromBytes` implements RFC 9496 decoding, which rejects every non-canonical encoding.
 */
export const nobleGroup: Group<NoblePoint> = {
  name: 'noble',
  base: Point.BASE,
  identity: Point.ZERO,
  decode(bytes) {
    if (bytes.length !== 32) throw new EncodingError('a point is 32 bytes');
    try {
      return Point.fromBytes(bytes);
    } catch {
      throw new EncodingError('non-canonical or invalid ristretto255 encoding');
    }
  },
  encode: (p) => p.toBytes(),
  add: (a, b) => a.add(b),
  sub: (a, b) => a.subtract(b),
  neg: (a) => a.negate(),
  equals: (a, b) => a.equals(b),
  isIdentity: (a) => a.is0(),
  // noble's multiply rejects 0; 0·P is the identity, which proofs can legitimately need.
  mul: (p, s) => (s === 0n ? Point.ZERO : p.multiply(s)),
  mulBase: (s) => (s === 0n ? Point.ZERO : Point.BASE.multiply(s)),
  mulPublic: (p, s) => p.multiplyUnsafe(s),
  // An 8-bit window table makes K's constant-time multiplications ~8× faster (one per
  // ciphertext, one per proof branch: most of a ballot's encryption time).
  fixedBase: (p) => p.precompute(8, false),
  // Strauss–Shamir for the 2–3-term equations of one proof, Pippenger for batches.
  msm: (points, scalars) => {
    if (points.length === 0) return Point.ZERO;
    return points.length <= 8 ? mulAddUnsafe(Point, points, scalars) : pippenger(Point, points, scalars);
  },
};
