import type { Cluster } from 'ioredis';
import {
  type CommitmentEntry,
  type Complaint,
  type SealedShare,
  checkCommitmentEntry,
  checkShare,
  decodePublicKey,
  defaultGroup,
  finishCeremony,
  toHex,
} from '../ballots';
import { ApiError, badRequest } from '../errors';
import type { Election } from '../elections/model';
import { defineScript, reply, runScript } from '../redis/scripts';
import { electionKeys, secretElectionKeys } from '../redis/keys';
import { manifestOf } from './election-manifest';
import {
  parseCommitmentRequest,
  parseComplaintRequest,
  parseRevealRequest,
  parseSharesRequest,
} from './request-bodies';
import { hashCas } from './hash-cas';

/**
 * The key ceremony relay (BALLOTS.md §3, docs/architecture.md "Secret ballots"). The
 * server stores and checks only public values: commitments with their proofs of
 * knowledge, sealed shares it cannot open, complaints, and a share revealed in the clear
 * only when its dealer must answer a complaint. It never sees a trustee's secret.
 */

/** A trustee's published commitments plus its share-transport public key (A9). */
export interface PublishedCommitment extends CommitmentEntry {
  transportKey: string;
}

/** A complaint as the ceremony shows it while open (answered once the dealer revealed). */
export interface ComplaintView {
  from: number;
  against: number;
  answered: boolean;
  /** Only once answered: whether the revealed share failed the check. */
  upheld?: boolean;
}

/** GET /elections/{id}/ceremony. */
export interface CeremonyView {
  electionId: string;
  state: string;
  threshold: number;
  trustees: { index: number; id: string; committed: boolean; dealt: boolean; acknowledged: boolean }[];
  commitments: PublishedCommitment[];
  complaints: ComplaintView[];
  /** Set once finished: the complaints as decided, Q, K and the election hash. */
  decided?: Complaint[];
  /** Only when `failed`: why, naming the trustees disqualified, and what the admin can do. */
  failure?: string;
  qualified?: number[];
  jointKey?: string | null;
  electionHash?: string | null;
}

const finishScript = defineScript('ceremonyFinish', {
  keys: 1,
  parse: (r) => {
    const a = reply.array('ceremonyFinish', r, 2);
    return { ok: reply.integer('ceremonyFinish', a[0]) === 1, state: reply.string('ceremonyFinish', a[1]) };
  },
});

/** The caller's trustee index in `e`, or 403 `not_a_trustee`. */
export function trusteeIndexOf(e: Election, sub: string): number {
  manifestOf(e);
  const t = e.trustees?.find((x) => x.id === sub);
  if (!t) throw new ApiError(403, 'not_a_trustee', 'You are not a trustee of this election');
  return t.index;
}

function phase(e: Election, want: string, what: string): void {
  if (e.ceremony !== want) {
    throw new ApiError(
      409,
      'ceremony_phase',
      `The ceremony is in state "${e.ceremony}"; ${what} needs state "${want}"`,
      { state: e.ceremony },
    );
  }
}

/** `v` (an integer ≥ 1, as the body's schema checked) as a trustee index of `e`; else 400. */
function trusteeIndex(e: Election, v: number, what: string, field = what): number {
  const n = e.trustees?.length ?? 0;
  if (v > n) throw badRequest(`${what} must be a trustee index from 1 to ${n}`, { field });
  return v;
}

/**
 * Why a finished ceremony failed, for the admin: who was disqualified (no commitments,
 * or an upheld complaint) and that the election can never open. A failed ceremony is
 * final (its key material is discarded), so the way on is a new election.
 */
function failureMessage(
  e: Election,
  commitments: Map<number, PublishedCommitment>,
  decided: Complaint[],
): string {
  const all = e.trustees!.map((t) => t.index);
  const silent = all.filter((i) => !commitments.has(i));
  const accused = [...new Set(decided.filter((c) => c.upheld).map((c) => c.against))]
    .filter((i) => !silent.includes(i))
    .sort((a, b) => a - b);
  const qualified = all.length - silent.length - accused.length;
  const why = [
    ...(silent.length ? [`no commitments from trustee(s) ${silent.join(', ')}`] : []),
    ...(accused.length ? [`upheld complaints against trustee(s) ${accused.join(', ')}`] : []),
  ].join('; ');
  return (
    `The key ceremony failed: ${qualified} trustee(s) qualified, fewer than the threshold ` +
    `${e.threshold} (${why}). This election can never open; create a new election.`
  );
}

