import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { loadSettings } from '../settings/load';
/**
 * Redis keys are made in key modules only, one per aggregate (CONVENTIONS 7; the rule
 * is in docs/architecture.md "Redis keys"): this one for the coordinator cluster,
 * elections, partitions and the rate-limit, login-throttle and revocation state;
 * shared/auth/user-keys.ts for users; shared/realtime/keys.ts for the WebSocket
 * registry; shared/mutex/keys.ts for locks. Nothing else writes a key's text. Keys that
 * one Lua script or MULTI touches share one hash tag, so it runs in one slot.
 *
 * - Cluster-wide coordination state lives under the tag `{<cluster name>}` (`{qv}`).
 * - An election's metadata lives under `{el:<id>}`.
 * - Each election partition lives under `{e:<id>:<p>[:<salt>]}` (ARCHITECTURE "Data layout").
 * - Users live under `{u:<username>}` (one slot per user).
 */
/**
 * The coordinator cluster's name (`CLUSTER_NAME`, default `qv`). Everything one
 * cluster shares — membership, leader, terms, the election index, partition locks —
 * is named after it, so several clusters (or test runs) can share one Redis Cluster
 * without ever seeing each other.
 */
export const clusterName = loadSettings().CLUSTER_NAME;

/** The cluster-wide keys of the cluster named `name`. */
export function clusterKeysFor(name: string) {
  const clusterTag = `{${name}}`;
  return {
    /** hash nodeId → JSON member record (address, start time, heartbeat). */
    members: `${clusterTag}:members`,
    /** string: highest leader term that has written (fencing for leader-only writes). */
    leaderFence: `${clusterTag}:leader-fence`,
    /** hash: id, term, since — the current leader as last written by a fenced write. */
    leader: `${clusterTag}:leader`,
    /**
     * hash: id, term — the live leader lease, renewed by every leader-renew and expiring
     * (Redis-side, PX) when the leader stops renewing: who acts as leader now.
     */
    leaderLease: `${clusterTag}:leader-lease`,
    /** string: a node's current term (persisted so a restart never goes back). */
    nodeTerm: (nodeId: string) => `${clusterTag}:term:${nodeId}`,
    /** string: whom `nodeId` voted for in `term` (SET NX: one vote per node per term). */
    vote: (term: number, nodeId: string) => `${clusterTag}:vote:${term}:${nodeId}`,
    /** Prefixes, for tools that sort keys by kind: every key under the cluster tag; terms; votes. */
    prefixes: { cluster: `${clusterTag}:`, nodeTerm: `${clusterTag}:term:`, vote: `${clusterTag}:vote:` },
    /** sharded pub/sub channel of cluster events (leader changes, nodes, clock alarms). */
    events: `${clusterTag}:events`,
    /** sorted set createdAt → election id: every election of this cluster. */
    electionIndex: `{${name}:elections}:index`,
    /** set of elections the coordinators work on (open, or closed with work left). */
    activeElections: `{${name}:elections}:active`,
    /**
     * sharded pub/sub channel: an election id whenever one is created with a schedule,
     * opened, closed, reset or retired, so coordinators pick it up at once (they also poll).
     */
    electionsChanged: `{${name}:elections}:changed`,
    /** mutex resource of partition `p`'s finalizer (one owner at a time, fenced). */
    finalizerLock: (p: number) => `{${name}:fin:${p}}`,
  } as const;
}

/** This process's cluster keys (see {@link clusterName}). */
export const clusterKeys = clusterKeysFor(clusterName);
export const clusterTag = `{${clusterName}}`;

/** Sharded pub/sub channels for events. */
export const eventChannels = {
  cluster: clusterKeys.events,
} as const;

/** Keys of one election's metadata (all under `{el:<id>}`). */
export function electionKeys(electionId: string) {
  const t = `{el:${electionId}}`;
  return {
    /** hash: the election record (title, options JSON, status, times, partition tags). */
    meta: `${t}:meta`,
    /** string: highest leader term that wrote a scheduled transition (fencing). */
    leaderFence: `${t}:leader-fence`,
    /** list of JSON records: every reset of this election (the audit trail of resets). */
    resets: `${t}:resets`,
    /**
     * set: the identities (`sub`) that joined a code-access election with `POST /join`;
     * its size is the election's `joined` count (join-election.lua adds, within the cap).
     */
    joined: `${t}:joined`,
  } as const;
}

