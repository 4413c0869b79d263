import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError } from '../errors';
import { rateLimitKey } from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';
import { loadSettings } from '../settings/load';
import type { Settings } from '../settings/schema';

const rateLimitScript = defineScript('rateLimit', {
  keys: 1,
  parse: (r) => {
    const [taken, wait] = reply.array('rateLimit', r, 2);
    return { taken: reply.integer('rateLimit', taken) === 1, waitMs: reply.integer('rateLimit', wait) };
  },
});

/**
 * A token bucket: bursts of up to `limit` requests, refilled at `limit` per `windowMs`
 * (so a steady client gets `limit` per window, as a fixed window would, without the
 * double burst at a window edge).
 */
export interface RateLimit {
  /** Bucket size and refill per window; 0 disables the limit. */
  limit: number;
  windowMs: number;
}

/** One limit to check: whose bucket, which rule, and how many tokens this request costs. */
export interface RateLimitCheck {
  /** The bucket's subject, e.g. `v:<user>`, `ip:<address>`, `read:<user>`. */
  subject: string;
  rule: RateLimit;
  /** Tokens taken (default 1): expensive requests may cost more. */
  cost?: number;
}

/** What one bucket said. */
export interface RateLimitOutcome {
  taken: boolean;
  /** When refused: how long until the request would be allowed (ms). */
  waitMs: number;
}

/** The settings that are a rate limit or its window (`RATE_LIMIT_*`). */
export type RateLimitSetting = Extract<keyof Settings, `RATE_LIMIT_${string}`>;

/**
 * A rule from the settings: `name` is the limit, `windowName` the window (ms); the
 * defaults live in the settings schema. Every limit has a setting (docs/operations.md
 * lists them); 0 turns one off.
 */
export function rateLimitFromEnv(
  name: RateLimitSetting,
  windowName: RateLimitSetting,
  env: NodeJS.ProcessEnv = process.env,
): RateLimit {
  const s = loadSettings(env);
  return { limit: s[name], windowMs: Math.max(1, s[windowName]) };
}

/**
 * Takes `cost` tokens from the subject's bucket in Redis, shared by every function
 * instance (one script call, one slot per subject). A disabled rule always allows.
 */
export async function takeTokens(
  redis: Cluster,
  clock: Clock,
  check: RateLimitCheck,
): Promise<RateLimitOutcome> {
  const { rule } = check;
  if (!(rule.limit > 0)) return { taken: true, waitMs: 0 };
  const cost = check.cost ?? 1;
  return runScript(
    redis,
    rateLimitScript,
    [rateLimitKey(check.subject)],
    [clock.now(), rule.limit, rule.windowMs / rule.limit, cost],
  );
}

/** The 429 answer of API.md: `rate_limited` with Retry-After in whole seconds (at least 1). */
export function rateLimited(waitMs: number): ApiError {
  return new ApiError(429, 'rate_limited', 'Too many requests; slow down', undefined, {
    'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
  });
}

/**
 * Checks every limit (in parallel) and throws a 429 `rate_limited` with the longest
 * Retry-After when any bucket is empty. Buckets are shared by every function instance.
 */
export async function checkRateLimits(redis: Cluster, clock: Clock, checks: RateLimitCheck[]): Promise<void> {
  const outcomes = await Promise.all(checks.map((c) => takeTokens(redis, clock, c)));
  const refused = outcomes.filter((o) => !o.taken);
  if (refused.length) throw rateLimited(Math.max(...refused.map((o) => o.waitMs)));
}
