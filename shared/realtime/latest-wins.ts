import type { RealtimeEvent } from './events';

/**
 * "Latest wins" for tallies: a `tally.updated` carries an election's full totals, so of
 * several for one topic only the newest means anything; a subscriber that is behind
 * needs that one alone. Every other event (above all a voter's own `vote.finalized` /
 * `vote.rejected`, and lifecycle and cluster events) is a fact of its own and is kept,
 * in order: only superseded tallies are ever dropped.
 */
export function latestWins(events: readonly RealtimeEvent[]): RealtimeEvent[] {
  const lastTally = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.type === 'tally.updated') lastTally.set(e.topic, i);
  });
  if (lastTally.size === 0) return [...events];
  return events.filter((e, i) => e.type !== 'tally.updated' || lastTally.get(e.topic) === i);
}

/** FNV-1a of a connection id: which shard of a split fan-out delivers to it (stable, even). */
export function shardOf(connectionId: string, count: number): number {
  if (count <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < connectionId.length; i++) {
    h ^= connectionId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}