/** The ceremony's Redis state and every step of it. */
export class CeremonyStore {
  constructor(private readonly redis: Cluster) {}

  private async commitmentsOf(e: Election): Promise<Map<number, PublishedCommitment>> {
    const all = await this.redis.hgetall(secretElectionKeys(e.id).commitments);
    return new Map(Object.entries(all).map(([i, v]) => [Number(i), JSON.parse(v) as PublishedCommitment]));
  }

  private async sealedOf(e: Election): Promise<Map<number, SealedShare[]>> {
    const all = await this.redis.hgetall(secretElectionKeys(e.id).sealed);
    return new Map(Object.entries(all).map(([i, v]) => [Number(i), JSON.parse(v) as SealedShare[]]));
  }

  /**
   * Trustee `i` publishes `A_{i,0..k−1}`, their proofs and its transport key. Every
   * proof is checked with the core; a bad one is refused (422 `bad_commitment_proof`
   * naming the coefficient). Write-once: the same entry again is a no-op, another is 409.
   */
  async publishCommitment(e: Election, i: number, body: unknown): Promise<{ state: string }> {
    phase(e, 'commitments', 'publishing commitments');
    const b = parseCommitmentRequest(body);
    const entry: CommitmentEntry = { trustee: i, coefficients: b.coefficients, proofs: b.proofs };
    const fault = checkCommitmentEntry(defaultGroup, manifestOf(e), entry);
    if (fault?.check === 'malformed')
      throw badRequest(`commitments: ${fault.message}`, { field: 'coefficients' });
    if (fault?.check === 'bad_commitment_proof') {
      throw new ApiError(
        422,
        'bad_commitment_proof',
        `The proof of knowledge of coefficient ${fault.coefficient} does not verify`,
        { coefficient: fault.coefficient },
      );
    }
    const tk = b.transportKey;
    try {
      decodePublicKey(defaultGroup, tk);
    } catch (err) {
      throw badRequest(`transportKey must be a ristretto255 public key (${(err as Error).message})`, {
        field: 'transportKey',
      });
    }
    const published: PublishedCommitment = {
      trustee: i,
      coefficients: entry.coefficients.map(String),
      proofs: entry.proofs.map((p) => ({ c: p.c, v: p.v })),
      transportKey: tk,
    };
    const keys = secretElectionKeys(e.id);
    const json = JSON.stringify(published);
    const r = await hashCas(this.redis, keys.commitments, String(i), '', json);
    if (!r.written && r.current !== json) {
      throw new ApiError(409, 'already_committed', 'You already published other commitments');
    }
    const n = e.trustees!.length;
    if ((await this.redis.hlen(keys.commitments)) === n) {
      await hashCas(this.redis, electionKeys(e.id).meta, 'ceremony', 'commitments', 'shares');
      return { state: 'shares' };
    }
    return { state: 'commitments' };
  }

  /**
   * Trustee `i` posts one sealed share for every other trustee, all at once (once every
   * commitment is in, so every transport key is known). Write-once like commitments.
   */
  async dealShares(e: Election, i: number, body: unknown): Promise<{ dealt: number }> {
    phase(e, 'shares', 'posting sealed shares');
    const list = parseSharesRequest(body).shares;
    const others = e.trustees!.map((t) => t.index).filter((j) => j !== i);
    if (list.length !== others.length) {
      throw badRequest(`shares must list one sealed share for each of the ${others.length} other trustees`, {
        field: 'shares',
      });
    }
    const sealed: SealedShare[] = list.map((s, n) => ({
      from: i,
      to: trusteeIndex(e, s.to, `shares[${n}].to`, 'shares'),
      nonce: s.nonce,
      ciphertext: s.ciphertext,
    }));
    const targets = sealed.map((s) => s.to).sort((a, b) => a - b);
    if (targets.join(',') !== others.join(',')) {
      throw badRequest('shares must go to every other trustee exactly once', { field: 'shares' });
    }
    const json = JSON.stringify(sealed);
    const r = await hashCas(this.redis, secretElectionKeys(e.id).sealed, String(i), '', json);
    if (!r.written && r.current !== json)
      throw new ApiError(409, 'already_dealt', 'You already posted other shares');
    return { dealt: sealed.length };
  }

