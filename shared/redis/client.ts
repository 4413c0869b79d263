import { Cluster, type ClusterOptions } from 'ioredis';
import type { RedisSeed } from '../config';

/**
 * Makes the ioredis Cluster client every process uses. Commands fail fast when the
 * cluster is unreachable (no endless offline queue), so callers can answer 503 and
 * leaders can notice they are cut off.
 */
export function createRedisCluster(seeds: RedisSeed[], options: ClusterOptions = {}): Cluster {
  return new Cluster(seeds, {
    scaleReads: 'master',
    enableOfflineQueue: true,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 + times * 100, 1000),
    ...options,
    redisOptions: {
      connectTimeout: 2000,
      commandTimeout: 3000,
      maxRetriesPerRequest: 2,
      ...options.redisOptions,
    },
  });
}
