import { majorityOf } from './quorum';

/**
 * Leader election for the coordinator cluster: Raft without a log (ARCHITECTURE
 * "Coordinators", PROTOCOL "Leader").
 *
 * The class is a deterministic state machine in the style of etcd-io/raft
 * (CONVENTIONS 3): the driver feeds it time (`tick`), messages (`step`) and store
 * results, and carries out the outputs it returns. It never reads a clock, never draws
 * `Math.random`, never does I/O, so tests can replay any interleaving exactly.
 *
 * Safety ("at most one leader per term") rests on the store, not on memory: a vote
 * only counts once the driver has recorded it with `SET NX` per (term, voter), so a
 * node that crashed and forgot its in-memory `votedFor` still cannot vote twice; and a
 * candidate counts a peer's grant only after the driver has read that voter's record
 * and found it names the candidate (`verifyVote` / `voteVerified`). Terms move by at
 * most `maxTermJump` per message unless the store backs the term (`verifyTerm` /
 * `stepBacked`), so no single message can push a node to a term no election reached.
 *
 * PreVote (Raft thesis 9.6, etcd's `PreVote`): on an election timeout a node does not
 * raise its term at once. It becomes a `precandidate` and asks its peers whether they
 * would vote for it in term + 1; only a majority of "yes" starts the real election. A
 * node that merely stalled (an event-loop pause) or is cut off from the majority thus
 * never inflates its term, and cannot depose a healthy leader by sending it a higher
 * term afterwards. Pre-votes are not durable and change no state at the receiver.
 */

/**
 * The Raft roles; only a leader does cluster-wide work. A `precandidate` is a follower
 * whose election timer fired and that is polling for pre-votes: same term, no vote
 * cast, no leader known.
 */
export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

/**
 * Static settings of one node. Time values are milliseconds of whatever clock the
 * driver passes as `now` (it should be monotonic: leases must not jump with wall time).
 */
export interface RaftConfig {
  /** This node's id; must be one of `members`. */
  id: string;
  /**
   * Explicit voting membership including this node; majority = floor(n/2)+1. It is
   * configured rather than "whoever is alive" so a partition can never shrink the
   * quorum and let both sides elect a leader.
   */
  members: string[];
  /** Lower bound of the randomized election timeout; also the leader-stickiness window. */
  electionTimeoutMinMs: number;
  /** Exclusive upper bound of the randomized election timeout. */
  electionTimeoutMaxMs: number;
  /** How often a leader sends heartbeats (and so renews followers' view of it). */
  heartbeatIntervalMs: number;
  /**
   * A leader steps down when it has not heard heartbeat responses from a majority,
   * or has not written to the store successfully, for this long. Keep it at most
   * `electionTimeoutMinMs` so a leader gives up before followers may elect another.
   */
  leaseMs: number;
  /** Uniform in [0,1); injected so tests pin the election timeouts. */
  random: () => number;
  /**
   * The largest term increase a message may cause on its own (default 1: one election
   * round). A message whose term lies further ahead is not believed by itself: the node
   * asks the driver (`verifyTerm`) to find the term backed by the store (a recorded vote
   * or the leader fence) and only then takes it (`stepBacked`). One message can thus
   * never push a node to an arbitrary term (such as 2^53-1) that no election produced.
   */
  maxTermJump?: number;
}

/**
 * Peer-to-peer messages. Every message carries the sender's term, which is how stale
 * leaders and candidates learn that they are stale; the exceptions are a `preVote` and
 * a granted `preVoteResponse`, which carry the proposed term and are never adopted.
 */
