import type { RevocationAction } from '../../shared/auth/revocations';
import { badRequest } from '../../shared/errors';
import { createLogger, errorFields } from '../../shared/logger';
import { apiGatewayPoster } from '../../shared/realtime/api-gateway-poster';
import { loadRealtimeConfig } from '../../shared/realtime/config';
import type { ConnectionPoster } from '../../shared/realtime/delivery';
import { ConnectionRegistry } from '../../shared/realtime/registry';
import { requireRole, revocations } from './auth';
import { type HttpHandler, httpHandler } from './http';
import { redis, withDeadline } from './redis';

/**
 * The admin routes that end a user's sessions: `POST /users/{id}/revoke-sessions`,
 * `/disable` and `/enable`. `id` is the tokens' `sub` (a user id of this identity
 * provider, or the subject of an external one). The change is written first, then the
 * subject's WebSocket subscriptions are dropped; a subscribe racing this re-checks the
 * list after writing (shared/realtime/session.ts), so none survives.
 */
const SUBJECT = /^[A-Za-z0-9_.:@|-]{1,128}$/;

const log = createLogger({ component: 'user-sessions' });
const rt = loadRealtimeConfig();
let registry: ConnectionRegistry | undefined;
const connections = (): ConnectionRegistry => {
  registry ??= new ConnectionRegistry(redis(), rt);
  return registry;
};
let poster: ConnectionPoster | undefined;
const getPoster = (): ConnectionPoster =>
  (poster ??= apiGatewayPoster({ endpoint: rt.wsEndpoint, region: rt.region, maxSockets: 4 }));

/**
 * Closes the revoked subject's sockets too (their subscriptions already ended, which is
 * what the guarantee rests on): best effort, a socket that is gone or unreachable is
 * no reason to fail the revocation.
 */
async function closeAll(ids: string[]): Promise<number> {
  const results = await Promise.all(
    ids.map((id) =>
      withDeadline(getPoster().close?.(id) ?? Promise.resolve('gone' as const), 2000).catch(
        (err: unknown) => {
          log.warn('could not close a revoked connection', { connectionId: id, ...errorFields(err) });
          return 'failed' as const;
        },
      ),
    ),
  );
  return results.filter((r) => r === 'ok').length;
}

/** A handler applying `action` to the subject in the path. */
export function userSessionsHandler(route: string, action: RevocationAction): HttpHandler {
  return httpHandler(route, async (req) => {
    await requireRole(req, 'admin');
    const id = req.params['id'] ?? '';
    if (!SUBJECT.test(id)) {
      throw badRequest('id must be 1 to 128 characters of letters, digits and _ . : @ | -', { field: 'id' });
    }
    const state = await revocations.apply(id, action);
    let ended = 0;
    let closed = 0;
    if (action !== 'enable') {
      const r = await connections().endSubscriptionsOf(id, Date.now());
      ended = r.subscriptions;
      closed = await closeAll(r.connections);
    }
    return {
      status: 200,
      body: {
        id,
        disabled: state.disabled,
        sessionVersion: state.version,
        subscriptionsEnded: ended,
        connectionsClosed: closed,
      },
    };
  });
}
