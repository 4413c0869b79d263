import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange } from '../local/ports';
import { type RedisClusterHandle, startRedisCluster } from '../local/redis-cluster';

/**
 * Starts one Redis Cluster for the whole run on free ports (never the dev stack's
 * 7000-7005), in a temporary folder. Tests isolate themselves by namespace
 * (random election ids, random key prefixes). `TEST_REDIS_SEEDS` reaches the workers.
 */
export default async function globalSetup(): Promise<void> {
  const basePort = await findFreePortRange(6, 10000);
  const dataDir = mkdtempSync(join(tmpdir(), 'qv-test-redis-'));
  const handle = await startRedisCluster({ basePort, dataDir, fresh: true });
  process.env['TEST_REDIS_SEEDS'] = handle.seeds;
  process.env['TEST_REDIS_DATA_DIR'] = dataDir;
  (globalThis as unknown as { __qvRedis: RedisClusterHandle }).__qvRedis = handle;
}