  /** The sealed shares addressed to trustee `j`, with every dealer's transport key. */
  async sharesFor(
    e: Election,
    j: number,
  ): Promise<{ shares: SealedShare[]; transportKeys: Record<string, string> }> {
    manifestOf(e);
    const [sealed, commitments] = await Promise.all([this.sealedOf(e), this.commitmentsOf(e)]);
    const shares = [...sealed.values()]
      .flatMap((l) => l.filter((s) => s.to === j))
      .sort((a, b) => a.from - b.from);
    const transportKeys: Record<string, string> = {};
    for (const [i, c] of commitments) transportKeys[String(i)] = c.transportKey;
    return { shares, transportKeys };
  }

  /** Trustee `j` says every share it received verified (needs all of them to be in). */
  async acknowledge(e: Election, j: number): Promise<void> {
    phase(e, 'shares', 'acknowledging');
    const { shares } = await this.sharesFor(e, j);
    const missing = e
      .trustees!.map((t) => t.index)
      .filter((i) => i !== j && !shares.some((s) => s.from === i));
    if (missing.length) {
      throw new ApiError(409, 'shares_missing', `No share yet from trustee(s) ${missing.join(', ')}`, {
        missing,
      });
    }
    await this.redis.hset(secretElectionKeys(e.id).acks, String(j), '1');
  }

  /** Trustee `j` complains against dealer `i`: `i` must then reveal `s_{i→j}` in the clear. */
  async complain(e: Election, j: number, body: unknown): Promise<void> {
    phase(e, 'shares', 'complaining');
    const i = trusteeIndex(e, parseComplaintRequest(body).against, 'against');
    if (i === j) throw badRequest('A trustee cannot complain against itself', { field: 'against' });
    const r = await hashCas(this.redis, secretElectionKeys(e.id).complaints, `${j}|${i}`, '', '{}');
    if (!r.written)
      throw new ApiError(409, 'already_complained', `You already complained against trustee ${i}`);
  }

  /**
   * Dealer `i` answers `j`'s complaint by revealing `s_{i→j}`; the server checks it
   * against `i`'s commitments: valid → not upheld, invalid → upheld (both final).
   */
  async reveal(e: Election, i: number, body: unknown): Promise<{ upheld: boolean }> {
    phase(e, 'shares', 'answering a complaint');
    const { to, share } = parseRevealRequest(body);
    const j = trusteeIndex(e, to, 'to');
    const keys = secretElectionKeys(e.id);
    const field = `${j}|${i}`;
    const current = await this.redis.hget(keys.complaints, field);
    if (current === null)
      throw new ApiError(409, 'no_complaint', `Trustee ${j} has no complaint against you`);
    const mine = (await this.commitmentsOf(e)).get(i)!;
    const upheld = !checkShare(defaultGroup, mine, j, share);
    const r = await hashCas(
      this.redis,
      keys.complaints,
      field,
      '{}',
      JSON.stringify({ revealed: share, upheld }),
    );
    if (!r.written) throw new ApiError(409, 'already_answered', 'This complaint was already answered');
    return { upheld };
  }

