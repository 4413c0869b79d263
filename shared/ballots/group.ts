/**
 * The prime-order group behind a small interface (ristretto255, BALLOTS.md §1), so the
 * proofs are written once and the backend (pure-JS noble or libsodium's WASM) can be
 * swapped by the figures of docs/benchmarks.md. Scalars are plain bigints mod q.
 */
export interface Group<P> {
  /** Backend name, for benchmarks and logs. */
  readonly name: string;
  /** The standard generator `G`. */
  readonly base: P;
  /** The identity element (encoded as 32 zero bytes). */
  readonly identity: P;
  /** Canonical decoding; throws `EncodingError` on any non-canonical or invalid encoding. */
  decode(bytes: Uint8Array): P;
  /** The 32-byte canonical encoding. */
  encode(p: P): Uint8Array;
  add(a: P, b: P): P;
  sub(a: P, b: P): P;
  neg(a: P): P;
  equals(a: P, b: P): boolean;
  isIdentity(a: P): boolean;
  /** `s·p` in constant time: for secret scalars (nonces, key shares). */
  mul(p: P, s: bigint): P;
  /** `s·G` in constant time: for secret scalars. */
  mulBase(s: bigint): P;
  /** `s·p` in variable time: public scalars only (verification). */
  mulPublic(p: P, s: bigint): P;
  /** `Σ s_i·p_i` in variable time (multi-scalar multiplication): public scalars only. */
  msm(points: P[], scalars: bigint[]): P;
  /**
   * Prepares a point that many multiplications will use (the joint key K): a backend
   * may build tables for it. Returns the same element.
   */
  fixedBase(p: P): P;
}
