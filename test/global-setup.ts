import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange } from '../local/ports';
import { ensureDebianPackage } from '../local/system-packages';
import { type RedisClusterHandle, startRedisCluster } from '../local/redis-cluster';

/**
 * Starts one Redis Cluster for the whole run on free ports (never the dev stack's
 * 7000-7005), in a temporary folder. Tests isolate themselves by namespace
 * (random election ids, random key prefixes). `TEST_REDIS_SEEDS` reaches the workers.
 */
export default async function globalSetup(): Promise<void> {
  // The browser tests drive Debian's Chromium: install it on a fresh machine (as root).
  if (!process.env['CHROMIUM_PATH']) ensureDebianPackage('chromium', ['chromium']);
  const basePort = await findFreePortRange(6, 10000);
  const dataDir = mkdtempSync(join(tmpdir(), 'qv-test-redis-'));
  const handle = await startRedisCluster({ basePort, dataDir, fresh: true });
  process.env['TEST_REDIS_SEEDS'] = handle.seeds;
  // Coordinators and serverless-offline started by the tests inherit it: broadcast
  // invokes are signed, as under npm start (shared/realtime/invoke-auth.ts).
  process.env['INVOKE_SECRET'] ||= randomBytes(32).toString('base64url');
  process.env['TEST_REDIS_DATA_DIR'] = dataDir;
  (globalThis as unknown as { __qvRedis: RedisClusterHandle }).__qvRedis = handle;
}
