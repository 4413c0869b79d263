import { randomUUID } from 'node:crypto';
import type { Cluster, ClusterOptions } from 'ioredis';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';

/**
 * Integration-test access to the run's real Redis Cluster (test/global-setup.ts) with
 * the same client factory as production (CONVENTIONS 9). Each test works in its own
 * namespace from {@link uniqueNs} and removes it with {@link deleteNamespace}.
 */

/** The `host:port,...` seeds of the run's cluster; throws outside Jest's global setup. */
export function testRedisSeeds(): string {
  const seeds = process.env['TEST_REDIS_SEEDS'];
  if (!seeds) throw new Error('TEST_REDIS_SEEDS is not set: run through jest (global setup)');
  return seeds;
}

/** A Cluster client on the test cluster. The caller closes it (`await redis.quit()` in afterAll). */
export function testRedis(options: ClusterOptions = {}): Cluster {
  return createRedisCluster(parseSeeds(testRedisSeeds()), options);
}

/**
 * A fresh random namespace (`<prefix>-<uuid>`): use it inside resource names and hash
 * tags so tests never share keys. It contains no glob characters.
 */
export function uniqueNs(prefix = 't'): string {
  return `${prefix}-${randomUUID()}`;
}

/**
 * Deletes every key whose name contains `ns`, on every master (a namespace's keys may
 * sit in many slots). Returns how many keys were deleted.
 */
export async function deleteNamespace(redis: Cluster, ns: string): Promise<number> {
  if (!/^[\w:-]+$/.test(ns)) throw new Error(`Refusing to delete namespace "${ns}"`);
  let deleted = 0;
  for (const node of redis.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `*${ns}*`, 'COUNT', 1000);
      cursor = next;
      // One DEL per key: keys on one node may still be in different slots.
      for (const key of keys) deleted += await node.del(key);
    } while (cursor !== '0');
  }
  return deleted;
}
