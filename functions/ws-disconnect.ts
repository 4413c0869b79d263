import { isWarmUp } from '../shared/warm-up';
import { createLogger, errorFields } from '../shared/logger';
import { loadRealtimeConfig } from '../shared/realtime/config';
import { ConnectionRegistry } from '../shared/realtime/registry';
import { redis, withDeadline } from './lib/redis';

interface DisconnectEvent {
  requestContext: { connectionId: string };
}

const log = createLogger({ component: 'ws', route: '$disconnect' });
const registry = new ConnectionRegistry(redis(), loadRealtimeConfig());

/**
 * WebSocket `$disconnect`: forgets the connection and its subscriptions. Best effort
 * (API Gateway may skip it): whatever is left expires with the connection, and a post
 * to it answers 410 and removes it.
 */
export async function handler(event: DisconnectEvent): Promise<{ statusCode: number }> {
  if (isWarmUp(event)) return { statusCode: 204 };
  const connectionId = event.requestContext.connectionId;
  try {
    const topics = await withDeadline(registry.remove(connectionId, Date.now()), 3000);
    log.info('disconnected', { connectionId, topics });
  } catch (err) {
    log.warn('disconnect cleanup failed; the registry entry will expire', {
      connectionId,
      ...errorFields(err),
    });
  }
  return { statusCode: 200 };
}