export type RaftMessage =
  /** `transfer` marks a campaign started by `timeoutNow`; it overrides leader stickiness. */
  | { type: 'requestVote'; from: string; to: string; term: number; transfer?: boolean }
  | { type: 'voteResponse'; from: string; to: string; term: number; granted: boolean }
  | { type: 'heartbeat'; from: string; to: string; term: number }
  | { type: 'heartbeatResponse'; from: string; to: string; term: number }
  | { type: 'timeoutNow'; from: string; to: string; term: number }
  /**
   * "Would you vote for me in `term`?" `term` is the sender's term + 1, a term the sender
   * has not entered: receivers never adopt it and change no state when answering.
   */
  | { type: 'preVote'; from: string; to: string; term: number }
  /**
   * Granted: `term` echoes the request's (future) term and is never adopted. Refused:
   * `term` is the responder's current term, so a node that is behind learns it.
   */
  | { type: 'preVoteResponse'; from: string; to: string; term: number; granted: boolean };

/** What the driver must do after a call, in order. */
export type RaftOutput =
  | { type: 'send'; message: RaftMessage }
  /**
   * Durably record "this node voted for `candidate` in `term`" (Redis SET NX) BEFORE the
   * vote counts. For a vote for another node the driver then sends the voteResponse
   * itself (granted = the SET NX succeeded or the existing value equals `candidate`).
   * For the self-vote (`replyTo` = own id) the driver feeds back
   * `step({type:'voteResponse', from: id, to: id, term, granted})`.
   */
  | { type: 'recordVote'; term: number; candidate: string; replyTo: string }
  /**
   * A peer's granted vote arrived. It counts only after the driver has read the voter's
   * durable vote record and found it names this node: the driver then calls
   * `voteVerified(term, voter)`. A grant the store does not hold never counts.
   */
  | { type: 'verifyVote'; term: number; voter: string }
  /**
   * `message` carries a term more than `maxTermJump` ahead of ours. The driver checks
   * that the store backs the term (a vote recorded in it, or a leader fence at least
   * as high) and, if so, feeds the message again with `stepBacked`; otherwise drops it.
   */
  | { type: 'verifyTerm'; term: number; message: RaftMessage }
  /** Persist the term: a restart must resume from it, never from an older one. */
  | { type: 'termChanged'; term: number }
  /** Emitted only when the role actually changes. */
  | { type: 'roleChanged'; role: Role; term: number }
  /** Emitted when the known leader (or, for the same leader, its term) changes. */
  | { type: 'leaderChanged'; leader: string | null; term: number };

/** A snapshot for `/status` and metrics. */
export interface RaftStatus {
  role: Role;
  term: number;
  leader: string | null;
  /**
   * Age in ms (relative to the `now` passed to `status`) of the last sign of a live
   * leader: for a follower, the last heartbeat from its leader; for the leader, the
   * moment a majority (itself included) had last confirmed it. `null` when no leader
   * is known (and for a candidate or precandidate).
   */
  lastLeaderContactMs: number | null;
  /**
   * Campaigns (real elections, each in a new term) this node started since it was
   * constructed; pre-vote rounds do not count.
   */
  electionsStarted: number;
}

/** Every message type the election state machine understands (peer transport checks them too). */
export const RAFT_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'requestVote',
  'voteResponse',
  'heartbeat',
  'heartbeatResponse',
  'timeoutNow',
  'preVote',
  'preVoteResponse',
]);

/**
 * One node's election state machine. Construct it with the term persisted from the
 * last `termChanged`; the in-memory vote is deliberately not restored (the store's
 * SET NX record is the source of truth for votes).
 *
 * The store is assumed reachable until `setStoreHealthy(false)` says otherwise.
 */
export class RaftNode {
  private readonly cfg: RaftConfig;
  private readonly peers: readonly string[];
  private readonly memberSet: ReadonlySet<string>;
  private readonly quorum: number;
  private readonly maxTermJump: number;

  private _role: Role = 'follower';
  private _term: number;
  private _leader: string | null = null;
  /** The term in which `_leader` was last announced, so a re-elected leader is re-announced. */
  private leaderTerm: number;
  private _votedFor: string | null = null;