/**
 * string: the election id a join code stands for (code-access elections). Set once with
 * NX when the election is made, so two elections can never share a code; one slot per
 * code, like the users' `{u:…}` keys.
 */
export const joinCodeKey = (code: string): string => `{jc:${keySafe(code)}}`;

/**
 * Keys of a secret-ballot election's public ceremony, roll, spoiled ballots and
 * decryption (docs/architecture.md "Secret ballots"), all under the election's own tag
 * `{el:<id>}`, so each ceremony or roll step is one single-slot script.
 */
export function secretElectionKeys(electionId: string) {
  const t = `{el:${electionId}}`;
  return {
    /** hash: trustee index → JSON {coefficients, proofs, transportKey} (checked on arrival). */
    commitments: `${t}:ceremony:commitments`,
    /** hash: "<from>|<to>" → JSON sealed share (the server cannot open it). */
    sealed: `${t}:ceremony:sealed`,
    /** hash: trustee index → '1' once it posted its sealed shares for every other trustee. */
    dealt: `${t}:ceremony:dealt`,
    /** hash: trustee index → '1' when it verified every share it received. */
    acks: `${t}:ceremony:acks`,
    /** hash: "<from>|<against>" → JSON {revealed?: share hex, upheld?: bool}. */
    complaints: `${t}:ceremony:complaints`,
    /** hash: voter (sub) → JSON {alias, publicKey}: the voter roll. */
    roll: `${t}:roll`,
    /** hash: publicKey hex → voter: one roll entry per key. */
    rollKeys: `${t}:roll-keys`,
    /** hash: tracker → JSON {ballot, opening} of every challenged (Benaloh) ballot: never counted. */
    spoiled: `${t}:spoiled`,
    /** hash: trustee index → JSON decryption share (proofs checked on arrival). */
    shares: `${t}:decryption:shares`,
    /** string: JSON {used, totals} once k valid shares combined (set once). */
    decryption: `${t}:decryption`,
  } as const;
}

/**
 * Keys of an election's voter roll (issue 17: imported voters, one-time voting
 * credentials), all under the election's own tag `{el:<id>}` with its record, so an
 * import, a reissue or a revoke is one single-slot script that also sees the status.
 * (Not to be confused with a secret election's key roll, `secretElectionKeys().roll`.)
 */
export function voterRollKeys(electionId: string) {
  const t = `{el:${electionId}}`;
  return {
    /** hash: voter id → JSON entry {n?, e?, x?, u?, w, g?, s, c, h?, q} (roll-store.ts). */
    entries: `${t}:voters:entries`,
    /** sorted set: import sequence → voter id (the listing's order and cursor). */
    order: `${t}:voters:order`,
    /** hash: "e:<email>" / "x:<external id>" / "u:<username>" / "s:<sub>" → voter id. */
    unique: `${t}:voters:unique`,
    /** hash: SHA-256 (hex) of an active credential → voter id. */
    credentials: `${t}:voters:credentials`,
  } as const;
}

/** Index of all elections, newest last (sorted set: createdAt → id). */
export const electionIndexKey = clusterKeys.electionIndex;
/** Set of elections the coordinators work on (open, or closed with work left). */
export const activeElectionsKey = clusterKeys.activeElections;

/**
 * The hash tag of partition `p`, chosen so that partitions spread evenly over the slot
 * space: plain `{e:E:p}` tags land unevenly (4/7/5 of 16 on three masters), so a small
 * salt is searched until the tag's slot falls in the p-th equal share of 16384 slots.
 */
export function partitionTag(electionId: string, p: number, partitions: number): string {
  const lo = Math.floor((p * 16384) / partitions);
  const hi = Math.floor(((p + 1) * 16384) / partitions);
  for (let salt = 0; salt < 200000; salt++) {
    const inner = `e:${electionId}:${p}:${salt.toString(36)}`;
    const slot = calculateSlot(inner);
    if (slot >= lo && slot < hi) return `{${inner}}`;
  }
  return `{e:${electionId}:${p}}`;
}

