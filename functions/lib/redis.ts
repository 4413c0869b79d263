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
export async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis call timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