  private electionDeadline: number;
  /** Follower: when the current leader was last heard from. */
  private leaderContactAt: number | null = null;
  /** Candidate: members whose recorded vote for us in this term has come back. */
  private readonly votesGranted = new Set<string>();
  /** Precandidate: members (self included) that would vote for us in term + 1. */
  private readonly preVotesGranted = new Set<string>();
  /** Leader: when each peer last answered a heartbeat in this term. */
  private readonly ackAt = new Map<string, number>();
  /** Leader: last successful store write (lease renewal or fenced write). */
  private storeOkAt = Number.NEGATIVE_INFINITY;
  private nextHeartbeatAt = Number.NEGATIVE_INFINITY;
  private storeHealthy = true;
  private elections = 0;

  constructor(config: RaftConfig, initial: { term: number; now: number }) {
    validateConfig(config);
    if (!Number.isSafeInteger(initial.term) || initial.term < 0) {
      throw new RangeError(`initial term must be a non-negative integer, got ${initial.term}`);
    }
    this.cfg = { ...config, members: [...config.members] };
    this.memberSet = new Set(config.members);
    this.peers = config.members.filter((m) => m !== config.id);
    this.quorum = majorityOf(config.members.length);
    this.maxTermJump = config.maxTermJump ?? 1;
    this._term = initial.term;
    this.leaderTerm = initial.term;
    this.electionDeadline = initial.now + this.randomTimeout();
  }

  get role(): Role {
    return this._role;
  }
  get term(): number {
    return this._term;
  }
  get leader(): string | null {
    return this._leader;
  }
  get votedFor(): string | null {
    return this._votedFor;
  }

  /** Advances time: fires the election timer, or (leader) checks its lease and sends due heartbeats. */
  tick(now: number): RaftOutput[] {
    const out: RaftOutput[] = [];
    if (this._role === 'leader') {
      if (!this.leaseHolds(now)) {
        this.stepDown(now, out);
        return out;
      }
      if (now >= this.nextHeartbeatAt) this.broadcastHeartbeat(now, out);
      return out;
    }
    if (now >= this.electionDeadline) {
      if (this.storeHealthy) {
        // Candidates and precandidates whose round timed out poll again too, so a node
        // stuck on the minority side of a partition never inflates its term.
        this.preCampaign(now, out);
      } else {
        // Cannot record even its own vote: campaigning (even pre-campaigning) would only
        // lead to inflated terms and disrupt a leader that may still be fine. Re-arm with
        // a fresh random timeout so nodes do not all campaign at once when the store
        // comes back.
        this.resetElectionTimer(now);
        this.setLeader(null, out);
      }
    }
    return out;
  }

  /** Handles one peer message (or the driver's self-vote result). Malformed or foreign messages are ignored. */
  step(message: RaftMessage, now: number): RaftOutput[] {
    return this.receive(message, now, false);
  }

  /**
   * Handles a message whose term the driver found backed by the store (after a
   * `verifyTerm`): the term-jump bound is lifted, every other rule applies as in `step`.
   */
  stepBacked(message: RaftMessage, now: number): RaftOutput[] {
    return this.receive(message, now, true);
  }

  /**
   * The driver found `voter`'s durable vote record for `term` naming this node (after a
   * `verifyVote`): the vote counts now, if this node is still campaigning in that term.
   */
  voteVerified(term: number, voter: string, now: number): RaftOutput[] {
    const out: RaftOutput[] = [];
    if (this._role !== 'candidate' || term !== this._term || !this.memberSet.has(voter)) return out;
    this.countVote(voter, now, out);
    return out;
  }