/**
 * Keys of one election partition. `tag` is the partition's hash tag, e.g. `{e:ab12:3}`
 * (ARCHITECTURE "Data layout"); every script on a partition touches only these keys.
 */
export function partitionKeys(tag: string) {
  return {
    /**
     * string: the intake gate, only ever moving forward: absent (draft) -> 'open' ->
     * 'closed|<streamId>' (the partition's closing point). Anything but 'open' refuses votes.
     */
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
    /**
     * string '1' while a validator waits for this partition's next vote (set with its
     * last empty read): the enqueue script deletes it and publishes on {@link wake}, so
     * the waiting validators are woken by the vote instead of polling for it.
     */
    validatorsWaiting: `${tag}:wake-v`,
    /** string '1' while the partition's owner waits for verdicts (the same, for record-verdicts). */
    ownerWaiting: `${tag}:wake-f`,
    /**
     * sharded pub/sub channel (same slot): 'votes' when a vote arrived and a validator
     * was waiting, 'judged' when a verdict was recorded and the owner was waiting.
     */
    wake: `${tag}:wake`,
    /**
     * string: secret ballots only, the partition's running encrypted tally (JSON
     * `[{alpha, beta}…L]`), compare-and-set by the fenced finalize step.
     */
    etally: `${tag}:etally`,
  } as const;
}

/**
 * Token bucket of one rate-limit subject (e.g. `v:<user>`, `ip:<address>`, `read:<user>`),
 * per cluster. One slot per subject; the `{rl:` prefix lets tools tell these
 * short-lived counters from state.
 */
export const rateLimitKey = (subject: string): string => `{rl:${clusterName}:${subject}}`;

/**
 * True for rate-limit state (intake limits and the login throttle, all `{rl:…}`):
 * short-lived counters that any request may move, unlike the application's state.
 */
export const isRateLimitKey = (key: string): boolean => key.startsWith('{rl:');

/**
 * Join limits of one code-access election (`POST /join`): the election's bucket and
 * one per client address, all under one tag, so join-limits.lua takes from both
 * atomically; `{rl:` marks them as rate-limit state.
 */
export const joinLimitKeys = {
  /** hash tokens, at: every first join of the election. */
  election: (electionId: string) => `{rl:${clusterName}:join:${electionId}}`,
  /** hash tokens, at: first joins of the election from one client address. */
  address: (electionId: string, address: string) =>
    `{rl:${clusterName}:join:${electionId}}:a:${keySafe(address)}`,
} as const;

/** Sharded pub/sub channel of one election's pipeline events. */
export const electionChannel = (electionId: string): string => `{el:${electionId}}:events`;

/**
 * Keys of the login throttle (`POST /auth/token`), one slot per subject. The `{rl:`
 * prefix marks them as rate-limit state, like the intake limits' counters. Subjects
 * are client-supplied text: anything that is not short and plain is hashed first, so a
 * key never carries arbitrary bytes or grows with the request.
 */
export const loginThrottleKeys = {
  /** hash n (attempts counted), until (back-off end, ms): one username (canonical, lower case). */
  user: (username: string) => `{rl:login:u:${keySafe(username.toLowerCase())}}`,
  /** hash n, until: one client address. */
  address: (address: string) => `{rl:login:a:${keySafe(address)}}`,
  /** hash n, until: one client address's voting-credential sign-ins (apart from password logins). */
  credentialAddress: (address: string) => `{rl:login:c:${keySafe(address)}}`,
} as const;

/**
 * Keys of token revocation: one small hash per token subject (users are not per
 * cluster), in its own slot, so the check every authenticated request makes spreads
 * over the cluster instead of hammering one key.
 */
export const revocationKeys = {
  /** hash: v → session version (tokens with a lower `sv` are revoked), d → '1' while disabled. */
  subject: (sub: string) => `{rv:${keySafe(sub)}}`,
} as const;

function keySafe(text: string): string {
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(text)
    ? text
    : `#${createHash('sha256').update(text, 'utf8').digest('base64url')}`;
}
