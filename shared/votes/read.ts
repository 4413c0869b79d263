import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError, badRequest } from '../errors';
import { parseVoteId } from '../elections/model';
import type { ElectionRecord } from '../elections/store';
import { partitionKeys } from '../redis/keys';
import { decodeVoteLogEntry } from './vote-log';

/** Compares two stream ids ("ms-seq") numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}

const U64_MAX = 18446744073709551615n;

/**
 * True when "ms-seq" is a stream id Redis accepts (both parts fit in 64 bits). The id
 * patterns allow 20 digits, and Redis refuses anything larger with an error, so an id
 * from a client is checked before it reaches a command (else a 500, not a 404/400).
 */
export function isStreamId(id: string): boolean {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  return !!m && BigInt(m[1]!) <= U64_MAX && BigInt(m[2]!) <= U64_MAX;
}

export interface VoteView {
  voteId: string;
  electionId: string;
  status: 'pending' | 'finalized' | 'rejected';
  reason?: string;
  approvals: number;
  rejections: number;
  receipt: string;
  optionId: string;
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
  let approvals = 0;
  let rejections = 0;
  committee.forEach((v, i) => {
    const cp = checkpoints[v];
    if (objections[i]) rejections++;
    else if (cp && compareStreamIds(cp, streamId) >= 0) approvals++;
  });
  const done = finalized !== null && compareStreamIds(finalized, streamId) >= 0;
  const status = !done ? 'pending' : rejectedReason !== null ? 'rejected' : 'finalized';
  return {
    voteId,
    electionId: election.id,
    status,
    ...(status === 'rejected' ? { reason: rejectedReason ?? 'rejected' } : {}),
    approvals,
    rejections,
    receipt: f.receipt,
    optionId: f.option,
    acceptedAt: new Date(f.at).toISOString(),
  };
}

export interface Results {
  electionId: string;
  status: string;
  totals: Record<string, number>;
  finalized: number;
  pending: number;
  rejected: number;
  final: boolean;
  asOf: string;
  hidden?: boolean;
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
  const hidden = e.hideTotalsUntilClosed && e.status !== 'closed';
  return {
    electionId: e.id,
    status: e.status,
    totals: hidden ? {} : totals,
    finalized,
    pending,
    rejected,
    final: e.status === 'closed' && pending === 0,
    asOf: new Date(clock.now()).toISOString(),
    ...(hidden ? { hidden: true } : {}),
  };
}

export interface AuditEntry {
  partition: number;
  id: string;
  vote: string;
  voteId: string;
  receipt: string;
  option: string;
  outcome: 'counted' | 'rejected';
  reason: string;
  prev: string;
  hash: string;
  at: string;
}

/** One page of the audit log, partition by partition; the cursor is "<partition>:<last id>". */
export async function readAuditPage(
  redis: Cluster,
  e: ElectionRecord,
  cursor: string | undefined,
  limit: number,
): Promise<{ entries: AuditEntry[]; nextCursor: string | null }> {
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
  const entries: AuditEntry[] = [];
  while (p < e.tags.length && entries.length < limit) {
    const k = partitionKeys(e.tags[p]!);
    const start = after ? `(${after}` : '-';
    const rows = await redis.xrange(k.audit, start, '+', 'COUNT', limit - entries.length);
    for (const [id, fields] of rows) {
      const f = fieldsToRecord(fields);
      entries.push({
        partition: p,
        id,
        vote: f['vote'] ?? '',
        voteId: `${e.id}.${p}.${f['vote'] ?? ''}`,
        receipt: f['receipt'] ?? '',
        option: f['option'] ?? '',
        outcome: f['outcome'] === 'rejected' ? 'rejected' : 'counted',
        reason: f['reason'] ?? '',
        prev: f['prev'] ?? '',
        hash: f['hash'] ?? '',
        at: f['at'] ?? '',
      });
    }
    if (entries.length < limit) {
      p++;
      after = '';
    } else {
      after = entries[entries.length - 1]!.id;
    }
  }
  const nextCursor = p < e.tags.length ? `${p}:${after}` : null;
  return { entries, nextCursor };
}
