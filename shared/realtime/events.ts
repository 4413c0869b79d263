import { isRealtimeKey } from './keys';

/**
 * Event formats of the real-time layer: what clients receive (API.md "WebSocket") and
 * what the coordinator hands to the `broadcast` function. What travels on the sharded
 * pub/sub channels is in `channel-messages.ts`.
 */

/** Server → client event types of API.md. */
export const EVENT_TYPES = [
  'vote.finalized',
  'vote.rejected',
  'tally.updated',
  'election.opened',
  'election.closed',
  'leader.changed',
  'node.joined',
  'node.left',
  'clock.alarm',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One server → client event: `{type, topic, data, ts}` (ts: ISO-8601 UTC, when it happened). */
export interface RealtimeEvent {
  type: EventType;
  topic: string;
  data: Record<string, unknown>;
  ts: string;
}

export function isRealtimeEvent(v: unknown): v is RealtimeEvent {
  if (!v || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e['type'] === 'string' &&
    (EVENT_TYPES as readonly string[]).includes(e['type']) &&
    typeof e['topic'] === 'string' &&
    typeof e['ts'] === 'string' &&
    !!e['data'] &&
    typeof e['data'] === 'object'
  );
}

/**
 * What the coordinator sends to the `broadcast` function (one asynchronous invocation):
 * many events, each delivered to every live subscriber of its topic.
 */
export interface BroadcastRequest {
  events: RealtimeEvent[];
  /** Who sent it and when (ms), for logs and delay measurements. */
  from?: string;
  sentAt?: number;
  /**
   * Keys to set once every event is delivered: the sender's way to learn that a
   * delivery finished (the fan-out keeps one tally delivery per election in flight).
   */
  acks?: BroadcastAck[];
  /**
   * A large fan-out split across concurrent invocations (as Lambda scales them): this
   * one delivers only to the subscribers with `shardOf(connectionId, count) === index`.
   */
  shard?: BroadcastShard;
}

export interface BroadcastShard {
  index: number;
  count: number;
}

/** Most invocations one fan-out is split into. */
export const MAX_BROADCAST_SHARDS = 64;

export interface BroadcastAck {
  key: string;
  value: string;
  ttlMs: number;
}

/** Async Lambda invocations take at most 256 KB; stay well below it. */
export const MAX_BROADCAST_PAYLOAD_BYTES = 200 * 1024;

/** Validates an untrusted broadcast payload; throws on anything else. */
export function parseBroadcastRequest(v: unknown): BroadcastRequest {
  if (!v || typeof v !== 'object' || !Array.isArray((v as BroadcastRequest).events)) {
    throw new Error('broadcast: expected {events: [...]}');
  }
  const r = v as BroadcastRequest;
  const bad = r.events.findIndex((e) => !isRealtimeEvent(e));
  if (bad >= 0) throw new Error(`broadcast: events[${bad}] is not an event`);
  const acks = r.acks ?? [];
  if (
    !Array.isArray(acks) ||
    acks.some(
      (a) =>
        !a ||
        typeof a.key !== 'string' ||
        !isRealtimeKey(a.key) ||
        typeof a.value !== 'string' ||
        typeof a.ttlMs !== 'number',
    )
  ) {
    throw new Error('broadcast: acks must be [{key: "{ws:...", value, ttlMs}]');
  }
  const sh = r.shard;
  if (
    sh !== undefined &&
    (!sh ||
      !Number.isInteger(sh.count) ||
      !Number.isInteger(sh.index) ||
      sh.count < 1 ||
      sh.count > MAX_BROADCAST_SHARDS ||
      sh.index < 0 ||
      sh.index >= sh.count)
  ) {
    throw new Error(
      `broadcast: shard must be {index, count} with 0 <= index < count <= ${MAX_BROADCAST_SHARDS}`,
    );
  }
  return r;
}

/**
 * `vote.finalized` / `vote.rejected` on `vote:<voteId>`. `finalizedAt` is null when
 * the vote was found already final at subscribe time (the event then comes from a
 * state read, flagged `fromSnapshot`, and `ts` is the read time).
 */
export function voteEvent(v: {
  voteId: string;
  electionId: string;
  outcome: 'counted' | 'rejected';
  reason?: string;
  finalizedAt: string | null;
  ts: string;
}): RealtimeEvent {
  const rejected = v.outcome === 'rejected';
  return {
    type: rejected ? 'vote.rejected' : 'vote.finalized',
    topic: `vote:${v.voteId}`,
    data: {
      voteId: v.voteId,
      electionId: v.electionId,
      status: rejected ? 'rejected' : 'finalized',
      ...(rejected ? { reason: v.reason || 'rejected' } : {}),
      ...(v.finalizedAt === null ? { fromSnapshot: true } : { finalizedAt: v.finalizedAt }),
    },
    ts: v.ts,
  };
}

/** `tally.updated` on `election:<id>`: always the full results, so no history is needed. */
export function tallyEvent(
  results: { electionId: string; asOf: string } & Record<string, unknown>,
): RealtimeEvent {
  return { type: 'tally.updated', topic: `election:${results.electionId}`, data: results, ts: results.asOf };
}
