import type { AuthClaims } from '../../shared/auth/tokens';
import { isJoinedIdentity } from '../../shared/auth/join-identity';
import { systemClock } from '../../shared/clock';
import { ApiError, notFound } from '../../shared/errors';
import { clearlyPastClose, partitionOf } from '../../shared/elections/model';
import { JoinStore } from '../../shared/elections/join-store';
import { type ElectionRecord, ElectionStore } from '../../shared/elections/store';
import { partitionKeys } from '../../shared/redis/keys';
import { config, redis } from './redis';

/** The election store every function uses (one per Lambda container). */
export const elections = new ElectionStore(redis(), systemClock, config.partitions);

/** Join codes and joined identities of code-access elections. */
export const joins = new JoinStore(redis());

/**
 * A code-access election takes votes from the devices that joined it (`POST /join`)
 * and from nobody else: `403 not_joined` for an account's token, or a token bound to
 * this election that is not a joined identity. (A token bound to another election is
 * refused before, `403 wrong_election`.)
 */
export function requireJoined(e: ElectionRecord, claims: AuthClaims): void {
  if (e.access !== 'code') return;
  if (claims.eid === e.id && isJoinedIdentity(claims.sub)) return;
  throw new ApiError(
    403,
    'not_joined',
    'This poll is joined with its code: open its join link (or enter the code) to vote',
  );
}

const cache = new Map<string, { record: ElectionRecord; at: number }>();
const CACHE_MS = 2000;

/**
 * Election metadata for hot paths (submit, vote status), cached briefly. Only the
 * immutable parts (options, partitions, eligibility flag) are relied on from the cache;
 * whether intake is open is decided by the partition gate inside the submit script.
 */
export async function cachedElection(id: string): Promise<ElectionRecord> {
  const hit = cache.get(id);
  const now = Date.now();
  if (hit && now - hit.at < CACHE_MS) return hit.record;
  const record = await elections.get(id);
  if (!record) throw notFound('Election');
  cache.set(id, { record, at: now });
  if (cache.size > 1000) cache.delete(cache.keys().next().value as string);
  return record;
}

/** Reads `params.id` of a route like /elections/{id}. */
export function electionIdParam(params: Record<string, string>): string {
  const id = params['id'];
  if (!id) throw notFound('Election');
  return id;
}

/**
 * Extra safety only, before the submit script: refuses a new vote when the election
 * record (cached) says closed, or when this process's clock is clearly past `closesAt`
 * ({@link clearlyPastClose}). The partition gate decides intake; this is a second,
 * independent "no" that also holds if a Redis failover lost a closed gate (the record
 * lives in another slot). A voter who already has a vote is never refused here: the
 * script answers a retry with the same Idempotency-Key with its vote (or 409/422).
 * A stale cached status is harmless: `closed` is final, and anything else is ignored.
 */
export async function refuseLateVote(e: ElectionRecord, voter: string, now: number): Promise<void> {
  if (e.status !== 'closed' && !clearlyPastClose(e.closesAt, now)) return;
  const tag = e.tags[partitionOf(voter, e.partitions, e.partitionSalt)];
  if (tag && (await redis().hexists(partitionKeys(tag).voters, voter)) === 1) return;
  throw new ApiError(409, 'election_not_open', 'This election is not open for voting');
}
