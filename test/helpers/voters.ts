import { decodeVoteLogEntry } from '../../shared/votes/vote-log';
import type { Cluster } from 'ioredis';
import { mintToken } from '../../shared/auth/tokens';
import { partitionKeys } from '../../shared/redis/keys';
import type { AuditEntry } from '../../shared/votes/read';
import type { Api } from './api';

/**
 * A small load driver for end-to-end fault tests: many distinct voters submit over
 * HTTP with bounded concurrency and a paced rate, following the documented client
 * contract (a `503` or a broken connection is retried with the same `Idempotency-Key`),
 * and a reconciliation that compares what the clients were told (`202` vote ids and
 * receipts) with what the system holds afterwards.
 */

export interface VoteIntent {
  sub: string;
  token: string;
  optionId: string;
  idempotencyKey: string;
}

export interface VoteOutcome {
  sub: string;
  optionId: string;
  idempotencyKey: string;
  /** Final HTTP status (0 when every attempt failed at the network level). */
  status: number;
  code?: string;
  voteId?: string;
  receipt?: string;
  /** Attempts made, retries included. */
  attempts: number;
  /** Answers that were retried: 503s and network errors, by kind. */
  retried: Record<string, number>;
  /** Statuses other than 202/503 seen along the way (for the report). */
  unexpected: number[];
  latencyMs: number;
}

/** Mints `n` voter tokens `<prefix>-<i>` with the test key, each with its option and key. */
export async function mintVoters(
  keyDir: string,
  n: number,
  prefix: string,
  options: string[],
  ttlS = 3600,
): Promise<VoteIntent[]> {
  const intents: VoteIntent[] = [];
  for (let i = 0; i < n; i++) {
    const sub = `${prefix}-${i}`;
    intents.push({
      sub,
      token: await mintToken({ sub, role: 'voter' }, { keyDir, ttlS }),
      // A fixed, uneven split so a mix-up between options shows in the totals.
      optionId: options[(i * 7 + (i % 3)) % options.length]!,
      idempotencyKey: `idem-${sub}`,
    });
  }
  return intents;
}

export interface CastOptions {
  baseUrl: string;
  electionId: string;
  intents: VoteIntent[];
  /** Requests in flight at most. */
  concurrency: number;
  /** Offered rate (first attempts per second). */
  ratePerSec: number;
  /** Keep retrying a 503 / network error until this long after the start. */
  retryForMs: number;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /** Called after every finished voter with the number finished so far. */
  onProgress?: (done: number) => void;
}

/** What POST /elections/{id}/votes answers: a vote, or the error envelope. */
interface SubmitAnswer {
  voteId?: string;
  receipt?: string;
  error?: { code?: string };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function post(
  url: string,
  token: string,
  body: string,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<{ status: number; body: SubmitAnswer | undefined; retryAfterS?: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
    },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: SubmitAnswer | undefined;
  try {
    parsed = text ? (JSON.parse(text) as SubmitAnswer) : undefined;
  } catch {
    parsed = { error: { code: `not_json: ${text.slice(0, 60)}` } };
  }
  const ra = Number(res.headers.get('retry-after'));
  return { status: res.status, body: parsed, ...(Number.isFinite(ra) && ra > 0 ? { retryAfterS: ra } : {}) };
}

/**
 * Submits every intent once (plus retries), paced at `ratePerSec` with at most
 * `concurrency` in flight. Retries only what the contract says to retry: `503` and
 * network errors, always with the same `Idempotency-Key`.
 */
export async function castVotes(o: CastOptions): Promise<{ outcomes: VoteOutcome[]; elapsedMs: number }> {
  const url = `${o.baseUrl}/elections/${o.electionId}/votes`;
  const outcomes: VoteOutcome[] = new Array(o.intents.length);
  const t0 = Date.now();
  const giveUpAt = t0 + o.retryForMs;
  const timeoutMs = o.requestTimeoutMs ?? 10000;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= o.intents.length) return;
      const intent = o.intents[i]!;
      const wait = t0 + (i * 1000) / o.ratePerSec - Date.now();
      if (wait > 0) await sleep(wait);
      const started = Date.now();
      const out: VoteOutcome = {
        sub: intent.sub,
        optionId: intent.optionId,
        idempotencyKey: intent.idempotencyKey,
        status: 0,
        attempts: 0,
        retried: {},
        unexpected: [],
        latencyMs: 0,
      };
      const body = JSON.stringify({ optionId: intent.optionId });
      for (;;) {
        out.attempts++;
        let retryAfterMs = Math.min(1000, 100 * out.attempts);
        try {
          const r = await post(url, intent.token, body, intent.idempotencyKey, timeoutMs);
          out.status = r.status;
          if (r.status === 202 && r.body?.voteId && r.body.receipt) {
            out.voteId = r.body.voteId;
            out.receipt = r.body.receipt;
            delete out.code;
            break;
          }
          out.code = r.body?.error?.code;
          if (r.status !== 503) {
            out.unexpected.push(r.status);
            break;
          }
          out.retried['503'] = (out.retried['503'] ?? 0) + 1;
          if (r.retryAfterS) retryAfterMs = Math.min(retryAfterMs, r.retryAfterS * 1000);
        } catch (err) {
          const kind = (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'network';
          out.retried[kind] = (out.retried[kind] ?? 0) + 1;
          out.status = 0;
          out.code = kind;
        }
        if (Date.now() + retryAfterMs > giveUpAt) break;
        await sleep(retryAfterMs);
      }
      out.latencyMs = Date.now() - started;
      outcomes[i] = out;
      o.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, () => worker()));
  return { outcomes, elapsedMs: Date.now() - t0 };
}

