import { systemClock } from '../../shared/clock';
import type { ElectionRecord } from '../../shared/elections/store';
import { type Results, readResults } from '../../shared/votes/read';
import { ShortCache } from '../../shared/votes/short-cache';
import { redis } from './redis';

/**
 * GET /results summed once per election per function instance per `RESULTS_CACHE_MS`
 * (default 1000 ms; 0 turns the cache off) instead of 16 partitions × 3 commands per
 * request. The key holds the election's status and visibility, so a close (or a
 * hidden election) is never answered from a result read before it; otherwise a
 * reader may see counts up to that old, which `asOf` states.
 */
const ttlMs = (() => {
  const v = Number(process.env['RESULTS_CACHE_MS']);
  return process.env['RESULTS_CACHE_MS'] !== undefined && Number.isFinite(v) && v >= 0
    ? Math.min(v, 1000)
    : 1000;
})();
const cache = new ShortCache<Results>(ttlMs);

export function cachedResults(e: ElectionRecord): Promise<Results> {
  return cache.get(`${e.id}|${e.status}|${e.hideTotalsUntilClosed ? 1 : 0}`, () =>
    readResults(redis(), systemClock, e),
  );
}
