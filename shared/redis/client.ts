import { Cluster, type ClusterOptions } from 'ioredis';
import type { RedisSeed } from '../config';
import {
  type RedisAccess,
  redisAccessClusterOptions,
  redisAccessFromSettings,
  redisAccessOptions,
} from './access';

/**
 * Makes the ioredis Cluster client every process uses. Commands fail fast when the
 * cluster is unreachable (no endless offline queue), so callers can answer 503 and
 * leaders can notice they are cut off. TLS and the AUTH/ACL user come from the settings
 * (`REDIS_TLS*`, `REDIS_USERNAME`, `REDIS_PASSWORD`, see access.ts) unless `access` is
 * given, so no caller can forget them.
 */
export function createRedisCluster(
  seeds: RedisSeed[],
  options: ClusterOptions = {},
  access: RedisAccess = redisAccessFromSettings(),
): Cluster {
  return new Cluster(seeds, {
    scaleReads: 'master',
    enableOfflineQueue: true,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 + times * 100, 1000),
    ...redisAccessClusterOptions(access),
    ...options,
    redisOptions: {
      connectTimeout: 2000,
      commandTimeout: 3000,
      maxRetriesPerRequest: 2,
      ...redisAccessOptions(access),
      ...options.redisOptions,
    },
  });
}
