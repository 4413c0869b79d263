import type { Cluster, ClusterOptions } from 'ioredis';
import type { RedisSeed } from '../shared/config';
import { createRedisCluster } from '../shared/redis/client';

/** Where a coordinator's Redis Cluster is, and how announced addresses map to reachable ones. */
export interface RedisTarget {
  redisSeeds: RedisSeed[];
  natMap?: Record<string, { host: string; port: number }>;
}

/**
 * The coordinator's Redis connections, each kept apart so one kind of traffic never
 * queues behind another:
 *
 * - `control`: heartbeats, the election ledger, leader renewals (short timeouts: a
 *   leader cut off from Redis must notice within its lease);
 * - `pipeline`: the vote pipeline, which issues dozens of small commands per loop
 *   (every partition of every active election), so auto-pipelining writes each tick's
 *   commands for a master in one socket write instead of one write per command;
 * - `subscriber`: sharded pub/sub (the pipeline's wake-up channel, the fan-out's
 *   channels).
 */
export type RedisUse = 'control' | 'pipeline' | 'subscriber';

const options: Record<RedisUse, ClusterOptions> = {
  control: { redisOptions: { commandTimeout: 1000, maxRetriesPerRequest: 1 } },
  pipeline: { enableAutoPipelining: true, redisOptions: { commandTimeout: 2000, maxRetriesPerRequest: 1 } },
  subscriber: { shardedSubscribers: true, redisOptions: { commandTimeout: 2000, maxRetriesPerRequest: 1 } },
};

/**
 * One Redis Cluster client for `use`. Errors are handled by the commands that fail (and
 * the reconnect logic); an unhandled 'error' event must not end the process.
 */
export function coordinatorRedis(target: RedisTarget, use: RedisUse): Cluster {
  const redis = createRedisCluster(target.redisSeeds, {
    ...options[use],
    ...(target.natMap ? { natMap: target.natMap } : {}),
  });
  redis.on('error', () => {});
  return redis;
}
