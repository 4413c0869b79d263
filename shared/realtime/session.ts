import type { Clock } from '../clock';
import { authorizeTopic, type TopicDirectory } from './authorize';
import { type RealtimeEvent, voteEvent } from './events';
import {
  MAX_TOPICS_PER_CONNECTION,
  type RawFrame,
  type Reply,
  WsError,
  errorReply,
  parseClientFrame,
} from './protocol';
import type { ConnectionRegistry } from './registry';
import { MAX_TOPIC_CHARS, parseTopic, type Topic } from './topics';

/** Current state of a topic, read at subscribe time (the port to results and votes). */
export interface SnapshotReader {
  /** The election's results (full totals), or null when unknown. */
  election(electionId: string): Promise<Record<string, unknown> | null>;
  /** The vote's status, or null when unknown. */
  vote(
    electionId: string,
    voteId: string,
  ): Promise<{ status: 'pending' | 'finalized' | 'rejected'; reason?: string; approvals: number } | null>;
}

/**
 * Whether a connection's token has been revoked since it connected (its user disabled
 * or their sessions ended); see shared/auth/revocations.ts.
 */
export interface RevocationCheck {
  /** Read now (not cached), so the check after a write cannot miss a revocation. */
  revoked(sub: string, sv: number): Promise<boolean>;
}

/** What goes back to the client, in order. */
export type Outgoing = Reply | RealtimeEvent;

/**
 * One client message, start to finish: parse, authorize, update the registry, and
 * answer. Client mistakes come back as error events (never as exceptions); only
 * infrastructure failures (Redis down) throw, for the handler to map.
 */
export class WsSession {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly directory: TopicDirectory,
    private readonly snapshots: SnapshotReader,
    private readonly clock: Clock,
    private readonly revocations?: RevocationCheck,
  ) {}

  private revokedError(topic: Topic): WsError {
    return new WsError(
      'token_revoked',
      'The token of this connection has been revoked; log in again and reconnect',
      topic.name,
    );
  }

  async handle(connectionId: string, body: RawFrame, isBase64Encoded = false): Promise<Outgoing[]> {
    let action: string | undefined;
    try {
      const frame = parseClientFrame(body, isBase64Encoded);
      action = frame.action;
      const topic = parseTopic(frame.topic);
      if (!topic) {
        const shown = typeof frame.topic === 'string' ? frame.topic.slice(0, MAX_TOPIC_CHARS) : undefined;
        throw new WsError(
          'invalid_topic',
          'Topic must be "election:<id>", "vote:<voteId>" or "cluster"',
          shown,
        );
      }
      return frame.action === 'subscribe'
        ? await this.subscribe(connectionId, topic)
        : await this.unsubscribe(connectionId, topic);
    } catch (err) {
      if (err instanceof WsError) return [errorReply(err, action)];
      throw err;
    }
  }

  private async subscribe(connectionId: string, topic: Topic): Promise<Outgoing[]> {
    const conn = await this.registry.get(connectionId);
    if (!conn) throw new WsError('unknown_connection', 'This connection is not registered; reconnect');
    const now = this.clock.now();
    if (conn.tokenExpiresAt <= now) {
      throw new WsError('token_expired', 'The token of this connection has expired; reconnect', topic.name);
    }
    if (!conn.topics.includes(topic.name) && conn.topics.length >= MAX_TOPICS_PER_CONNECTION) {
      throw new WsError(
        'too_many_subscriptions',
        `A connection may hold at most ${MAX_TOPICS_PER_CONNECTION} subscriptions`,
        topic.name,
      );
    }
    if (await this.revocations?.revoked(conn.sub, conn.sv)) throw this.revokedError(topic);
    await authorizeTopic(conn, topic, this.directory);
    // Subscribe first, read state after: an event published in between is either in
    // the snapshot or delivered live (possibly both; events are idempotent).
    await this.registry.subscribe(conn, topic);
    // Written first, checked after: a revocation that ran meanwhile either saw this
    // subscription (and removed it) or is seen here, never neither.
    if (await this.revocations?.revoked(conn.sub, conn.sv)) {
      await this.registry.unsubscribe(connectionId, topic, this.clock.now());
      throw this.revokedError(topic);
    }
    const out: Outgoing[] = [];
    if (topic.kind === 'election') {
      const snapshot = await this.snapshots.election(topic.electionId);
      out.push({ type: 'subscribed', topic: topic.name, ...(snapshot ? { snapshot } : {}) });
    } else if (topic.kind === 'vote') {
      const v = await this.snapshots.vote(topic.electionId, topic.voteId);
      out.push({
        type: 'subscribed',
        topic: topic.name,
        ...(v ? { snapshot: { voteId: topic.voteId, electionId: topic.electionId, ...v } } : {}),
      });
      // Already decided: its live event may have gone out before this subscription.
      if (v && v.status !== 'pending') {
        out.push(
          voteEvent({
            voteId: topic.voteId,
            electionId: topic.electionId,
            outcome: v.status === 'rejected' ? 'rejected' : 'counted',
            ...(v.reason ? { reason: v.reason } : {}),
            finalizedAt: null,
            ts: new Date(now).toISOString(),
          }),
        );
      }
    } else {
      out.push({ type: 'subscribed', topic: topic.name });
    }
    return out;
  }

  private async unsubscribe(connectionId: string, topic: Topic): Promise<Outgoing[]> {
    await this.registry.unsubscribe(connectionId, topic, this.clock.now());
    return [{ type: 'unsubscribed', topic: topic.name }];
  }
}
