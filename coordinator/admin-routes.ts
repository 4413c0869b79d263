import type { SkewedClock } from '../shared/clock';
import type { RaftMessage, Role } from '../shared/consensus/raft';
import type { Logger } from '../shared/logger';
import type { CoordinatorStatus } from '../shared/membership/coordinator-status';
import { clusterName } from '../shared/redis/keys';
import type { AdminRoute } from './admin-server';
import { type PeerVerifier, isNonce, signTime } from './peer-auth';

/** What the admin routes need of the coordinator: narrow, so they are testable alone. */
export interface AdminRouteDeps {
  id: string;
  /** Whether this node's last heartbeat reached Redis. */
  storeHealthy(): boolean;
  role(): Role;
  status(): CoordinatorStatus;
  /** The Prometheus text exposition. */
  metrics(): Promise<string> | string;
  /** The synchronized clock's reading (what `/time` answers). */
  now(): number;
  clusterSecret: Buffer;
  /** Authenticates (and de-duplicates) what peers send to `POST /raft`. */
  verifier: PeerVerifier;
  /** Hands an authenticated election message to the state machine. */
  onRaftMessage(message: RaftMessage): void;
  /** Test mode only: the clock the `POST /admin/clock` route skews (absent: no such route). */
  testClock?: SkewedClock;
  log: Logger;
}

/**
 * The coordinator's admin port: `/health`, `/status`, `/metrics` for operators, and the
 * peer routes the cluster uses (`/raft`, `/time`). In test mode only, `POST /admin/clock`
 * injects clock skew; without test mode the route does not exist (404).
 */
export function adminRoutes(d: AdminRouteDeps): Record<string, AdminRoute> {
  const routes: Record<string, AdminRoute> = {
    'GET /health': async () => ({
      status: d.storeHealthy() ? 200 : 503,
      body: d.storeHealthy()
        ? { status: 'ok', id: d.id, role: d.role() }
        : { error: { code: 'unavailable', message: 'Redis Cluster is not reachable' } },
    }),
    'GET /status': async () => ({ status: 200, body: d.status() }),
    'GET /metrics': async () => ({
      status: 200,
      body: await d.metrics(),
      contentType: 'text/plain; version=0.0.4',
    }),
    'GET /time': async ({ query }) => {
      const now = d.now();
      const nonce = query.get('nonce');
      // With the asker's nonce the reading is signed for it (peers only use signed ones).
      const mac = isNonce(nonce) ? signTime(d.clusterSecret, clusterName, d.id, nonce, now) : undefined;
      return { status: 200, body: { now, node: d.id, ...(mac ? { mac } : {}) } };
    },
    'POST /raft': async ({ body }) => {
      const r = d.verifier.verify(body);
      if (!r.ok) {
        const { status, code, message } = r.refusal;
        return { status, body: { error: { code, message } } };
      }
      const msg = r.message;
      // Our own messages come from the driver, never over the wire.
      if (msg.to !== d.id || msg.from === d.id) {
        return {
          status: 400,
          body: { error: { code: 'invalid_request', message: 'Not a message for me' } },
        };
      }
      d.onRaftMessage(msg);
      return { status: 202, body: {} };
    },
  };
  const clock = d.testClock;
  if (clock) {
    routes['POST /admin/clock'] = async ({ body }) => {
      const b = (body ?? {}) as { skewMs?: unknown; driftPpm?: unknown };
      if (typeof b.skewMs !== 'number' || (b.driftPpm !== undefined && typeof b.driftPpm !== 'number')) {
        return {
          status: 400,
          body: { error: { code: 'invalid_request', message: 'Send {skewMs: number, driftPpm?: number}' } },
        };
      }
      clock.set(b.skewMs, b.driftPpm ?? clock.driftPpm);
      d.log.warn('artificial clock skew set', { skewMs: b.skewMs, driftPpm: clock.driftPpm });
      return { status: 200, body: { skewMs: clock.skewMs, driftPpm: clock.driftPpm } };
    };
  }
  return routes;
}