/** Fetches an election's whole audit log through the API, page by page. */
export async function fetchAudit(api: Api, token: string, electionId: string): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | null = '';
  for (let page = 0; cursor !== null; page++) {
    if (page > 10000) throw new Error('audit log does not end');
    const q = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await api.call('GET', `/elections/${electionId}/audit?${q}`, { token });
    if (r.status !== 200) throw new Error(`GET audit answered ${r.status}: ${JSON.stringify(r.body)}`);
    entries.push(...(r.body.entries as AuditEntry[]));
    cursor = r.body.nextCursor;
  }
  return entries;
}

/** Maps every vote-log entry of an election (partition:streamId) to its voter, read from Redis. */
export async function voteLog(
  redis: Cluster,
  tags: string[],
): Promise<Map<string, { voter: string; option: string; receipt: string }>> {
  const out = new Map<string, { voter: string; option: string; receipt: string }>();
  await Promise.all(
    tags.map(async (tag, p) => {
      const rows = await redis.xrange(partitionKeys(tag).votes, '-', '+');
      for (const [id, fields] of rows) {
        const { voter, option, receipt } = decodeVoteLogEntry(fields);
        out.set(`${p}:${id}`, { voter, option, receipt });
      }
    }),
  );
  return out;
}

export interface Reconciliation {
  /** Voters answered 202. */
  accepted: number;
  /** 202s whose vote is in the audit log as counted (the entry with their receipt). */
  counted: number;
  /** 202s whose vote is in the audit log as rejected. */
  rejected: VoteOutcome[];
  /** 202s whose receipt is nowhere in the audit log (the public log names no vote id). */
  missingFromAudit: VoteOutcome[];
  /** Per option: 202s whose vote counted. */
  countedByOption: Record<string, number>;
  /** Per option: 202s. */
  acceptedByOption: Record<string, number>;
  /** Receipts that appear more than once in the audit log. */
  duplicateEntries: string[];
  /** Audit entries counted whose receipt no client was given (e.g. a client gave up after 503s). */
  unknownCounted: AuditEntry[];
}

/** Compares the clients' 202s with the audit log, joined by receipt (one per ballot). */
export function reconcile(outcomes: VoteOutcome[], audit: AuditEntry[]): Reconciliation {
  const byReceipt = new Map<string, AuditEntry>();
  const duplicateEntries: string[] = [];
  for (const e of audit) {
    if (byReceipt.has(e.receipt)) duplicateEntries.push(e.receipt);
    byReceipt.set(e.receipt, e);
  }
  const r: Reconciliation = {
    accepted: 0,
    counted: 0,
    rejected: [],
    missingFromAudit: [],
    countedByOption: {},
    acceptedByOption: {},
    duplicateEntries,
    unknownCounted: [],
  };
  const known = new Set<string>();
  for (const o of outcomes) {
    if (o.status !== 202 || !o.voteId) continue;
    r.accepted++;
    known.add(o.receipt ?? '');
    r.acceptedByOption[o.optionId] = (r.acceptedByOption[o.optionId] ?? 0) + 1;
    const e = byReceipt.get(o.receipt ?? '');
    if (!e) r.missingFromAudit.push(o);
    else if (e.outcome === 'rejected') r.rejected.push(o);
    else {
      r.counted++;
      r.countedByOption[o.optionId] = (r.countedByOption[o.optionId] ?? 0) + 1;
    }
  }
  r.unknownCounted = audit.filter((e) => e.outcome === 'counted' && !known.has(e.receipt));
  return r;
}

/** Counts the statuses of the outcomes, e.g. {"202": 4990, "0:network": 2}. */
export function statusCounts(outcomes: VoteOutcome[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const o of outcomes) {
    const k = o.status === 202 ? '202' : `${o.status}:${o.code ?? ''}`;
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}

/** Sums the retries of all outcomes by kind. */
export function retryCounts(outcomes: VoteOutcome[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const o of outcomes) for (const [k, v] of Object.entries(o.retried)) c[k] = (c[k] ?? 0) + v;
  return c;
}

/** Nearest-rank percentile of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `fn` over `items` with at most `concurrency` in flight; results in order. */
export async function mapLimit<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
