import type { DecodedBallot, DecodedProof } from './ballot-decode';
import { type BallotVerdict, reject } from './ballot-verdict';
import { type BallotCheckOptions, checkBallotProofs, precheckBallot } from './ballot-verify';
import { disjunctiveChallenge, type ProofStatement } from './disjunctive-proof';
import type { PreparedElection } from './election';
import { type RandomBytes, cryptoRandomBytes } from './random';
import { bytesToNumberLE, mod } from './scalar';
import { tags } from './tags';
import type { Ballot } from './types';

/**
 * Batch verification of many ballots of one election (docs/election-record.md A4):
 * with the commitment hints, each proof's challenge is checked by hashing alone, and
 * all `2·Σ|V|` group equations of all ballots are combined with independent random
 * 128-bit weights into ONE multi-scalar multiplication. A forged equation survives only
 * if the weights happen to cancel it (probability ≤ 2^-128 per batch). When the combined
 * check fails, every ballot of the batch is verified on its own (§4), so the bad ones
 * are found and named and the verdicts are exactly those of `verifyBallot`.
 */

/** Options: the per-ballot checks plus the weights' randomness (a CSPRNG by default). */
export interface BatchOptions extends BallotCheckOptions {
  random?: RandomBytes;
  /**
   * Per ballot, instead of `isOnRoll`: is this key the roll's key for the ballot at
   * `index` (a validator knows each voter's own key; a set of the batch's keys would let
   * one voter's ballot pass under another voter's key)?
   */
  isOnRollAt?: (publicKeyHex: string, index: number) => boolean;
}

/** What the batch learned: verdicts in input order, and whether it had to fall back. */
export interface BatchResult {
  verdicts: BallotVerdict[];
  /** Ballots verified by the one combined equation. */
  batched: number;
  /** True when the combined equation failed and the batched ballots were re-checked one by one. */
  fellBack: boolean;
}

/** Accumulates `Σ s_i·P_i` terms; G and K get one aggregated scalar each. */
class Equation<P> {
  points: P[] = [];
  scalars: bigint[] = [];
  gCoef = 0n;
  kCoef = 0n;
  add(p: P, s: bigint) {
    this.points.push(p);
    this.scalars.push(mod(s));
  }
}

function hintsHashOk<P>(e: PreparedElection<P>, s: ProofStatement<P>, p: DecodedProof<P>): boolean {
  const h = p.hints!;
  const commitments = h.aBytes.map((a, i) => ({ a, b: h.bBytes[i]! }));
  let sum = 0n;
  for (const c of p.c) sum += c;
  return mod(sum) === disjunctiveChallenge(e.group, s, commitments);
}

/**
 * Adds one proof's equations `v_j·G + c_j·α − a_j = 0`, `v_j·K + c_j·β − c_j·j·G − b_j = 0`
 * with weights; `alphas`/`betas` are the ciphertext's components (several for the total,
 * whose ciphertext is the sum of the selections: its coefficient goes to each of them).
 */
function addProof<P>(
  e: PreparedElection<P>,
  eq: Equation<P>,
  values: number[],
  p: DecodedProof<P>,
  coefAlpha: bigint[],
  coefBeta: bigint[],
  targets: number[],
  random: RandomBytes,
): void {
  const g = e.group;
  const h = p.hints!;
  values.forEach((val, j) => {
    const w1 = bytesToNumberLE(random(16));
    const w2 = bytesToNumberLE(random(16));
    const c = p.c[j]!;
    const v = p.v[j]!;
    eq.gCoef += w1 * v - w2 * c * BigInt(val);
    eq.kCoef += w2 * v;
    for (const t of targets) {
      coefAlpha[t] = coefAlpha[t]! + w1 * c;
      coefBeta[t] = coefBeta[t]! + w2 * c;
    }
    eq.add(g.neg(h.a[j]!), w1);
    eq.add(g.neg(h.b[j]!), w2);
  });
}

function statement<P>(e: PreparedElection<P>, d: DecodedBallot<P>, index: number): ProofStatement<P> {
  if (index === 0) {
    return {
      tag: tags.total,
      electionHash: e.hash,
      voterKey: d.voterKey,
      index: 0,
      K: e.K,
      alpha: d.total.A,
      beta: d.total.B,
      values: e.totalValues,
    };
  }
  const s = d.selections[index - 1]!;
  return {
    tag: tags.selection,
    electionHash: e.hash,
    voterKey: d.voterKey,
    index,
    K: e.K,
    alpha: s.alpha,
    alphaBytes: s.alphaBytes,
    betaBytes: s.betaBytes,
    beta: s.beta,
    values: [0, 1],
  };
}

/**
 * Verifies `ballots` of one election; verdicts equal `verifyBallot`'s for each ballot
 * on its own (duplicates WITHIN the batch are the caller's: `isDuplicate` sees only
 * what was counted before the batch).
 */
export function verifyBallotBatch<P>(
  e: PreparedElection<P>,
  ballots: Ballot[],
  opts: BatchOptions = {},
): BatchResult {
  const g = e.group;
  const random = opts.random ?? cryptoRandomBytes;
  const verdicts: (BallotVerdict | null)[] = ballots.map(() => null);
  const batched: { at: number; d: DecodedBallot<P> }[] = [];
  const eq = new Equation<P>();
  const L = e.manifest.options.length;
  ballots.forEach((ballot, at) => {
    const onRollAt = opts.isOnRollAt;
    const checks = onRollAt ? { ...opts, isOnRoll: (pk: string) => onRollAt(pk, at) } : opts;
    const pre = precheckBallot(e, ballot, checks, true);
    if ('verdict' in pre) {
      verdicts[at] = pre.verdict;
      return;
    }
    const d = pre.decoded;
    const proofs = [...d.selections.map((s) => s.proof), d.total.proof];
    const usable = proofs.every((p) => p.hints !== null);
    if (!usable || !proofs.every((p, i) => hintsHashOk(e, statement(e, d, i === L ? 0 : i + 1), p))) {
      // No hints, or hints that do not hash to the challenge: the spec's own check decides.
      verdicts[at] = checkBallotProofs(e, d);
      return;
    }
    const coefAlpha = Array.from({ length: L }, () => 0n);
    const coefBeta = Array.from({ length: L }, () => 0n);
    d.selections.forEach((s, i) => {
      addProof(e, eq, [0, 1], s.proof, coefAlpha, coefBeta, [i], random);
    });
    addProof(
      e,
      eq,
      e.totalValues,
      d.total.proof,
      coefAlpha,
      coefBeta,
      d.selections.map((_, i) => i),
      random,
    );
    d.selections.forEach((s, i) => {
      eq.add(s.alpha, coefAlpha[i]!);
      eq.add(s.beta, coefBeta[i]!);
    });
    batched.push({ at, d });
  });
  let fellBack = false;
  if (batched.length > 0) {
    const result = g.msm([g.base, e.K, ...eq.points], [mod(eq.gCoef), mod(eq.kCoef), ...eq.scalars]);
    if (g.isIdentity(result)) {
      for (const { at } of batched) verdicts[at] = { valid: true };
    } else {
      fellBack = true;
      for (const { at, d } of batched) verdicts[at] = checkBallotProofs(e, d);
    }
  }
  return {
    verdicts: verdicts.map((v) => v ?? reject('malformed', 'not verified')),
    batched: fellBack ? 0 : batched.length,
    fellBack,
  };
}
