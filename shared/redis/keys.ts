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

/** Keys of one election's metadata (all under `{el:<id>}`). */
export function electionKeys(electionId: string) {
  const t = `{el:${electionId}}`;
  return {
    /** hash: the election record (title, options JSON, status, times, partition tags). */
    meta: `${t}:meta`,
    /** string: highest leader term that wrote a scheduled transition (fencing). */
    leaderFence: `${t}:leader-fence`,
  } as const;
}

/** Index of all elections, newest last (sorted set: createdAt → id). */
export const electionIndexKey = '{elections}:index';
/** Set of elections the coordinators work on (open, or closed with work left). */
export const activeElectionsKey = '{elections}:active';

/**
 * Keys of one election partition. `tag` is the partition's hash tag, e.g. `{e:ab12:3}`
 * (ARCHITECTURE "Data layout"); every script on a partition touches only these keys.
 */
export function partitionKeys(tag: string) {
  return {
    /** string: 'open' while intake is open; anything else refuses new votes. */
    gate: `${tag}:gate`,
    /** set: eligible voters of this partition (only for restricted elections). */
    eligible: `${tag}:eligible`,
    /** hash: voter → "<streamId>|<idempotencyKey>|<receipt>": one vote per voter, and idempotency. */
    voters: `${tag}:voters`,
    /** stream: the partition's vote log; entry id = the vote's sequence. */
    votes: `${tag}:votes`,
    /** hash: validator id → last stream id it has judged (range verdicts). */
    checkpoints: `${tag}:checkpoints`,
    /** hash: "<validator>|<streamId>" → reason, for the (rare) votes a validator rejected. */
    objections: `${tag}:objections`,
    /** string: last stream id finalized. */
    finalized: `${tag}:finalized`,
    /** string: hash of the last audit entry. */
    head: `${tag}:head`,
    /** string: highest fencing token that has finalized here. */
    fence: `${tag}:fence`,
    /** hash: option → finalized count. */
    tally: `${tag}:tally`,
    /** hash: finalized / rejected counts. */
    stats: `${tag}:stats`,
    /** hash: streamId → reason for votes finalized as rejected. */
    rejected: `${tag}:rejected`,
    /** stream: the hash-chained audit log of this partition. */
    audit: `${tag}:audit`,
  } as const;
}

/** Sharded pub/sub channel of one election's pipeline events. */
export const electionChannel = (electionId: string): string => `{el:${electionId}}:events`;
