/**
 * Every Redis key is made here (CONVENTIONS 7). Keys that one Lua script touches
 * share one hash tag, so the script runs in one slot.
 *
 * - Cluster-wide coordination state lives under the tag `{qv}`.
 * - An election's metadata lives under `{el:<id>}`.
 * - Each election partition lives under `{e:<id>:<p>}` (ARCHITECTURE "Data layout").
 * - Users live under `{u:<username>}` (one slot per user).
 */
export const clusterTag = '{qv}';

export const clusterKeys = {
  /** hash nodeId → JSON member record (address, start time, heartbeat). */
  members: `${clusterTag}:members`,
  /** string: highest leader term that has written (fencing for leader-only writes). */
  leaderFence: `${clusterTag}:leader-fence`,
  /** hash: id, term, since — the current leader as last written by a fenced write. */
  leader: `${clusterTag}:leader`,
  /** string: a node's current term (persisted so a restart never goes back). */
  nodeTerm: (nodeId: string) => `${clusterTag}:term:${nodeId}`,
  /** string: whom `nodeId` voted for in `term` (SET NX: one vote per node per term). */
  vote: (term: number, nodeId: string) => `${clusterTag}:vote:${term}:${nodeId}`,
  /** list of elections the leader manages. */
  elections: `${clusterTag}:elections`,
  /** counters for stats. */
  stats: `${clusterTag}:stats`,
} as const;

/** Sharded pub/sub channels and streams for events. */
export const eventChannels = {
  cluster: `${clusterTag}:events`,
} as const;
