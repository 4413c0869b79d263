import { isWarmUp } from '../shared/warm-up';
import { systemClock } from '../shared/clock';
import { ApiError, toEnvelope } from '../shared/errors';
import { ConnectionQuota, maxConnectionsPerUser } from '../shared/realtime/connection-quota';
import { checkRateLimits, rateLimitFromEnv } from '../shared/votes/rate-limit';
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
const rt = loadRealtimeConfig();
const registry = new ConnectionRegistry(redis(), rt);
const quota = new ConnectionQuota(redis(), maxConnectionsPerUser());
/** `RATE_LIMIT_WS_CONNECT` connects per user per `RATE_LIMIT_WS_WINDOW_MS` (default 60 per minute). */
const connectLimit = rateLimitFromEnv('RATE_LIMIT_WS_CONNECT', 'RATE_LIMIT_WS_WINDOW_MS');

function refuse(err: ApiError) {
  return { statusCode: err.status, body: JSON.stringify(toEnvelope(err)) };
}

/**
 * WebSocket `$connect`: the JWT comes as `?token=` (browsers cannot set headers on a
 * WebSocket). A missing or bad token refuses the connection with 401; a valid one
 * registers the connection in Redis with its expiry.
 */
export async function handler(event: ConnectEvent): Promise<{ statusCode: number; body?: string }> {
  if (isWarmUp(event)) return { statusCode: 204 };
  const connectionId = event.requestContext.connectionId;
  try {
    const claims = await authenticateToken(event.queryStringParameters?.['token']);
    const now = Date.now();
    // One token must not open connections without end (each costs a registry record and
    // fan-out work): a connect rate and a cap on live connections per user.
    await withDeadline(
      checkRateLimits(redis(), systemClock, [{ subject: `wsc:${claims.sub}`, rule: connectLimit }]),
      5000,
    );
    const admitted = await withDeadline(
      quota.admit(claims.sub, connectionId, now + rt.connectionTtlMs, now),
      5000,
    );
    if (!admitted) {
      throw new ApiError(
        429,
        'too_many_connections',
        `A user may hold at most ${maxConnectionsPerUser()} WebSocket connections; close one first`,
        undefined,
        { 'Retry-After': '1' },
      );
    }
    try {
      await withDeadline(registry.add(connectionId, claims, now), 5000);
    } catch (err) {
      // Not connected after all: give the place back (best effort; it expires anyway).
      await quota.release(claims.sub, connectionId).catch(() => undefined);
      throw err;
    }
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