  private receive(message: RaftMessage, now: number, termBacked: boolean): RaftOutput[] {
    const out: RaftOutput[] = [];
    if (!this.accepts(message)) return out;
    const m = message;

    // Pre-vote messages carry a term nobody has entered yet: they are handled before
    // the term rules below so that they never make anyone adopt it.
    if (m.type === 'preVote') {
      this.onPreVote(m, now, out);
      return out;
    }
    if (m.type === 'preVoteResponse') {
      this.onPreVoteResponse(m, now, termBacked, out);
      return out;
    }

    if (m.term > this._term) {
      // Leader stickiness (Raft thesis 4.2.3): while a live leader is known, a vote
      // request from a node that merely lost contact must not depose it, not even by
      // raising our term. Leadership transfer is the deliberate exception.
      if (m.type === 'requestVote' && !m.transfer && this.inLease(now)) return out;
      if (!termBacked && m.term - this._term > this.maxTermJump) {
        out.push({ type: 'verifyTerm', term: m.term, message: m });
        return out;
      }
      this.adoptTerm(m.term, now, m.type !== 'heartbeat', out);
    } else if (m.term < this._term) {
      // Answer stale requests with our term so the sender learns it is behind and steps down.
      if (m.type === 'requestVote') this.sendVoteResponse(m.from, false, out);
      else if (m.type === 'heartbeat') this.sendTo('heartbeatResponse', m.from, out);
      return out;
    }

    switch (m.type) {
      case 'requestVote':
        this.onRequestVote(m, now, out);
        break;
      case 'voteResponse':
        if (this._role !== 'candidate' || !m.granted || this.votesGranted.has(m.from)) break;
        // The own vote arrives from the driver as the result of its SET NX: it is the
        // store's answer already. A peer's grant is only its word until the store agrees.
        if (m.from === this.cfg.id) this.countVote(m.from, now, out);
        else out.push({ type: 'verifyVote', term: m.term, voter: m.from });
        break;
      case 'heartbeat':
        if (this._role === 'leader') break; // two leaders in one term cannot happen; never yield to one
        this.setRole('follower', out);
        this.setLeader(m.from, out);
        this.leaderContactAt = now;
        this.resetElectionTimer(now);
        this.sendTo('heartbeatResponse', m.from, out);
        break;
      case 'heartbeatResponse':
        if (this._role === 'leader') this.ackAt.set(m.from, now);
        break;
      case 'timeoutNow':
        if (this._role !== 'leader' && this.storeHealthy) this.campaign(now, true, out);
        break;
    }
    return out;
  }

  /**
   * Driver reports the result of a leader-only store write (fenced write / lease
   * renewal). `ok: false` with `fencedBy` = a term at least ours means another leader
   * has written: step down (and adopt that term when it is newer). `ok: false` without
   * `fencedBy` is a failed write: the store lease simply is not renewed.
   */
  storeWrite(result: { ok: boolean; fencedBy?: number }, now: number): RaftOutput[] {
    const out: RaftOutput[] = [];
    if (result.ok) {
      if (this._role === 'leader') this.storeOkAt = now;
      return out;
    }
    const fence = result.fencedBy;
    if (fence === undefined || !Number.isSafeInteger(fence) || fence < this._term) return out;
    if (fence > this._term) this.adoptTerm(fence, now, true, out);
    else if (this._role === 'leader') this.stepDown(now, out);
    return out;
  }

  /**
   * Driver reports whether the store is reachable. An unreachable store stops this
   * node from campaigning (it could not record its own vote); a leader is not deposed
   * at once but loses its lease `leaseMs` after its last successful `storeWrite`.
   */
  setStoreHealthy(healthy: boolean, _now: number): RaftOutput[] {
    const out: RaftOutput[] = [];
    this.storeHealthy = healthy;
    // A pre-vote round it could not follow up with a campaign is abandoned at once.
    if (!healthy && this._role === 'precandidate') {
      this.preVotesGranted.clear();
      this.setRole('follower', out);
    }
    return out;
  }

  /**
   * Graceful shutdown: the leader steps down first (so it stops leader work before a
   * successor can exist), then asks the peer that answered most recently (the one most
   * likely alive and reachable) to campaign at once via `timeoutNow`.
   */
  handover(now: number): RaftOutput[] {
    const out: RaftOutput[] = [];
    if (this._role !== 'leader') return out;
    let target: string | null = null;
    let best = Number.NEGATIVE_INFINITY;
    for (const p of this.peers) {
      const at = this.ackAt.get(p);
      if (at !== undefined && at > best) {
        best = at;
        target = p;
      }
    }
    const term = this._term;
    this.stepDown(now, out);
    if (target !== null) this.send({ type: 'timeoutNow', from: this.cfg.id, to: target, term }, out);
    return out;
  }

