import type { Cluster } from 'ioredis';
import { type ClusterEventType, clusterEvent } from '../shared/realtime/channel-messages';
import { eventChannels } from '../shared/redis/keys';

/**
 * Cluster events (leader changes, nodes joining and leaving, clock alarms) go out on a
 * sharded pub/sub channel; the WebSocket fan-out sends them on to the `cluster` topic.
 * Their format is in shared/realtime/channel-messages.ts.
 */

export async function publishClusterEvent(
  redis: Cluster,
  type: ClusterEventType,
  data: Record<string, unknown>,
  nowMs: number,
): Promise<void> {
  await redis.spublish(eventChannels.cluster, JSON.stringify(clusterEvent(type, data, nowMs)));
}
