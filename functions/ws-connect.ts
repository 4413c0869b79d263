import { ApiError, toEnvelope } from '../shared/errors';
import { createLogger, errorFields } from '../shared/logger';
import { loadRealtimeConfig } from '../shared/realtime/config';
import { ConnectionRegistry } from '../shared/realtime/registry';
import { authenticateToken } from './lib/auth';
import { isUnavailableError } from './lib/http';
import { redis, withDeadline } from './lib/redis';

/** The parts of API Gateway's `$connect` event this handler reads. */
interface ConnectEvent {
  requestContext: { connectionId: string };
  queryStringParameters?: Record<string, string | undefined> | null;
}

const log = createLogger({ component: 'ws', route: '$connect' });
const registry = new ConnectionRegistry(redis(), loadRealtimeConfig());

function refuse(err: ApiError) {
  return { statusCode: err.status, body: JSON.stringify(toEnvelope(err)) };
}

/**
 * WebSocket `$connect`: the JWT comes as `?token=` (browsers cannot set headers on a
 * WebSocket). A missing or bad token refuses the connection with 401; a valid one
 * registers the connection in Redis with its expiry.
 */
export async function handler(event: ConnectEvent): Promise<{ statusCode: number; body?: string }> {
  const connectionId = event.requestContext.connectionId;
  try {
    const claims = await authenticateToken(event.queryStringParameters?.['token']);
    await withDeadline(registry.add(connectionId, claims, Date.now()), 5000);
    log.info('connected', { connectionId, sub: claims.sub, role: claims.role });
    return { statusCode: 200 };
  } catch (err) {
    if (err instanceof ApiError) {
      (err.status >= 500 ? log.warn : log.info)('connection refused', {
        connectionId,
        status: err.status,
        code: err.code,
        reason: err.message,
      });
      return refuse(err);
    }
    if (isUnavailableError(err)) {
      log.warn('connection refused: Redis unavailable', { connectionId, ...errorFields(err) });
      return refuse(new ApiError(503, 'unavailable', 'Retry shortly'));
    }
    log.error('connect failed', { connectionId, ...errorFields(err) });
    return refuse(new ApiError(500, 'internal', 'Internal error'));
  }
}