  /** Snapshot for `/status`; `lastLeaderContactMs` is an age relative to `now`. */
  status(now: number): RaftStatus {
    let contact: number | null = null;
    if (this._role === 'leader') contact = this.quorumAckAt(now);
    else if (this._role === 'follower' && this._leader !== null) contact = this.leaderContactAt;
    return {
      role: this._role,
      term: this._term,
      leader: this._leader,
      lastLeaderContactMs: contact === null || !Number.isFinite(contact) ? null : Math.max(0, now - contact),
      electionsStarted: this.elections,
    };
  }

  // ---- transitions ----------------------------------------------------------------

  /**
   * Election timeout: poll for pre-votes for term + 1 without entering it, voting or
   * persisting anything. The own pre-vote counts at once (a single-node cluster thus
   * campaigns directly); whether this node may really vote for itself is still decided
   * by the store when the campaign records its self-vote.
   */
  private preCampaign(now: number, out: RaftOutput[]): void {
    if (this.quorum <= 1) {
      this.campaign(now, false, out);
      return;
    }
    this.preVotesGranted.clear();
    this.preVotesGranted.add(this.cfg.id);
    this.votesGranted.clear();
    this.ackAt.clear();
    this.setRole('precandidate', out);
    this.setLeader(null, out);
    this.leaderContactAt = null;
    this.resetElectionTimer(now);
    const term = this._term + 1;
    for (const to of this.peers) this.send({ type: 'preVote', from: this.cfg.id, to, term }, out);
  }

  private campaign(now: number, transfer: boolean, out: RaftOutput[]): void {
    this.elections++;
    this.setTerm(this._term + 1, out);
    this._votedFor = this.cfg.id;
    this.votesGranted.clear();
    this.preVotesGranted.clear();
    this.ackAt.clear();
    this.setRole('candidate', out);
    this.setLeader(null, out);
    this.leaderContactAt = null;
    this.resetElectionTimer(now);
    // The self-vote counts only when the driver reports it recorded: a node that voted
    // for someone else in this term before a crash must not count itself.
    out.push({ type: 'recordVote', term: this._term, candidate: this.cfg.id, replyTo: this.cfg.id });
    for (const to of this.peers) {
      this.send(
        transfer
          ? { type: 'requestVote', from: this.cfg.id, to, term: this._term, transfer: true }
          : { type: 'requestVote', from: this.cfg.id, to, term: this._term },
        out,
      );
    }
  }

  private onRequestVote(
    m: Extract<RaftMessage, { type: 'requestVote' }>,
    now: number,
    out: RaftOutput[],
  ): void {
    if (!m.transfer && this.inLease(now)) return; // stickiness within the same term too
    if (this._votedFor !== null && this._votedFor !== m.from) {
      this.sendVoteResponse(m.from, false, out);
      return;
    }
    // Re-emitting for a repeated request is deliberate: the first response may have
    // been lost, and SET NX answers "granted" again for the same candidate.
    this._votedFor = m.from;
    // Having voted for another candidate of this term, stop polling for the next one:
    // late pre-votes must not let this node disrupt the election it just took part in.
    if (this._role === 'precandidate') {
      this.preVotesGranted.clear();
      this.setRole('follower', out);
    }
    this.resetElectionTimer(now);
    out.push({ type: 'recordVote', term: this._term, candidate: m.from, replyTo: m.from });
  }

