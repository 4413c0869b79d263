import type { Group } from './group';
import { hashToScalar } from './hash';
import { u64 } from './hash-input';
import { type RandomBytes, randomScalar } from './random';
import { mod } from './scalar';

/**
 * The disjunctive Chaum–Pedersen proof (BALLOTS.md §4) that an exponential-ElGamal
 * ciphertext `(α, β)` under `K` encrypts some value of an allowed set `V`, without
 * saying which: the true branch is proven, every other branch is simulated, and the
 * challenges must add up to the Fiat–Shamir hash of the whole transcript.
 */

/** What the challenge binds besides the ciphertext: tag, election, voter key, index. */
export interface ProofStatement<P> {
  tag: string;
  electionHash: Uint8Array;
  /** The voter's Ed25519 public key `P` (32 bytes): another voter cannot reuse the proof. */
  voterKey: Uint8Array;
  /** Option index ℓ (1-based) or 0 for the total. */
  index: number;
  K: P;
  alpha: P;
  beta: P;
  /** The encodings of `alpha`/`beta` when already known (decoded ballots): saves re-encoding. */
  alphaBytes?: Uint8Array;
  betaBytes?: Uint8Array;
  /** The allowed values, ascending. */
  values: number[];
}

/** The proof with its commitments (`a`, `b` are hints: only `c` and `v` are in the spec). */
export interface DisjunctiveProofValues<P> {
  c: bigint[];
  v: bigint[];
  a: P[];
  b: P[];
}

/** `c = H(tag, electionHash, P, u64(index), α, β, a_{j1}, b_{j1}, …)` over encoded commitments. */
export function disjunctiveChallenge<P>(
  g: Group<P>,
  s: ProofStatement<P>,
  commitments: { a: Uint8Array; b: Uint8Array }[],
): bigint {
  const parts: (string | Uint8Array)[] = [
    s.tag,
    s.electionHash,
    s.voterKey,
    u64(s.index),
    s.alphaBytes ?? g.encode(s.alpha),
    s.betaBytes ?? g.encode(s.beta),
  ];
  for (const { a, b } of commitments) parts.push(a, b);
  return hashToScalar(parts);
}

/** `j·G` for a small non-negative value (0·G is the identity). */
function valuePoint<P>(g: Group<P>, j: number): P {
  return j === 0 ? g.identity : g.mulPublic(g.base, BigInt(j));
}

/**
 * Proves that `(α, β)` encrypts `t ∈ V` with nonce `r`. All multiplications are the
 * constant-time ones: the simulated branches must not take a different time than the
 * real one, or the time would tell which value the voter chose.
 */
export function proveDisjunctive<P>(
  g: Group<P>,
  s: ProofStatement<P>,
  t: number,
  r: bigint,
  random: RandomBytes,
): DisjunctiveProofValues<P> {
  const at = s.values.indexOf(t);
  if (at < 0) throw new RangeError(`value ${t} is not allowed`);
  const c: bigint[] = [];
  const v: bigint[] = [];
  const a: P[] = [];
  const b: P[] = [];
  const u = randomScalar(random);
  s.values.forEach((j, idx) => {
    if (idx === at) {
      c.push(0n);
      v.push(0n);
      a.push(g.mulBase(u));
      b.push(g.mul(s.K, u));
      return;
    }
    const cj = randomScalar(random);
    const vj = randomScalar(random);
    c.push(cj);
    v.push(vj);
    a.push(g.add(g.mulBase(vj), g.mul(s.alpha, cj)));
    b.push(g.add(g.mul(s.K, vj), g.mul(g.sub(s.beta, valuePoint(g, j)), cj)));
  });
  const total = disjunctiveChallenge(
    g,
    s,
    a.map((ai, i) => ({ a: g.encode(ai), b: g.encode(b[i]!) })),
  );
  let others = 0n;
  for (let i = 0; i < c.length; i++) if (i !== at) others += c[i]!;
  c[at] = mod(total - others);
  v[at] = mod(u - c[at]! * r);
  return { c, v, a, b };
}

/** Recomputes `a_j = v_j·G + c_j·α` and `b_j = v_j·K + c_j·(β − j·G)` for every branch. */
export function recomputeCommitments<P>(
  g: Group<P>,
  s: ProofStatement<P>,
  c: bigint[],
  v: bigint[],
): { a: P; b: P }[] {
  return s.values.map((j, i) => ({
    a: g.msm([g.base, s.alpha], [v[i]!, c[i]!]),
    b: g.msm([s.K, g.sub(s.beta, valuePoint(g, j))], [v[i]!, c[i]!]),
  }));
}

/** The spec's verification: recompute every commitment, then `Σ c_j = H(…)`. */
export function verifyDisjunctive<P>(g: Group<P>, s: ProofStatement<P>, c: bigint[], v: bigint[]): boolean {
  if (c.length !== s.values.length || v.length !== s.values.length) return false;
  const commitments = recomputeCommitments(g, s, c, v).map(({ a, b }) => ({
    a: g.encode(a),
    b: g.encode(b),
  }));
  let sum = 0n;
  for (const ci of c) sum += ci;
  return mod(sum) === disjunctiveChallenge(g, s, commitments);
}
