import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError } from '../errors';
import { defineScript, reply, runScript } from '../redis/scripts';

const rateLimitScript = defineScript('rateLimit', { keys: 1, parse: (r) => reply.integer('rateLimit', r) });

export interface RateLimit {
  /** Requests allowed per window; 0 disables the limit. */
  limit: number;
  windowMs: number;
}

/**
 * Fixed-window rate limiting in Redis, shared by every function instance. Each
 * subject (a voter, an IP) has its own key and so its own slot.
 */
export async function checkRateLimits(
  redis: Cluster,
  clock: Clock,
  checks: { subject: string; rule: RateLimit }[],
): Promise<void> {
  const now = clock.now();
  const results = await Promise.all(
    checks
      .filter((c) => c.rule.limit > 0)
      .map(async (c) => {
        const window = Math.floor(now / c.rule.windowMs);
        const count = await runScript(
          redis,
          rateLimitScript,
          [`{rl:${c.subject}}:${window}`],
          [c.rule.windowMs],
        );
        return {
          c,
          count,
          retryAfterS: Math.max(1, Math.ceil(((window + 1) * c.rule.windowMs - now) / 1000)),
        };
      }),
  );
  const over = results.find((r) => r.count > r.c.rule.limit);
  if (over) {
    throw new ApiError(429, 'rate_limited', 'Too many requests; slow down', undefined, {
      'Retry-After': String(over.retryAfterS),
    });
  }
}
