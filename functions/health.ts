import { unavailable } from '../shared/errors';
import { httpHandler } from './lib/http';
import { redis, withDeadline } from './lib/redis';

/** `GET /health`: 200 only when Redis Cluster answers. */
export const handler = httpHandler('GET /health', async () => {
  const started = performance.now();
  try {
    await withDeadline(redis().ping(), 1500);
  } catch {
    throw unavailable('Redis Cluster is not reachable');
  }
  return {
    status: 200,
    body: { status: 'ok', redis: 'ok', redisLatencyMs: Math.round((performance.now() - started) * 10) / 10 },
  };
});
