import { clusterName } from '../redis/keys';

/**
 * Redis keys of the WebSocket connection registry: the key module of this aggregate
 * (docs/architecture.md "Redis keys": one key module per aggregate, nothing else writes
 * a key's text). Every key that one MULTI touches shares one hash tag. Everything is named after the coordinator cluster (`CLUSTER_NAME`), so two
 * clusters sharing one Redis never deliver to, or prune, each other's connections.
 *
 * - A connection's record lives under `{ws:<cluster>:c:<connectionId>}`.
 * - A topic's subscribers live under `{ws:<cluster>:t:<topic>}`, except vote topics,
 *   which live with their election's watch list under `{ws:<cluster>:v:<electionId>}`
 *   so that subscribing to a vote updates both in one slot.
 */
const PREFIX = '{ws:';

/** True for a key of some cluster's registry (the broadcast function acks only those). */
export function isRealtimeKey(key: string): boolean {
  return key.startsWith(PREFIX);
}

export function realtimeKeysFor(cluster: string) {
  const ns = `ws:${cluster}`;
  return {
    /** Pattern of every key below (for tools and tests). */
    pattern: `{${ns}:*`,
    /** hash: sub, role, connectedAt, expiresAt, tokenExpiresAt, and one `t:<topic>` field per subscription. */
    connection: (connectionId: string) => `{${ns}:c:${connectionId}}`,
    /**
     * sorted set: connectionId → expiry (ms), the connections of one token subject, so
     * revoking a user's sessions finds (and drops) their live subscriptions.
     */
    subject: (sub: string) => `{${ns}:u:${sub}}`,
    /** sorted set: connectionId → when its subscription ends (ms: connection or token expiry); members past it are dead. */
    topic: (topic: string) => `{${ns}:t:${topic}}`,
    /** sorted set: connectionId → expiry (ms), subscribers of one vote. */
    voteTopic: (electionId: string, voteId: string) => `{${ns}:v:${electionId}}:t:${voteId}`,
    /**
     * sorted set: voteId → expiry (ms), the votes of an election that somebody watches.
     * The fan-out checks a finalized batch against it in one call, so votes nobody
     * watches never cost a delivery.
     */
    voteWatch: (electionId: string) => `{${ns}:v:${electionId}}:watch`,
    /**
     * string: the last tally delivery of an election that the broadcast function
     * finished (shard k of a split fan-out: its own key, in the same slot).
     */
    tallyAck: (electionId: string, shard?: number) =>
      shard === undefined ? `{${ns}:ack:${electionId}}` : `{${ns}:ack:${electionId}}:${shard}`,
    /**
     * string: the newest `tally.updated` event of an election (JSON), written by the
     * fan-out at every tally read: a delivery under way posts this one to the
     * connections it has not reached yet ("latest wins"), not the one it was given.
     */
    tallyLatest: (electionId: string) => `{${ns}:ack:${electionId}}:latest`,
  } as const;
}

export type RealtimeKeys = ReturnType<typeof realtimeKeysFor>;

/** This process's registry keys (see `clusterName`). */
export const realtimeKeys = realtimeKeysFor(clusterName);
