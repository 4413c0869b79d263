import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { joinLimitKeys } from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';
import { type RateLimit, rateLimited } from '../votes/rate-limit';

/**
 * The limits on joining a code-access election, which stop one device (or one script)
 * from minting identities, each worth a vote: a token bucket per client address and
 * one per election, taken together or not at all (join-limits.lua), so a join one of
 * them refuses changes nothing. Only a device's first join is counted: the caller
 * skips this for an identity that joined before.
 */
const joinLimitsScript = defineScript('joinLimits', {
  keys: 2,
  parse: (r) => {
    const [taken, wait] = reply.array('joinLimits', r, 2);
    return { taken: reply.integer('joinLimits', taken) === 1, waitMs: reply.integer('joinLimits', wait) };
  },
});

export interface JoinLimits {
  /** First joins per client address per election. */
  address: RateLimit;
  /** First joins per election, from all addresses. */
  election: RateLimit;
}

const args = (rule: RateLimit): [number, number] =>
  rule.limit > 0 ? [rule.limit, rule.windowMs / rule.limit] : [0, 1];

/** Takes one first join for `address` in `electionId`; `429 rate_limited` with Retry-After otherwise. */
export async function takeJoin(
  redis: Cluster,
  clock: Clock,
  electionId: string,
  address: string,
  limits: JoinLimits,
): Promise<void> {
  const r = await runScript(
    redis,
    joinLimitsScript,
    [joinLimitKeys.address(electionId, address), joinLimitKeys.election(electionId)],
    [clock.now(), ...args(limits.address), ...args(limits.election)],
  );
  if (!r.taken) throw rateLimited(r.waitMs);
}
