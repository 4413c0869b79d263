import { rmSync } from 'node:fs';
import type { RedisClusterHandle } from '../local/redis-cluster';

export default async function globalTeardown(): Promise<void> {
  const handle = (globalThis as unknown as { __qvRedis?: RedisClusterHandle }).__qvRedis;
  await handle?.stop();
  const dir = process.env['TEST_REDIS_DATA_DIR'];
  if (dir) rmSync(dir, { recursive: true, force: true });
}
