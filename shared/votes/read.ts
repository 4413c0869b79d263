import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError, badRequest } from '../errors';
import { makeVoteId, parseVoteId } from '../elections/model';
import type { ElectionRecord } from '../elections/store';
import { partitionKeys } from '../redis/keys';
import { type ChainHead, genesisHash } from './audit-chain';
import { CHOICE_SEPARATOR, choiceIds } from './ballot-choice';
import { compareStreamIds, isStreamId, U64_MAX } from './stream-ids';
import { countVerdicts } from './verdict';
import { decodeVoteLogEntry } from './vote-log';

export interface VoteView {
  voteId: string;
  electionId: string;
  status: 'pending' | 'finalized' | 'rejected';
  reason?: string;
  approvals: number;
  rejections: number;
  receipt: string;
  /** The ballot's public id in the audit log ('' for a vote cast before ballot ids). */
  ballotId: string;
  /** The receipt's secret nonce: only its voter is shown it. */
  receiptNonce?: string;
  /** The choice; not shown to anyone but its voter while the election hides its totals. */
  optionId?: string;
  /** The choices of a ballot that chose several ("choose up to m"), in ballot order; shown as `optionId` is. */
  optionIds?: string[];
  acceptedAt: string;
}

function fieldsToRecord(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

/**
 * A vote's status, derived rather than stored: a vote is finalized once the
 * partition's finalized position has passed it (rejected if listed as such), and its
 * approvals are the validators whose checkpoint passed it without an objection.
 */
export async function readVote(
  redis: Cluster,
  election: ElectionRecord,
  voteId: string,
  committee: string[],
  viewer: { sub: string; role: string },
): Promise<VoteView> {
  const { p, streamId } = parseVoteId(voteId);
  const tag = election.tags[p];
  if (!tag || !isStreamId(streamId)) throw new ApiError(404, 'not_found', 'Vote not found');
  const k = partitionKeys(tag);
  const [entries, finalized, checkpoints, rejectedReason, objections] = await Promise.all([
    redis.xrange(k.votes, streamId, streamId),
    redis.get(k.finalized),
    redis.hgetall(k.checkpoints),
    redis.hget(k.rejected, streamId),
    committee.length
      ? redis.hmget(k.objections, ...committee.map((v) => `${v}|${streamId}`))
      : Promise.resolve([]),
  ]);
  const entry = entries[0];
  if (!entry) throw new ApiError(404, 'not_found', 'Vote not found');
  const f = decodeVoteLogEntry(entry[1]);
  if (f.voter !== viewer.sub && viewer.role !== 'admin' && viewer.role !== 'auditor') {
    throw new ApiError(
      403,
      'forbidden',
      'Only the voter who cast this vote, an admin or an auditor may read it',
    );
  }
  const { approvals, reasons } = countVerdicts(
    streamId,
    committee.map((v) => checkpoints[v]),
    objections,
  );
  const own = f.voter === viewer.sub;
  // Hidden totals are hidden everywhere: an admin or auditor reading votes one by one
  // must not be able to add them up before close.
  // A secret ballot has no option to show: its receipt is its tracking code.
  const showOption = election.ballot !== 'secret' && (own || !totalsHidden(election));
  const done = finalized !== null && compareStreamIds(finalized, streamId) >= 0;
  const status = !done ? 'pending' : rejectedReason !== null ? 'rejected' : 'finalized';
  return {
    voteId,
    electionId: election.id,
    status,
    ...(status === 'rejected' ? { reason: rejectedReason ?? 'rejected' } : {}),
    approvals,
    rejections: reasons.length,
    receipt: f.receipt,
    ballotId: f.ballotId,
    ...(own && f.nonce ? { receiptNonce: f.nonce } : {}),
    ...(!showOption
      ? {}
      : f.option.includes(CHOICE_SEPARATOR)
        ? { optionIds: choiceIds(f.option) }
        : { optionId: f.option }),
    acceptedAt: new Date(f.at).toISOString(),
  };
}

/**
 * True while an election hides its totals (`hideTotalsUntilClosed`, not closed yet):
 * then no read shows a count per option, a ballot's option, or anything computed from
 * options (audit entries, their hashes, chain heads: with few options a hash is
 * brute-forced back to the option in a few tries).
 */
export function totalsHidden(e: Pick<ElectionRecord, 'hideTotalsUntilClosed' | 'status'>): boolean {
  return e.hideTotalsUntilClosed && e.status !== 'closed';
}

export type { ChainHead } from './audit-chain';

export interface Results {
  electionId: string;
  status: string;
  /** Per option: the weights of the counted ballots that chose it (1 each without weights). */
  totals: Record<string, number>;
  /** Ballots counted. With "choose up to m" ballots or weights the totals add up to more. */
  ballots: number;
  finalized: number;
  pending: number;
  rejected: number;
  final: boolean;
  asOf: string;
  hidden?: boolean;
  /**
   * Per partition ("0".."P-1"): the head of its audit chain (the genesis hash while it
   * has no entry). A verifier compares the log with it, so a log rewritten consistently
   * (every hash recomputed) still differs from what was published. Absent while hidden.
   */
  chainHeads?: Record<string, ChainHead>;
}

/** Sums every partition's tally (one round trip per partition, issued together). */
export async function readResults(redis: Cluster, clock: Clock, e: ElectionRecord): Promise<Results> {
  const parts = await Promise.all(
    e.tags.map(async (t) => {
      const k = partitionKeys(t);
      const [tally, stats, len] = await Promise.all([
        redis.hgetall(k.tally),
        redis.hgetall(k.stats),
        redis.xlen(k.votes),
      ]);
      return { tally, stats, len };
    }),
  );
  const totals: Record<string, number> = Object.fromEntries(e.options.map((o) => [o.id, 0]));
  let finalized = 0;
  let rejected = 0;
  let submitted = 0;
  for (const part of parts) {
    for (const [opt, n] of Object.entries(part.tally)) totals[opt] = (totals[opt] ?? 0) + Number(n);
    finalized += Number(part.stats['finalized'] ?? 0);
    rejected += Number(part.stats['rejected'] ?? 0);
    submitted += part.len;
  }
  const pending = Math.max(0, submitted - finalized - rejected);
  const hidden = totalsHidden(e);
  const chainHeads: Record<string, ChainHead> = {};
  if (!hidden) {
    parts.forEach((part, p) => {
      const entries = Number(part.stats['entries'] ?? 0);
      chainHeads[String(p)] = {
        hash: entries > 0 ? (part.stats['head'] ?? '') : genesisHash(e.id, p),
        entries,
      };
    });
  }
  return {
    electionId: e.id,
    status: e.status,
    totals: hidden ? {} : totals,
    // Every counted ballot is a finalized vote: the same count, named for what totals sum.
    ballots: finalized,
    finalized,
    pending,
    rejected,
    final: e.status === 'closed' && pending === 0,
    asOf: new Date(clock.now()).toISOString(),
    ...(hidden ? { hidden: true } : { chainHeads }),
  };
}

/**
 * One published audit entry (docs/architecture.md "Audit log encoding"). It names the
 * ballot by its random public id only: no vote id (which carries the voter's partition
 * key and the millisecond of the vote) and no timestamp.
 */
export interface AuditEntry {
  partition: number;
  /** Position in the partition's chain, 1-based. */
  seq: number;
  ballotId: string;
  receipt: string;
  option: string;
  outcome: 'counted' | 'rejected';
  reason: string;
  /**
   * The ballot's weight, only when it is not 1 (a voter weighted on the roll): each
   * option it chose counts this many times, and the entry's hash covers it.
   */
  weight?: number;
  prev: string;
  hash: string;
  /**
   * Admins only (`operator` reads): the private vote id and the finalization time, for
   * reconciling a load run. Not covered by the hash, never in the public log.
   */
  voteId?: string;
  finalizedAt?: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
  /** Present (true) while the election hides its totals: the log is published at close. */
  hidden?: boolean;
}

/** Admins' fields of an entry (`operator` reads): never in the public log, not hashed. */
export function operatorFieldsOf(
  e: ElectionRecord,
  p: number,
  f: Record<string, string>,
  operator: boolean,
): { voteId?: string; finalizedAt?: string } {
  // The stored `vote` and `at` are the operator's (see finalize-votes.lua), not the public's.
  return operator ? { voteId: makeVoteId(e.id, p, f['vote'] ?? ''), finalizedAt: f['at'] ?? '' } : {};
}

/**
 * One page of the audit log, partition by partition, each stored entry made into a
 * published one by `entryOf`; the cursor is "<partition>:<last id>" (entry ids carry no
 * time, see finalize-votes.lua).
 */
export async function readAuditRows<T>(
  redis: Cluster,
  e: ElectionRecord,
  cursor: string | undefined,
  limit: number,
  entryOf: (f: Record<string, string>, partition: number) => T,
): Promise<{ entries: T[]; nextCursor: string | null; hidden?: true }> {
  let p = 0;
  let after = '';
  if (cursor) {
    const m = /^(\d{1,4}):(\d{1,20}-\d{1,20})?$/.exec(cursor);
    // An exclusive start at the largest id would overflow in Redis: no cursor of ours is that.
    const last = m?.[2];
    if (
      !m ||
      Number(m[1]) >= e.tags.length ||
      (last !== undefined && (!isStreamId(last) || last === `${U64_MAX}-${U64_MAX}`))
    ) {
      throw badRequest('cursor is not valid', { field: 'cursor' });
    }
    p = Number(m[1]);
    after = last ?? '';
  }
  // An open entry carries its ballot's option, and its hash commits to it: while the
  // totals are hidden, none is published (after a valid cursor check, so a bad one still
  // gets 400). A secret election that hides its totals hides its log alike.
  if (totalsHidden(e)) return { entries: [], nextCursor: null, hidden: true };
  const entries: T[] = [];
  const cursors: string[] = [];
  while (p < e.tags.length && entries.length < limit) {
    const k = partitionKeys(e.tags[p]!);
    const start = after ? `(${after}` : '-';
    const rows = await redis.xrange(k.audit, start, '+', 'COUNT', limit - entries.length);
    for (const [id, fields] of rows) {
      entries.push(entryOf(fieldsToRecord(fields), p));
      cursors.push(id);
    }
    if (entries.length < limit) {
      p++;
      after = '';
    } else {
      after = cursors[cursors.length - 1]!;
    }
  }
  const nextCursor = p < e.tags.length ? `${p}:${after}` : null;
  return { entries, nextCursor };
}

/**
 * One page of an open election's audit log (`GET /elections/{id}/audit`; a secret
 * election's is `readSecretAuditPage` in shared/secret/audit-page.ts). `operator` (an admin) also gets each
 * entry's private vote id and finalization time.
 */
export async function readAuditPage(
  redis: Cluster,
  e: ElectionRecord,
  cursor: string | undefined,
  limit: number,
  operator = false,
): Promise<AuditPage> {
  return readAuditRows(redis, e, cursor, limit, (f, p) => ({
    partition: p,
    seq: Number(f['seq'] ?? 0),
    ballotId: f['ballot'] ?? '',
    receipt: f['receipt'] ?? '',
    option: f['option'] ?? '',
    outcome: f['outcome'] === 'rejected' ? 'rejected' : 'counted',
    reason: f['reason'] ?? '',
    ...(f['weight'] === undefined ? {} : { weight: Number(f['weight']) }),
    prev: f['prev'] ?? '',
    hash: f['hash'] ?? '',
    ...operatorFieldsOf(e, p, f, operator),
  }));
}