  /**
   * Admin closes the ceremony: unanswered complaints are upheld, a dealer that posted no
   * shares gets an upheld complaint from each other trustee (it dealt to no one), then
   * Q, K and the election hash (core `finishCeremony`). |Q| < k → state `failed`.
   */
  async finish(e: Election): Promise<CeremonyView> {
    if (e.ceremony === 'done' || e.ceremony === 'failed') return this.view(e);
    phase(e, 'shares', 'finishing');
    const manifest = manifestOf(e);
    const keys = secretElectionKeys(e.id);
    const [commitments, sealed, rawComplaints] = await Promise.all([
      this.commitmentsOf(e),
      this.sealedOf(e),
      this.redis.hgetall(keys.complaints),
    ]);
    // The revealed share goes into the record with its complaint (docs/election-record.md
    // A10): without it a verifier could only take the server's word for `upheld`.
    const complaints: Complaint[] = Object.entries(rawComplaints).map(([f, v]) => {
      const [from, against] = f.split('|').map(Number) as [number, number];
      const answer = JSON.parse(v) as { upheld?: boolean; revealed?: string };
      return {
        from,
        against,
        upheld: answer.upheld ?? true,
        ...(answer.revealed === undefined ? {} : { revealedShare: answer.revealed }),
      };
    });
    const indices = manifest.trustees.map((t) => t.index);
    for (const i of indices) {
      if (sealed.has(i)) continue;
      for (const j of indices) {
        if (j !== i && !complaints.some((c) => c.from === j && c.against === i)) {
          complaints.push({ from: j, against: i, upheld: true });
        }
      }
    }
    complaints.sort((a, b) => a.against - b.against || a.from - b.from);
    const entries = indices
      .filter((i) => commitments.has(i))
      .map((i) => {
        const { transportKey: _t, ...entry } = commitments.get(i)!;
        return entry;
      });
    let fields: string[];
    let state: 'done' | 'failed';
    try {
      const done = finishCeremony(defaultGroup, manifest, entries, complaints);
      state = 'done';
      fields = [
        'qualified',
        JSON.stringify(done.ceremony.qualified),
        'complaints',
        JSON.stringify(complaints),
        'jointKey',
        done.ceremony.jointKey,
        'electionHash',
        toHex(done.electionHash),
      ];
    } catch {
      state = 'failed';
      fields = ['qualified', '[]', 'complaints', JSON.stringify(complaints)];
    }
    const r = await runScript(
      this.redis,
      finishScript,
      [electionKeys(e.id).meta],
      ['shares', state, ...fields],
    );
    if (!r.ok && r.state !== 'done' && r.state !== 'failed') {
      throw new ApiError(
        409,
        'invalid_state',
        'The election is no longer a draft; its ceremony cannot finish',
      );
    }
    const after = await this.redis.hgetall(electionKeys(e.id).meta);
    return this.view({
      ...e,
      ceremony: after['ceremony'] as Election['ceremony'],
      jointKey: after['jointKey'] || null,
      electionHash: after['electionHash'] || null,
    });
  }

  /** The decided complaints and Q once finished (the record's `ceremony`). */
  async outcome(
    e: Election,
  ): Promise<{ complaints: Complaint[]; qualified: number[]; commitments: CommitmentEntry[] }> {
    const [meta, commitments] = await Promise.all([
      this.redis.hmget(electionKeys(e.id).meta, 'complaints', 'qualified'),
      this.commitmentsOf(e),
    ]);
    return {
      complaints: JSON.parse(meta[0] ?? '[]'),
      qualified: JSON.parse(meta[1] ?? '[]'),
      commitments: [...commitments.keys()]
        .sort((a, b) => a - b)
        .map((i) => {
          const { transportKey: _t, ...entry } = commitments.get(i)!;
          return entry;
        }),
    };
  }

  /** The ceremony as anyone may see it (public values only). */
  async view(e: Election): Promise<CeremonyView> {
    manifestOf(e);
    const keys = secretElectionKeys(e.id);
    const [commitments, sealed, acks, complaints, meta] = await Promise.all([
      this.commitmentsOf(e),
      this.sealedOf(e),
      this.redis.hgetall(keys.acks),
      this.redis.hgetall(keys.complaints),
      this.redis.hmget(
        electionKeys(e.id).meta,
        'complaints',
        'qualified',
        'ceremony',
        'jointKey',
        'electionHash',
      ),
    ]);
    const state = meta[2] ?? e.ceremony ?? 'commitments';
    const finished = state === 'done' || state === 'failed';
    return {
      electionId: e.id,
      state,
      threshold: e.threshold!,
      trustees: e.trustees!.map((t) => ({
        index: t.index,
        id: t.id,
        committed: commitments.has(t.index),
        dealt: sealed.has(t.index),
        acknowledged: acks[String(t.index)] === '1',
      })),
      commitments: [...commitments.keys()].sort((a, b) => a - b).map((i) => commitments.get(i)!),
      complaints: Object.entries(complaints).map(([f, v]) => {
        const [from, against] = f.split('|').map(Number) as [number, number];
        const answer = JSON.parse(v) as { upheld?: boolean };
        return {
          from,
          against,
          answered: answer.upheld !== undefined,
          ...(answer.upheld === undefined ? {} : { upheld: answer.upheld }),
        };
      }),
      ...(finished
        ? {
            decided: JSON.parse(meta[0] ?? '[]') as Complaint[],
            qualified: JSON.parse(meta[1] ?? '[]') as number[],
            jointKey: meta[3] || null,
            electionHash: meta[4] || null,
          }
        : {}),
      ...(state === 'failed'
        ? { failure: failureMessage(e, commitments, JSON.parse(meta[0] ?? '[]') as Complaint[]) }
        : {}),
    };
  }
}