  /**
   * Answers "would you vote for me in `m.term`?" exactly as a real vote request of that
   * term would be answered (stickiness, one vote per term, a reachable store to record
   * the vote in), but without adopting the term, voting or resetting the timer.
   */
  private onPreVote(m: Extract<RaftMessage, { type: 'preVote' }>, now: number, out: RaftOutput[]): void {
    const granted =
      this.storeHealthy &&
      !this.inLease(now) &&
      (m.term > this._term ||
        (m.term === this._term && (this._votedFor === null || this._votedFor === m.from)));
    this.send(
      {
        type: 'preVoteResponse',
        from: this.cfg.id,
        to: m.from,
        term: granted ? m.term : this._term,
        granted,
      },
      out,
    );
  }

  private onPreVoteResponse(
    m: Extract<RaftMessage, { type: 'preVoteResponse' }>,
    now: number,
    termBacked: boolean,
    out: RaftOutput[],
  ): void {
    if (!m.granted) {
      // A refusal carries the responder's real term: a newer one is news as usual,
      // within the same bound on term jumps as every other message.
      if (m.term > this._term) {
        if (!termBacked && m.term - this._term > this.maxTermJump) {
          out.push({ type: 'verifyTerm', term: m.term, message: m });
        } else {
          this.adoptTerm(m.term, now, true, out);
        }
      }
      return;
    }
    // A grant carries the term it was asked for; only one for our current round counts.
    if (this._role !== 'precandidate' || m.term !== this._term + 1) return;
    this.preVotesGranted.add(m.from);
    if (this.preVotesGranted.size >= this.quorum && this.storeHealthy) this.campaign(now, false, out);
  }

  private countVote(voter: string, now: number, out: RaftOutput[]): void {
    this.votesGranted.add(voter);
    if (this.votesGranted.size >= this.quorum) this.becomeLeader(now, out);
  }

  private becomeLeader(now: number, out: RaftOutput[]): void {
    this.setRole('leader', out);
    this.setLeader(this.cfg.id, out);
    this.ackAt.clear();
    // Voters just confirmed us, so they start the quorum lease; the store lease starts
    // now so the driver has `leaseMs` for its first fenced write.
    for (const v of this.votesGranted) if (v !== this.cfg.id) this.ackAt.set(v, now);
    this.storeOkAt = now;
    this.broadcastHeartbeat(now, out);
  }

  /** Leader to follower in the same term (lost lease, fenced, or handover). */
  private stepDown(now: number, out: RaftOutput[]): void {
    this.setRole('follower', out);
    this.setLeader(null, out);
    this.leaderContactAt = null;
    this.ackAt.clear();
    this.resetElectionTimer(now);
  }

  /** A newer term exists: follow it. The vote of the old term does not carry over. */
  private adoptTerm(term: number, now: number, clearLeader: boolean, out: RaftOutput[]): void {
    this.setTerm(term, out);
    this._votedFor = null;
    this.votesGranted.clear();
    this.preVotesGranted.clear();
    this.ackAt.clear();
    this.setRole('follower', out);
    if (clearLeader) {
      this.setLeader(null, out);
      this.leaderContactAt = null;
    }
    this.resetElectionTimer(now);
  }

  private broadcastHeartbeat(now: number, out: RaftOutput[]): void {
    for (const to of this.peers) this.sendTo('heartbeat', to, out);
    this.nextHeartbeatAt = now + this.cfg.heartbeatIntervalMs;
  }

  // ---- small helpers --------------------------------------------------------------

  /**
   * Drops messages not meant for this node, from non-members, or malformed (they arrive
   * as JSON over HTTP). The only message a node accepts from itself is the driver's
   * report of its own recorded vote, and never for a term it has not reached.
   */
  private accepts(m: RaftMessage): boolean {
    if (typeof m !== 'object' || m === null) return false;
    if (!RAFT_MESSAGE_TYPES.has(m.type) || m.to !== this.cfg.id || !this.memberSet.has(m.from)) return false;
    if (!Number.isSafeInteger(m.term) || m.term < 0) return false;
    if ((m.type === 'voteResponse' || m.type === 'preVoteResponse') && typeof m.granted !== 'boolean') {
      return false;
    }
    if (m.from === this.cfg.id) return m.type === 'voteResponse' && m.term <= this._term;
    return true;
  }

