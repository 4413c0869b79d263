import { systemClock } from '../../shared/clock';
import { ApiError, notFound } from '../../shared/errors';
import { clearlyPastClose } from '../../shared/elections/model';
import { type ElectionRecord, ElectionStore } from '../../shared/elections/store';
import { config, redis } from './redis';

/** The election store every function uses (one per Lambda container). */
export const elections = new ElectionStore(redis(), systemClock, config.partitions);

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
 * Extra safety only: refuses a vote when this process's clock is clearly past the
 * election's `closesAt` (see {@link clearlyPastClose}). The gate decides intake.
 */
export function refuseIfPastClose(e: ElectionRecord, now: number): void {
  if (clearlyPastClose(e.closesAt, now)) {
    throw new ApiError(409, 'election_not_open', 'This election is not open for voting');
  }
}
