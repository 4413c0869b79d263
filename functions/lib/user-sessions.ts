import type { RevocationAction } from '../../shared/auth/revocations';
import { badRequest } from '../../shared/errors';
import { loadRealtimeConfig } from '../../shared/realtime/config';
import { ConnectionRegistry } from '../../shared/realtime/registry';
import { requireRole, revocations } from './auth';
import { type HttpHandler, httpHandler } from './http';
import { redis } from './redis';

/**
 * The admin routes that end a user's sessions: `POST /users/{id}/revoke-sessions`,
 * `/disable` and `/enable`. `id` is the tokens' `sub` (a user id of this identity
 * provider, or the subject of an external one). The change is written first, then the
 * subject's WebSocket subscriptions are dropped; a subscribe racing this re-checks the
 * list after writing (shared/realtime/session.ts), so none survives.
 */
const SUBJECT = /^[A-Za-z0-9_.:@|-]{1,128}$/;

let registry: ConnectionRegistry | undefined;
const connections = (): ConnectionRegistry => {
  registry ??= new ConnectionRegistry(redis(), loadRealtimeConfig());
  return registry;
};

/** A handler applying `action` to the subject in the path. */
export function userSessionsHandler(route: string, action: RevocationAction): HttpHandler {
  return httpHandler(route, async (req) => {
    await requireRole(req, 'admin');
    const id = req.params['id'] ?? '';
    if (!SUBJECT.test(id)) {
      throw badRequest('id must be 1 to 128 characters of letters, digits and _ . : @ | -', { field: 'id' });
    }
    const state = await revocations.apply(id, action);
    const ended = action === 'enable' ? 0 : await connections().endSubscriptionsOf(id, Date.now());
    return {
      status: 200,
      body: {
        id,
        disabled: state.disabled,
        sessionVersion: state.version,
        subscriptionsEnded: ended,
      },
    };
  });
}
