import type { Cluster } from 'ioredis';
import { loadConfig } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';

/** Loaded once per Lambda container (CONVENTIONS 1). */
export const config = loadConfig();

let client: Cluster | undefined;

/** The Redis Cluster client, created on first use and reused across invocations. */
export function redis(): Cluster {
  if (!client) {
    client = createRedisCluster(config.redisSeeds);
    // Errors surface on the commands that fail; the event would only add noise.
    client.on('error', () => {});
  }
  return client;
}

/** Runs a Redis call with a deadline, so a dead cluster answers 503 quickly. */
export { withDeadline } from '../../shared/deadline';
