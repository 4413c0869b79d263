/**
 * Redis keys of the WebSocket connection registry. They live next to the registry
 * rather than in `shared/redis/keys.ts` because nothing else touches them; the layout
 * follows the same rules (CONVENTIONS 7): every key that one MULTI touches shares one
 * hash tag.
 *
 * - A connection's record lives under `{ws:c:<connectionId>}`.
 * - A topic's subscribers live under `{ws:t:<topic>}`, except vote topics, which live
 *   with their election's watch list under `{ws:v:<electionId>}` so that subscribing to
 *   a vote updates both in one slot.
 */
export const realtimeKeys = {
  /** hash: sub, role, connectedAt, expiresAt, tokenExp, and one `t:<topic>` field per subscription. */
  connection: (connectionId: string) => `{ws:c:${connectionId}}`,
  /** sorted set: connectionId → the connection's expiry (ms); members past it are dead. */
  topic: (topic: string) => `{ws:t:${topic}}`,
  /** sorted set: connectionId → expiry (ms), subscribers of one vote. */
  voteTopic: (electionId: string, voteId: string) => `{ws:v:${electionId}}:t:${voteId}`,
  /**
   * sorted set: voteId → expiry (ms), the votes of an election that somebody watches.
   * The fan-out checks a finalized batch against it in one call, so votes nobody
   * watches never cost a delivery.
   */
  voteWatch: (electionId: string) => `{ws:v:${electionId}}:watch`,
  /** string: the last tally delivery of an election that the broadcast function finished. */
  tallyAck: (electionId: string) => `{ws:ack:${electionId}}`,
} as const;