  /**
   * "Heard from a current leader within electionTimeoutMinMs". For the leader itself
   * that means a majority confirmed it that recently (as etcd's check-quorum lease).
   */
  private inLease(now: number): boolean {
    if (this._role === 'leader') return now - this.quorumAckAt(now) < this.cfg.electionTimeoutMinMs;
    if (this._role !== 'follower' || this._leader === null || this.leaderContactAt === null) return false;
    return now - this.leaderContactAt < this.cfg.electionTimeoutMinMs;
  }

  /** Check quorum: a majority answered within `leaseMs` and the store accepted a write within `leaseMs`. */
  private leaseHolds(now: number): boolean {
    return now - this.quorumAckAt(now) < this.cfg.leaseMs && now - this.storeOkAt < this.cfg.leaseMs;
  }

  /** The latest time by which a majority (self counted, always current) had acknowledged us. */
  private quorumAckAt(now: number): number {
    const needed = this.quorum - 1;
    if (needed <= 0) return now;
    const times = this.peers.map((p) => this.ackAt.get(p) ?? Number.NEGATIVE_INFINITY).sort((a, b) => b - a);
    return times[needed - 1] ?? Number.NEGATIVE_INFINITY;
  }

  private randomTimeout(): number {
    const { electionTimeoutMinMs: min, electionTimeoutMaxMs: max } = this.cfg;
    const span = max - min;
    if (span <= 0) return min;
    const r = this.cfg.random();
    // Clamp so a misbehaving source can never leave [min, max).
    const offset = Number.isFinite(r) ? Math.min(span - 1, Math.max(0, Math.floor(r * span))) : 0;
    return min + offset;
  }

  private resetElectionTimer(now: number): void {
    this.electionDeadline = now + this.randomTimeout();
  }

  private setTerm(term: number, out: RaftOutput[]): void {
    this._term = term;
    out.push({ type: 'termChanged', term });
  }

  private setRole(role: Role, out: RaftOutput[]): void {
    if (role === this._role) return;
    this._role = role;
    out.push({ type: 'roleChanged', role, term: this._term });
  }

  private setLeader(leader: string | null, out: RaftOutput[]): void {
    if (leader === this._leader && (leader === null || this.leaderTerm === this._term)) return;
    this._leader = leader;
    this.leaderTerm = this._term;
    out.push({ type: 'leaderChanged', leader, term: this._term });
  }

  private sendVoteResponse(to: string, granted: boolean, out: RaftOutput[]): void {
    this.send({ type: 'voteResponse', from: this.cfg.id, to, term: this._term, granted }, out);
  }

  /** Messages that carry nothing but the sender's current term. */
  private sendTo(type: 'heartbeat' | 'heartbeatResponse', to: string, out: RaftOutput[]): void {
    this.send({ type, from: this.cfg.id, to, term: this._term }, out);
  }

  private send(message: RaftMessage, out: RaftOutput[]): void {
    out.push({ type: 'send', message });
  }
}

function validateConfig(c: RaftConfig): void {
  if (!c.members.includes(c.id)) throw new RangeError(`node ${c.id} is not in its own voting membership`);
  if (new Set(c.members).size !== c.members.length) throw new RangeError('members must be distinct');
  const positive: (keyof RaftConfig)[] = ['electionTimeoutMinMs', 'heartbeatIntervalMs', 'leaseMs'];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`${k} must be > 0`);
  }
  if (c.maxTermJump !== undefined && !(Number.isSafeInteger(c.maxTermJump) && c.maxTermJump >= 1)) {
    throw new RangeError('maxTermJump must be an integer >= 1');
  }
  if (!(c.electionTimeoutMaxMs >= c.electionTimeoutMinMs)) {
    throw new RangeError('electionTimeoutMaxMs must be >= electionTimeoutMinMs');
  }
}
