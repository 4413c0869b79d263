import { systemClock } from '../../shared/clock';
import { checkRateLimits, rateLimitFromEnv } from '../../shared/votes/rate-limit';
import type { HttpRequest } from './http';
import { redis } from './redis';

/**
 * Limits on the read routes, so that one token (or one address) reading in a loop
 * cannot take Redis time from vote intake. Token buckets in Redis shared by every
 * function instance (shared/votes/rate-limit.ts), checked after authentication (a bad
 * token is a 401, never a 429). Each limit is a burst refilled per window
 * (docs/operations.md lists the knobs; 0 turns one off):
 *
 * - `RATE_LIMIT_READ` per user (default 200 per 10 s: 20/s sustained) for results,
 *   elections and votes;
 * - `RATE_LIMIT_AUDIT` per user (default 100 pages per 10 s) for audit pages, which
 *   cost up to 1000 entries each;
 * - `RATE_LIMIT_READ_IP` per client address (default 1000 per 10 s) for all of them.
 */
export const readLimits = {
  read: rateLimitFromEnv('RATE_LIMIT_READ', 200, 'RATE_LIMIT_READ_WINDOW_MS', 10000),
  audit: rateLimitFromEnv('RATE_LIMIT_AUDIT', 100, 'RATE_LIMIT_READ_WINDOW_MS', 10000),
  ip: rateLimitFromEnv('RATE_LIMIT_READ_IP', 1000, 'RATE_LIMIT_READ_WINDOW_MS', 10000),
};

/** Takes one read from the user's and the address's buckets; throws 429 rate_limited when empty. */
export async function limitRead(
  req: HttpRequest,
  sub: string,
  kind: 'read' | 'audit' = 'read',
): Promise<void> {
  await checkRateLimits(redis(), systemClock, [
    { subject: `${kind === 'audit' ? 'ra' : 'r'}:${sub}`, rule: readLimits[kind] },
    { subject: `rip:${req.sourceIp}`, rule: readLimits.ip },
  ]);
}
