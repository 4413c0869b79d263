import type { FinalizedBatchEvent } from '../pipeline/finalizer';
import {
  type ElectionLifecycleMessage,
  type RealtimeEvent,
  isRealtimeEvent,
  voteEvent,
} from '../../shared/realtime/events';

/**
 * What arrives on the sharded channels the fan-out listens to, parsed and checked:
 * the pipeline's `votes.finalized` batches and the store's lifecycle changes on an
 * election's channel, and ready-made `cluster` events on the cluster channel.
 */
export type ChannelMessage =
  | { kind: 'batch'; batch: FinalizedBatchEvent }
  | { kind: 'lifecycle'; message: ElectionLifecycleMessage }
  | { kind: 'cluster'; event: RealtimeEvent };

export function parseChannelMessage(text: string, clusterChannel: boolean): ChannelMessage | null {
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
    return { kind: 'batch', batch: v as FinalizedBatchEvent };
  }
  if (
    (m['type'] === 'election.opened' || m['type'] === 'election.closed') &&
    typeof m['electionId'] === 'string' &&
    m['election'] &&
    typeof m['election'] === 'object' &&
    typeof m['at'] === 'string'
  ) {
    return { kind: 'lifecycle', message: v as ElectionLifecycleMessage };
  }
  return null;
}

/** The vote ids a batch decided. */
export function batchVoteIds(batch: FinalizedBatchEvent): string[] {
  return [...batch.counted, ...batch.rejected.map((r) => r.voteId)];
}

/** `vote.finalized` / `vote.rejected` events for the votes of a batch that somebody watches. */
export function batchVoteEvents(batch: FinalizedBatchEvent, watched: Set<string>): RealtimeEvent[] {
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

/** Messages received recently, kept so that a new leader can re-send the handover gap. */
export class ReplayBuffer {
  private items: { at: number; channel: string; text: string }[] = [];

  constructor(private readonly windowMs: number) {}

  push(at: number, channel: string, text: string): void {
    this.items.push({ at, channel, text });
    this.prune(at);
  }

  /** Messages of the last `windowMs`, oldest first. */
  recent(now: number): { channel: string; text: string }[] {
    this.prune(now);
    return this.items.map(({ channel, text }) => ({ channel, text }));
  }

  private prune(now: number): void {
    let i = 0;
    while (i < this.items.length && now - this.items[i]!.at > this.windowMs) i++;
    if (i > 0) this.items.splice(0, i);
    // A burst cannot make this grow without bound.
    if (this.items.length > 10000) this.items.splice(0, this.items.length - 10000);
  }
}
