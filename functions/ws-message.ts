import { isWarmUp } from '../shared/warm-up';
import { systemClock } from '../shared/clock';
import { createLogger, errorFields } from '../shared/logger';
import { apiGatewayPoster } from '../shared/realtime/api-gateway-poster';
import { redisTopicDirectory } from '../shared/realtime/authorize';
import { loadRealtimeConfig } from '../shared/realtime/config';
import type { ConnectionPoster } from '../shared/realtime/delivery';
import { type RawFrame, WsError, errorReply } from '../shared/realtime/protocol';
import { ConnectionRegistry } from '../shared/realtime/registry';
import { RevocationList } from '../shared/auth/revocations';
import {
  type Outgoing,
  type RevocationCheck,
  type SnapshotReader,
  WsSession,
} from '../shared/realtime/session';
import { rateLimitFromEnv, takeTokens } from '../shared/votes/rate-limit';
import { readResults, readVote } from '../shared/votes/read';
import { elections } from './lib/elections';
import { isUnavailableError } from './lib/http';
import { config, redis, withDeadline } from './lib/redis';

/** The parts of API Gateway's message event this handler reads. */
interface MessageEvent {
  requestContext: { connectionId: string; routeKey?: string };
  body?: RawFrame;
  isBase64Encoded?: boolean;
}

const log = createLogger({ component: 'ws', route: 'message' });
/** `RATE_LIMIT_WS_MESSAGES` messages per connection per `RATE_LIMIT_WS_MESSAGES_WINDOW_MS` (default 60 per 10 s). */
const messageLimit = rateLimitFromEnv('RATE_LIMIT_WS_MESSAGES', 'RATE_LIMIT_WS_MESSAGES_WINDOW_MS');
const rt = loadRealtimeConfig();
const registry = new ConnectionRegistry(redis(), rt);

const snapshots: SnapshotReader = {
  async election(electionId) {
    const e = await elections.get(electionId);
    return e ? { ...(await readResults(redis(), systemClock, e)) } : null;
  },
  async vote(electionId, voteId) {
    const e = await elections.get(electionId);
    if (!e) return null;
    // Authorization already passed: read it as an admin would.
    const v = await readVote(redis(), e, voteId, config.coordinators, { sub: '', role: 'admin' });
    return { status: v.status, ...(v.reason ? { reason: v.reason } : {}), approvals: v.approvals };
  },
};
const revocations: RevocationCheck = new RevocationList(redis());
const session = new WsSession(
  registry,
  redisTopicDirectory(redis(), elections),
  snapshots,
  systemClock,
  revocations,
);

let poster: ConnectionPoster | undefined;
const getPoster = (): ConnectionPoster =>
  (poster ??= apiGatewayPoster({ endpoint: rt.wsEndpoint, region: rt.region, maxSockets: 8 }));

/**
 * Routes `subscribe`, `unsubscribe` and `$default`: every client message. One answer
 * goes back as the route response; when there are more (a vote that was already final
 * gets `subscribed` and then its event), they are posted in order. Never throws: a
 * thrown error would reach the client as API Gateway's generic "Internal server error".
 */
export async function handler(event: MessageEvent): Promise<{ statusCode: number; body?: string }> {
  if (isWarmUp(event)) return { statusCode: 204 };
  const connectionId = event.requestContext.connectionId;
  let out: Outgoing[];
  try {
    // Every message may cost authorization and a snapshot read: a client that sends
    // them in a loop is told to slow down, and its messages cost one bucket check.
    const allowed = await withDeadline(
      takeTokens(redis(), systemClock, { subject: `wsm:${connectionId}`, rule: messageLimit }),
      5000,
    );
    out = allowed.taken
      ? await withDeadline(session.handle(connectionId, event.body, event.isBase64Encoded === true), 5000)
      : [
          errorReply(
            new WsError(
              'rate_limited',
              `Too many messages on this connection; retry in ${Math.max(1, Math.ceil(allowed.waitMs / 1000))} s`,
            ),
          ),
        ];
  } catch (err) {
    const unavailable = isUnavailableError(err);
    if (!unavailable) log.error('message failed', { connectionId, ...errorFields(err) });
    out = [
      errorReply(
        unavailable
          ? new WsError('unavailable', 'The cluster is unavailable; retry shortly')
          : new WsError('internal', 'Internal error'),
      ),
    ];
  }
  const first = out[0]!;
  log.debug('message', { connectionId, reply: first.type });
  if (out.length === 1) return { statusCode: 200, body: JSON.stringify(first) };
  try {
    for (const m of out) await getPoster().post(connectionId, Buffer.from(JSON.stringify(m), 'utf8'));
    return { statusCode: 200 };
  } catch (err) {
    log.warn('could not post the replies; answering with the first only', {
      connectionId,
      ...errorFields(err),
    });
    return { statusCode: 200, body: JSON.stringify(first) };
  }
}
