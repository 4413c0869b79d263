import type { AuthClaims } from '../../shared/auth/tokens';
import { systemClock } from '../../shared/clock';
import { rateLimitFromEnv, rateLimited, takeTokens } from '../../shared/votes/rate-limit';
import { authenticate } from './auth';
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
  read: rateLimitFromEnv('RATE_LIMIT_READ', 'RATE_LIMIT_READ_WINDOW_MS'),
  audit: rateLimitFromEnv('RATE_LIMIT_AUDIT', 'RATE_LIMIT_READ_WINDOW_MS'),
  ip: rateLimitFromEnv('RATE_LIMIT_READ_IP', 'RATE_LIMIT_READ_WINDOW_MS'),
};

/**
 * Tokens whose user bucket was empty, until it has a token again: a client that keeps
 * reading with the same token is refused by this instance without verifying the token
 * or asking Redis again (Redis would refuse it too until then), so a flood costs this
 * process almost nothing. Only tokens that verified are ever listed; bounded in size.
 */
const refused = new Map<string, number>();
const MAX_REFUSED = 10000;

/** Takes one read from the user's and the address's buckets; throws 429 rate_limited when empty. */
export async function limitRead(
  req: HttpRequest,
  sub: string,
  kind: 'read' | 'audit' = 'read',
): Promise<void> {
  const [user, address] = await Promise.all([
    takeTokens(redis(), systemClock, {
      subject: `${kind === 'audit' ? 'ra' : 'r'}:${sub}`,
      rule: readLimits[kind],
    }),
    takeTokens(redis(), systemClock, { subject: `rip:${req.sourceIp}`, rule: readLimits.ip }),
  ]);
  if (!user.taken) {
    if (refused.size >= MAX_REFUSED) refused.clear();
    refused.set(`${kind}|${req.headers['authorization'] ?? ''}`, Date.now() + user.waitMs);
  }
  if (!user.taken || !address.taken) {
    throw rateLimited(Math.max(user.taken ? 0 : user.waitMs, address.taken ? 0 : address.waitMs));
  }
}

/**
 * What every read route starts with: the caller's claims (401/403 as usual) once a
 * read was taken from their buckets (429 otherwise; see {@link refused}).
 */
export async function authenticateRead(
  req: HttpRequest,
  kind: 'read' | 'audit' = 'read',
): Promise<AuthClaims> {
  const key = `${kind}|${req.headers['authorization'] ?? ''}`;
  const until = refused.get(key);
  if (until !== undefined) {
    const wait = until - Date.now();
    if (wait > 0) throw rateLimited(wait);
    refused.delete(key);
  }
  const claims = await authenticate(req);
  await limitRead(req, claims.sub, kind);
  return claims;
}
