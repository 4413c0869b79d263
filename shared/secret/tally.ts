import type { Cluster } from 'ioredis';
import {
  type Ciphertext,
  type DecryptionShare,
  type EncryptedTally,
  checkDecryptionShare,
  decodePoint,
  decryptTotals,
  defaultGroup,
  emptyTally,
  encodePoint,
  fromHex,
  publicShareKey,
} from '../ballots';
import type { Clock } from '../clock';
import { ApiError, badRequest } from '../errors';
import type { ElectionRecord } from '../elections/store';
import { partitionKeys, secretElectionKeys } from '../redis/keys';
import { type Results, readResults } from '../votes/read';
import { CeremonyStore } from './ceremony';
import { parseDecryptionShare } from './request-bodies';
import { manifestOf } from './election-manifest';
import { hashCas } from './hash-cas';

/**
 * The tally of a secret election (BALLOTS.md §5): the encrypted totals are the sum of
 * every partition's running tally; trustees post decryption shares (each proof checked
 * with X_j computed from the commitments); with k valid shares the server combines them
 * (Lagrange, then baby-step giant-step bounded by the turnout) and publishes the totals.
 */

/** GET /elections/{id}/tally. */
export interface TallyView extends EncryptedTally {
  electionId: string;
  /** True once the election is closed and every ballot finalized: shares may be computed. */
  final: boolean;
}

/** The published decryption (set once, when k valid shares are in). */
export interface PublishedDecryption {
  used: number[];
  totals: number[];
}

/** Sums every partition's running encrypted tally and counted ballots. */
export async function readEncryptedTally(redis: Cluster, e: ElectionRecord): Promise<EncryptedTally> {
  const g = defaultGroup;
  const L = e.options.length;
  const parts = await Promise.all(
    e.tags.map(async (t) => {
      const k = partitionKeys(t);
      const [tally, counted] = await Promise.all([redis.get(k.etally), redis.hget(k.stats, 'finalized')]);
      return { tally: tally ? (JSON.parse(tally) as Ciphertext[]) : null, counted: Number(counted ?? 0) };
    }),
  );
  const alpha = Array.from({ length: L }, () => g.identity);
  const beta = Array.from({ length: L }, () => g.identity);
  let countedBallots = 0;
  for (const part of parts) {
    countedBallots += part.counted;
    if (!part.tally) continue;
    part.tally.forEach((ct, l) => {
      alpha[l] = g.add(alpha[l]!, decodePoint(g, ct.alpha));
      beta[l] = g.add(beta[l]!, decodePoint(g, ct.beta));
    });
  }
  const encrypted =
    countedBallots === 0 && parts.every((p) => !p.tally)
      ? emptyTally(g, L)
      : alpha.map((a, l) => ({ alpha: encodePoint(g, a), beta: encodePoint(g, beta[l]!) }));
  return { encrypted, countedBallots };
}

/** The tally with whether it is final (closed and drained). */
export async function tallyView(redis: Cluster, clock: Clock, e: ElectionRecord): Promise<TallyView> {
  manifestOf(e);
  const [tally, results] = await Promise.all([readEncryptedTally(redis, e), readResults(redis, clock, e)]);
  return { electionId: e.id, ...tally, final: results.final };
}

/** Every stored (valid) decryption share, by trustee index. */
export async function readShares(redis: Cluster, e: ElectionRecord): Promise<DecryptionShare[]> {
  const all = await redis.hgetall(secretElectionKeys(e.id).shares);
  return Object.keys(all)
    .map(Number)
    .sort((a, b) => a - b)
    .map((j) => JSON.parse(all[String(j)]!) as DecryptionShare);
}

/** The published decryption, or null while fewer than k valid shares are in. */
export async function readDecryption(redis: Cluster, e: ElectionRecord): Promise<PublishedDecryption | null> {
  const raw = await redis.get(secretElectionKeys(e.id).decryption);
  return raw ? (JSON.parse(raw) as PublishedDecryption) : null;
}

/** The body as trustee `j`'s share (its schema first; `trustee`, if sent, must be `j`). */
function shareOf(body: unknown, j: number): DecryptionShare {
  const b = parseDecryptionShare(body);
  if (b.trustee !== undefined && b.trustee !== j) {
    throw badRequest(`trustee must be your index (${j})`, { field: 'trustee' });
  }
  return {
    trustee: j,
    shareKey: b.shareKey,
    values: b.values.map((v) => ({ share: v.share, proof: { c: v.proof.c, v: v.proof.v } })),
  };
}

/**
 * 403 `trustee_disqualified` for trustee `j`, left out of the qualified set Q by the
 * ceremony: its share cannot count (BALLOTS.md §3: the tally is decrypted by Q). The
 * details say why, as the ceremony decided it: `no_commitments` (it never published
 * any) or `upheld_complaint` (with the trustees whose complaints were upheld); else
 * `not_qualified`.
 */
