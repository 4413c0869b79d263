/**
 * The state a chaos run ends in, read the way any outside auditor reads it: through the
 * public HTTP API (election, results, the admin view of the audit log, vote statuses),
 * never from Redis. The checker compares the history against this.
 */
import type { AuditEntry, ChainHead } from '../shared/votes/read';
import { type Answer, NoAnswer, call } from './http';

/** The published results of one election (API.md "Results and audit"). */
export interface PublishedResultsView {
  status: string;
  totals: Record<string, number>;
  finalized: number;
  pending: number;
  rejected: number;
  final: boolean;
  chainHeads?: Record<string, ChainHead>;
}

/** A vote's status as `GET /votes/{voteId}` gave it, or why it could not be read. */
export interface VoteStatusView {
  status?: 'pending' | 'finalized' | 'rejected';
  reason?: string;
  /** `404 not_found` when the vote does not exist, or another error. */
  error?: string;
}

/** Everything read about one election. */
export interface FinalElection {
  electionId: string;
  status: string;
  /** When the close took effect, as the election object says (null while open). */
  closedAt: string | null;
  partitions: number;
  results: PublishedResultsView | null;
  /** The admin view of the audit log: every entry with its voteId and finalizedAt. */
  audit: AuditEntry[];
  finalChainHeads?: Record<string, ChainHead>;
  /** False when the results kept moving while the log was read (still counting). */
  stable: boolean;
  /** What could not be read, one line each. */
  errors: string[];
}

/** The final state of a run. */
export interface FinalState {
  /** Date.now() when reading ended. */
  readAt: number;
  elections: Record<string, FinalElection>;
  /** Statuses of the votes asked for (those acknowledged but not found in the audit log). */
  votes: Record<string, VoteStatusView>;
}

export interface ReadFinalStateOptions {
  apiUrl: string;
  adminToken: string;
  electionIds: string[];
  /** Votes whose status to read as well (the checker asks about acknowledged votes missing from the log). */
  voteIds?: string[];
  /** How long to wait for closed elections to become final (nothing pending); default 60 s. */
  waitFinalMs?: number;
  requestTimeoutMs?: number;
}

async function getJson(
  o: Pick<ReadFinalStateOptions, 'apiUrl' | 'adminToken' | 'requestTimeoutMs'>,
  path: string,
): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    let a: Answer;
    try {
      a = await call(o.apiUrl, 'GET', path, { token: o.adminToken, timeoutMs: o.requestTimeoutMs ?? 15000 });
    } catch (err) {
      // Faults are over when the final state is read, but a healing cluster may still drop a request.
      if (!(err instanceof NoAnswer) || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    // Reads are rate-limited; a 503 while a failover settles is worth waiting out too.
    if ((a.status !== 429 && a.status !== 503) || attempt >= 30) return a;
    await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, a.retryAfterS ?? 1)) * 1000));
  }
}

const fail = (path: string, a: Answer): string =>
  `GET ${path} answered ${a.status}${a.code ? ` ${a.code}` : ''}`;

async function readAudit(
  o: ReadFinalStateOptions,
  id: string,
): Promise<{ entries: AuditEntry[]; partitions: number }> {
  const entries: AuditEntry[] = [];
  let partitions = 0;
  let cursor: string | null = '';
  for (let page = 0; cursor !== null; page++) {
    if (page > 100_000) throw new Error(`the audit log of ${id} does not end`);
    const path = `/elections/${encodeURIComponent(id)}/audit?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const a = await getJson(o, path);
    if (a.status !== 200) throw new Error(fail(path, a));
    const b = a.body as { entries: AuditEntry[]; nextCursor: string | null; partitions?: number };
    entries.push(...b.entries);
    partitions = b.partitions ?? partitions;
    if (b.nextCursor !== null && b.nextCursor === cursor)
      throw new Error(`the audit cursor of ${id} does not move`);
    cursor = b.nextCursor;
  }
  return { entries, partitions };
}

const sameCounts = (a: PublishedResultsView | null, b: PublishedResultsView | null): boolean =>
  !!a &&
  !!b &&
  a.finalized === b.finalized &&
  a.rejected === b.rejected &&
  a.pending === b.pending &&
  JSON.stringify(a.totals) === JSON.stringify(b.totals);

async function readElection(o: ReadFinalStateOptions, id: string): Promise<FinalElection> {
  const errors: string[] = [];
  const base = `/elections/${encodeURIComponent(id)}`;
  const e = await getJson(o, base);
  const eb = (e.status === 200 ? e.body : {}) as {
    status?: string;
    closedAt?: string | null;
    partitions?: number;
    finalChainHeads?: Record<string, ChainHead>;
  };
  if (e.status !== 200) errors.push(fail(base, e));
  const results = async (): Promise<PublishedResultsView | null> => {
    const r = await getJson(o, `${base}/results`);
    if (r.status === 200) return r.body as PublishedResultsView;
    errors.push(fail(`${base}/results`, r));
    return null;
  };
  // A closed election drains: wait (bounded) until nothing is pending.
  let before = await results();
  const until = Date.now() + (o.waitFinalMs ?? 60_000);
  while (before && before.status === 'closed' && !before.final && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    before = await results();
  }
  let audit: AuditEntry[] = [];
  let partitions = eb.partitions ?? 0;
  let after: PublishedResultsView | null = null;
  // The log and the results must be read as one picture: retry while they move.
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      const log = await readAudit(o, id);
      audit = log.entries;
      partitions = log.partitions || partitions;
    } catch (err) {
      errors.push((err as Error).message);
      break;
    }
    after = await results();
    if (sameCounts(before, after)) break;
    before = after;
  }
  return {
    electionId: id,
    status: eb.status ?? 'unknown',
    closedAt: eb.closedAt ?? null,
    partitions,
    results: after ?? before,
    audit,
    ...(eb.finalChainHeads ? { finalChainHeads: eb.finalChainHeads } : {}),
    stable: sameCounts(before, after),
    errors,
  };
}

/** Reads the final state of the given elections (and votes) through the public API. */
export async function readFinalState(o: ReadFinalStateOptions): Promise<FinalState> {
  const elections: Record<string, FinalElection> = {};
  for (const id of o.electionIds) elections[id] = await readElection(o, id);
  return { readAt: Date.now(), elections, votes: await readVoteStatuses(o, o.voteIds ?? []) };
}

/**
 * The statuses of some votes (`GET /votes/{id}`, admin): for the acknowledged votes the
 * audit log does not hold (checker `unaccountedVotes`), to tell lost from still pending.
 */
export async function readVoteStatuses(
  o: Pick<ReadFinalStateOptions, 'apiUrl' | 'adminToken' | 'requestTimeoutMs'>,
  voteIds: readonly string[],
): Promise<Record<string, VoteStatusView>> {
  const votes: Record<string, VoteStatusView> = {};
  for (const voteId of voteIds) {
    const path = `/votes/${encodeURIComponent(voteId)}`;
    try {
      const a = await getJson(o, path);
      const b = a.body as { status?: VoteStatusView['status']; reason?: string };
      votes[voteId] =
        a.status === 200
          ? { ...(b.status ? { status: b.status } : {}), ...(b.reason ? { reason: b.reason } : {}) }
          : { error: `${a.status}${a.code ? ` ${a.code}` : ''}` };
    } catch (err) {
      votes[voteId] = { error: (err as Error).message };
    }
  }
  return votes;
}
