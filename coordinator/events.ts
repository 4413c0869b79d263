import type { Cluster } from 'ioredis';
import { eventChannels } from '../shared/redis/keys';

/**
 * Cluster events (leader changes, nodes joining and leaving, clock alarms) go out on a
 * sharded pub/sub channel; the WebSocket fan-out turns them into API.md events on the
 * `cluster` topic.
 */
export type ClusterEventType = 'leader.changed' | 'node.joined' | 'node.left' | 'clock.alarm';

export interface ClusterEvent {
  type: ClusterEventType;
  topic: 'cluster';
  data: Record<string, unknown>;
  ts: string;
}

export async function publishClusterEvent(
  redis: Cluster,
  type: ClusterEventType,
  data: Record<string, unknown>,
  nowMs: number,
): Promise<void> {
  const event: ClusterEvent = { type, topic: 'cluster', data, ts: new Date(nowMs).toISOString() };
  await redis.spublish(eventChannels.cluster, JSON.stringify(event));
}