function disqualified(
  j: number,
  ceremony: {
    complaints: { from: number; against: number; upheld: boolean }[];
    commitments: { trustee: number }[];
  },
): ApiError {
  const complainants = ceremony.complaints
    .filter((c) => c.against === j && c.upheld)
    .map((c) => c.from)
    .sort((a, b) => a - b);
  const [why, details] = !ceremony.commitments.some((c) => c.trustee === j)
    ? [
        'You were disqualified in the key ceremony (you published no commitments)',
        { reason: 'no_commitments' },
      ]
    : complainants.length > 0
      ? [
          `You were disqualified in the key ceremony (upheld complaint(s) from trustee(s) ${complainants.join(', ')})`,
          { reason: 'upheld_complaint', complainants },
        ]
      : ['You are not in the qualified set of the key ceremony', { reason: 'not_qualified' }];
  return new ApiError(
    403,
    'trustee_disqualified',
    `${why}: your decryption share cannot count, and nothing was stored`,
    { trustee: j, ...details },
  );
}

/**
 * Trustee `j` submits its decryption share of the final tally. The proof of every
 * option is checked with `X_j` computed from the qualified commitments: 422
 * `bad_decryption_proof` (naming the option) or `wrong_share_key`. With k valid shares
 * the totals are combined and published (once). A trustee outside Q (disqualified in
 * the ceremony) is refused first, whatever it sends: 403 `trustee_disqualified`.
 */
export async function submitDecryptionShare(
  redis: Cluster,
  clock: Clock,
  e: ElectionRecord,
  j: number,
  body: unknown,
): Promise<{ accepted: true; decryption: PublishedDecryption | null; waitingFor: number }> {
  const ceremony = e.ceremony === 'done' ? await new CeremonyStore(redis).outcome(e) : null;
  if (ceremony && !ceremony.qualified.includes(j)) throw disqualified(j, ceremony);
  const share = shareOf(body, j);
  const view = await tallyView(redis, clock, e);
  if (e.status !== 'closed' || !view.final) {
    throw new ApiError(
      409,
      'tally_not_final',
      'The tally is final only once the election is closed and drained',
    );
  }
  const g = defaultGroup;
  const { commitments, qualified } = ceremony ?? (await new CeremonyStore(redis).outcome(e));
  const entries = commitments.filter((c) => qualified.includes(c.trustee));
  const X = publicShareKey(g, entries, j);
  const fault = checkDecryptionShare(g, fromHex(e.electionHash!, 32), view.encrypted, share, X);
  if (fault?.check === 'malformed') throw badRequest(`The share is malformed: ${fault.message}`);
  if (fault?.check === 'wrong_share_key') throw new ApiError(422, 'wrong_share_key', fault.message);
  if (fault?.check === 'bad_decryption_proof') {
    throw new ApiError(422, 'bad_decryption_proof', fault.message, { option: fault.option });
  }
  const json = JSON.stringify(share);
  const r = await hashCas(redis, secretElectionKeys(e.id).shares, String(j), '', json);
  if (!r.written && r.current !== json)
    throw new ApiError(409, 'already_shared', 'You already posted another share');
  const decryption = await combineIfReady(redis, e, view);
  const have = (await readShares(redis, e)).length;
  return { accepted: true, decryption, waitingFor: decryption ? 0 : Math.max(0, e.threshold! - have) };
}

/** With k valid shares: the first k by index, Lagrange + BSGS, published once (SET NX). */
async function combineIfReady(
  redis: Cluster,
  e: ElectionRecord,
  tally: EncryptedTally,
): Promise<PublishedDecryption | null> {
  const existing = await readDecryption(redis, e);
  if (existing) return existing;
  const shares = await readShares(redis, e);
  const k = e.threshold!;
  if (shares.length < k) return null;
  const used = shares.slice(0, k);
  const totals = decryptTotals(defaultGroup, tally.encrypted, tally.countedBallots, used);
  const published: PublishedDecryption = { used: used.map((s) => s.trustee), totals };
  await redis.set(secretElectionKeys(e.id).decryption, JSON.stringify(published), 'NX');
  return readDecryption(redis, e);
}

/** The results of a secret election: totals only once decrypted, else what it waits for. */
export async function secretResults(
  redis: Cluster,
  e: ElectionRecord,
  base: Results,
): Promise<Results & { decryption: { state: string; shares: number; threshold: number; message: string } }> {
  const [decryption, shares] = await Promise.all([readDecryption(redis, e), readShares(redis, e)]);
  const k = e.threshold!;
  if (decryption) {
    return {
      ...base,
      totals: Object.fromEntries(e.options.map((o, l) => [o.id, decryption.totals[l] ?? 0])),
      decryption: {
        state: 'published',
        shares: shares.length,
        threshold: k,
        message: 'decrypted by trustees ' + decryption.used.join(', '),
      },
    };
  }
  const missing = k - shares.length;
  return {
    ...base,
    totals: {},
    decryption: {
      state: 'waiting',
      shares: shares.length,
      threshold: k,
      message: base.final
        ? `waiting for ${missing} more trustee${missing === 1 ? '' : 's'}`
        : 'the totals are decrypted by the trustees after the election closes',
    },
  };
}
