import { type RealtimeEvent, isRealtimeEvent, voteEvent } from './events';

/**
 * Every message that travels on the sharded pub/sub channels, in one place, next to the
 * client events they become: the finalizer's `votes.finalized` batches and the election
 * store's lifecycle changes on an election's channel, and ready-made `cluster` events on
 * the cluster channel. The publishers (coordinator pipeline, election store, coordinator
 * node) and the consumer (the leader's fan-out) import the formats from here; this
 * module imports no domain code, so the realtime layer and the domain do not import each
 * other in a loop.
 */

/** What a finalized batch announces (on the election's sharded channel). */
export interface FinalizedBatchMessage {
  type: 'votes.finalized';
  electionId: string;
  partition: number;
  counted: string[];
  rejected: { voteId: string; reason: string }[];
  at: string;
}

/**
 * An election's lifecycle change, published by the election store on the election's
 * sharded channel (next to the pipeline's `votes.finalized` batches). `E` is the public
 * election object (the domain's `Election`), carried as it is.
 */
export interface ElectionLifecycleMessage<E extends object = Record<string, unknown>> {
  type: 'election.opened' | 'election.closed';
  electionId: string;
  election: E;
  at: string;
}

export function lifecycleMessage<E extends { id: string }>(
  type: ElectionLifecycleMessage['type'],
  election: E,
  nowMs: number,
): ElectionLifecycleMessage<E> {
  return { type, electionId: election.id, election, at: new Date(nowMs).toISOString() };
}

/** The client events of the `cluster` topic, published by coordinators on the cluster channel. */
export type ClusterEventType = 'leader.changed' | 'node.joined' | 'node.left' | 'clock.alarm';

/** A cluster event travels ready-made: it is the client event itself. */
export interface ClusterEvent extends RealtimeEvent {
  type: ClusterEventType;
  topic: 'cluster';
}

export function clusterEvent(
  type: ClusterEventType,
  data: Record<string, unknown>,
  nowMs: number,
): ClusterEvent {
  return { type, topic: 'cluster', data, ts: new Date(nowMs).toISOString() };
}

/** A channel message, parsed and checked. */
export type ChannelMessage<E extends object = Record<string, unknown>> =
  | { kind: 'batch'; batch: FinalizedBatchMessage }
  | { kind: 'lifecycle'; message: ElectionLifecycleMessage<E> }
  | { kind: 'cluster'; event: RealtimeEvent };

/**
 * Parses what arrived on a channel (`clusterChannel`: the cluster channel, else an
 * election's); null for anything that is not one of the messages above. `E` is what
 * the reader takes a lifecycle message's election object to be (its publisher's type).
 */
export function parseChannelMessage<E extends object = Record<string, unknown>>(
  text: string,
  clusterChannel: boolean,
): ChannelMessage<E> | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const m = v as Record<string, unknown>;
  if (clusterChannel) {
    return isRealtimeEvent(v) && m['topic'] === 'cluster' ? { kind: 'cluster', event: v } : null;
  }
  if (
    m['type'] === 'votes.finalized' &&
    typeof m['electionId'] === 'string' &&
    Array.isArray(m['counted']) &&
    Array.isArray(m['rejected']) &&
    typeof m['at'] === 'string'
  ) {
    return { kind: 'batch', batch: v as FinalizedBatchMessage };
  }
  if (
    (m['type'] === 'election.opened' || m['type'] === 'election.closed') &&
    typeof m['electionId'] === 'string' &&
    m['election'] &&
    typeof m['election'] === 'object' &&
    typeof m['at'] === 'string'
  ) {
    return { kind: 'lifecycle', message: v as ElectionLifecycleMessage<E> };
  }
  return null;
}

/** `election.opened` / `election.closed` on `election:<id>`, with the public election object. */
export function electionEvent(m: ElectionLifecycleMessage<object>): RealtimeEvent {
  return {
    type: m.type,
    topic: `election:${m.electionId}`,
    data: { electionId: m.electionId, ...m.election },
    ts: m.at,
  };
}

/** The vote ids a batch decided. */
export function batchVoteIds(batch: FinalizedBatchMessage): string[] {
  return [...batch.counted, ...batch.rejected.map((r) => r.voteId)];
}

/** `vote.finalized` / `vote.rejected` events for the votes of a batch that somebody watches. */
export function batchVoteEvents(batch: FinalizedBatchMessage, watched: Set<string>): RealtimeEvent[] {
  const out: RealtimeEvent[] = [];
  for (const voteId of batch.counted) {
    if (watched.has(voteId)) {
      out.push(
        voteEvent({
          voteId,
          electionId: batch.electionId,
          outcome: 'counted',
          finalizedAt: batch.at,
          ts: batch.at,
        }),
      );
    }
  }
  for (const r of batch.rejected) {
    if (watched.has(r.voteId)) {
      out.push(
        voteEvent({
          voteId: r.voteId,
          electionId: batch.electionId,
          outcome: 'rejected',
          reason: r.reason,
          finalizedAt: batch.at,
          ts: batch.at,
        }),
      );
    }
  }
  return out;
}
