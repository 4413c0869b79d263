import fc from 'fast-check';
import { type RaftConfig, type RaftMessage, RaftNode, type RaftOutput } from '../../shared/consensus/raft';

/*
 * Property tests for the election state machine (CONVENTIONS 10). A discrete-event
 * simulation runs 3 or 5 nodes over a hostile network (random delays, drops,
 * duplicates, hence reordering; partitions), random crashes and restarts, random
 * stalls (an event-loop pause: the node keeps its state, its timers fire late and
 * before the backlog of messages is read), and random store outages, with a simulated
 * store that does what the driver does in Redis: SET NX per (term, voter) for votes, a
 * fence for leader writes, and a persisted term per node. Every message type travels
 * over it, pre-votes included. It asserts:
 *   - safety: never two leaders in one term, and every leader holds recorded votes
 *     from a majority for its term; a node's persisted term never goes back; answering
 *     a pre-vote changes nothing at the receiver;
 *   - liveness: once the network, the store and every node are healthy again, one
 *     leader emerges that every node follows;
 *   - stability (PreVote): on a healthy network without crashes, once every node
 *     follows one leader, followers that stall past their election timeout (a minority
 *     at a time) never make anyone change term or the leader step down.
 * All randomness comes from a seed fast-check picks, so a failure replays exactly.
 */

const TIMING = {
  electionTimeoutMinMs: 300,
  electionTimeoutMaxMs: 600,
  heartbeatIntervalMs: 75,
  leaseMs: 300,
} as const;
/** Faults happen in [0, CHAOS_MS); afterwards everything is healthy. */
const CHAOS_MS = 5000;
/** A leader must be settled this long after the chaos ends. */
const SETTLE_MS = 5000;

/** mulberry32: a tiny seeded PRNG, so runs replay from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Window {
  at: number;
  duration: number;
}
interface Scenario {
  n: 3 | 5;
  seed: number;
  /** Per-message probabilities in percent, and the delay range. */
  dropPct: number;
  dupPct: number;
  maxDelayMs: number;
  tickMs: number;
  /**
   * `node` is taken modulo n, except `LEADER`: whoever leads at that moment. A
   * graceful stop hands leadership over first, as the coordinator's `stop()` does.
   */
  crashes: (Window & { node: number; graceful: boolean })[];
  /** Store unreachable for the listed nodes (all when `nodes` is empty). */
  outages: (Window & { nodes: number[] })[];
  /** The listed nodes are cut off from the rest. */
  partitions: (Window & { nodes: number[] })[];
  /**
   * Event-loop pauses: `node` as for crashes, or `FOLLOWER`: the `k`-th (modulo) node
   * that does not lead at that moment, only once every node has followed one leader for
   * `DRAIN_MS` (with `stability`), and only if a majority stays unpaused.
   */
  stalls?: (Window & { node: number; k?: number })[];
  /**
   * Check stability: from the moment every node follows one leader, no node may change
   * term and that leader may not step down. Only meaningful for fault-free networks.
   */
  stability?: boolean;
}

const atArb = fc.integer({ min: 0, max: CHAOS_MS - 1 });
const durationArb = fc.integer({ min: 10, max: 2500 });
const nodeIndex = fc.integer({ min: 0, max: 4 }); // taken modulo n
const LEADER = -1;
const FOLLOWER = -2;
/**
 * Stability runs pause followers only this long after every node followed the leader,
 * when nothing sent before (stale pre-vote grants included) is still in flight.
 */
const DRAIN_MS = 100;
const nodeSetArb = (minLength: number) => fc.uniqueArray(nodeIndex, { minLength, maxLength: 2 });

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  n: fc.constantFrom(3 as const, 5 as const),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  dropPct: fc.integer({ min: 0, max: 40 }),
  dupPct: fc.integer({ min: 0, max: 30 }),
  maxDelayMs: fc.integer({ min: 1, max: 250 }),
  tickMs: fc.integer({ min: 1, max: 30 }),
  crashes: fc.array(
    fc.record({
      at: atArb,
      duration: durationArb,
      node: fc.oneof(nodeIndex, fc.constant(LEADER)),
      graceful: fc.boolean(),
    }),
    { maxLength: 8 },
  ),
  outages: fc.array(fc.record({ at: atArb, duration: durationArb, nodes: nodeSetArb(0) }), { maxLength: 4 }),
  partitions: fc.array(fc.record({ at: atArb, duration: durationArb, nodes: nodeSetArb(1) }), {
    maxLength: 4,
  }),
  stalls: fc.array(
    fc.record({ at: atArb, duration: durationArb, node: fc.oneof(nodeIndex, fc.constant(LEADER)) }),
    { maxLength: 4 },
  ),
});

/**
 * A healthy network (no drops, no partitions, delays under `DRAIN_MS`; duplicates
 * allowed), no crashes, no store outages; followers stall for up to 3 s, longer than
 * any election timeout, from the second on (by when the first leader is usually long
 * established; earlier stalls are skipped).
 */
const stableScenarioArb: fc.Arbitrary<Scenario> = fc.record({
  n: fc.constantFrom(3 as const, 5 as const),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  dropPct: fc.constant(0),
  dupPct: fc.integer({ min: 0, max: 30 }),
  maxDelayMs: fc.integer({ min: 1, max: 40 }),
  tickMs: fc.integer({ min: 1, max: 30 }),
  crashes: fc.constant([]),
  outages: fc.constant([]),
  partitions: fc.constant([]),
  stalls: fc.array(
    fc.record({
      at: fc.integer({ min: 1000, max: CHAOS_MS - 1 }),
      duration: fc.integer({ min: 10, max: 3000 }),
      node: fc.constant(FOLLOWER),
      k: nodeIndex,
    }),
    { minLength: 1, maxLength: 6 },
  ),
  stability: fc.constant(true),
});

interface Envelope {
  message: RaftMessage;
  /** Set for the driver's local self-vote report: lost if the node restarts meanwhile. */
  incarnation?: number;
}

interface Result {
  leadersByTerm: Map<number, string>;
  finalLeader: string | null;
  violations: string[];
  /** Messages delivered, by type. */
  delivered: Map<string, number>;
  /** Stalls that took effect. */
  stalls: number;
  /** With `stability`: when every node first followed one leader (null: never). */
  establishedAt: number | null;
  /** With `stability`: pre-vote rounds started after that moment. */
  preVoteRoundsAfter: number;
}

/** Runs one scenario to the end and reports what it saw. */
function simulate(s: Scenario): Result {
  const rng = prng(s.seed);
  const ids = Array.from({ length: s.n }, (_, i) => `n${i}`);
  const index = new Map(ids.map((id, i) => [id, i]));
  const nodes: (RaftNode | null)[] = ids.map(() => null);
  const incarnation = ids.map(() => 0);
  const persistedTerm = ids.map(() => 0);
  const storeHealthy = ids.map(() => true);
  const lastWriteAt = ids.map(() => Number.NEGATIVE_INFINITY);
  const tickPhase = ids.map(() => Math.floor(rng() * s.tickMs));
  const votes = new Map<string, string>(); // `${term}/${voter}` -> candidate (SET NX)
  let fence = 0;
  const queue = new Map<number, Envelope[]>();
  const leadersByTerm = new Map<number, string>();
  const violations: string[] = [];
  const delivered = new Map<string, number>();
  const end = CHAOS_MS + SETTLE_MS;
  /** A node is paused until then (0: running). */
  const stalledUntil = ids.map(() => 0);
  let stallsApplied = 0;
  /** Stability: the leader every node followed, once they all did. */
  let established: { leader: number; term: number; at: number } | null = null;
  let preVoteRoundsAfter = 0;

  const active = (w: Window, t: number) => t < CHAOS_MS && t >= w.at && t < w.at + w.duration;
  const downUntil = ids.map(() => 0);
  const storeUp = (i: number, t: number) =>
    !s.outages.some((o) => active(o, t) && (o.nodes.length === 0 || o.nodes.some((x) => x % s.n === i)));
  const cut = (a: number, b: number, t: number) =>
    s.partitions.some((p) => {
      if (!active(p, t)) return false;
      const side = new Set(p.nodes.map((x) => x % s.n));
      return side.has(a) !== side.has(b);
    });

  const enqueue = (at: number, env: Envelope) => {
    const list = queue.get(at);
    if (list) list.push(env);
    else queue.set(at, [env]);
  };

  const makeNode = (i: number, t: number) => {
    const config: RaftConfig = {
      id: ids[i]!,
      members: ids,
      ...TIMING,
      random: prng(s.seed ^ ((i + 1) * 7919 + incarnation[i]!)),
    };
    // A restart resumes from the persisted term and from nothing else: the vote is in the store.
    return new RaftNode(config, { term: persistedTerm[i]!, now: t });
  };

  const transmit = (message: RaftMessage, t: number) => {
    const chaos = t < CHAOS_MS;
    const copies = chaos && rng() * 100 < s.dupPct ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      if (chaos && rng() * 100 < s.dropPct) continue;
      const delay = 1 + Math.floor(rng() * (chaos ? s.maxDelayMs : 10));
      enqueue(t + delay, { message });
    }
  };

  /** The driver: carry out outputs in order, against the simulated store and network. */
  const apply = (i: number, outputs: RaftOutput[], t: number) => {
    const node = nodes[i];
    if (!node) return;
    const id = ids[i]!;
    for (const o of outputs) {
      switch (o.type) {
        case 'send':
          if (o.message.from !== id) violations.push(`${id} sent as ${o.message.from}`);
          transmit(o.message, t);
          break;
        case 'termChanged':
          if (established)
            violations.push(
              `${id} changed term to ${o.term} at ${t}, after all followed term ${established.term}`,
            );
          if (o.term <= persistedTerm[i]!)
            violations.push(`${id} term went from ${persistedTerm[i]} to ${o.term}`);
          if (o.term !== node.term) violations.push(`${id} announced term ${o.term} while in ${node.term}`);
          persistedTerm[i] = o.term;
          break;
        case 'recordVote': {
          let granted = false;
          if (storeUp(i, t)) {
            const key = `${o.term}/${id}`;
            const existing = votes.get(key);
            if (existing === undefined) votes.set(key, o.candidate);
            granted = (existing ?? o.candidate) === o.candidate;
          } else if (o.replyTo !== id && rng() < 0.5) {
            break; // a failed store call may also mean no answer at all
          }
          const reply: RaftMessage = { type: 'voteResponse', from: id, to: o.replyTo, term: o.term, granted };
          if (o.replyTo === id)
            enqueue(t + 1 + Math.floor(rng() * 5), { message: reply, incarnation: incarnation[i]! });
          else transmit(reply, t);
          break;
        }
        case 'roleChanged':
          if (established) {
            if (i === established.leader)
              violations.push(`established leader ${id} became ${o.role} at ${t} (term ${o.term})`);
            else if (o.role === 'precandidate') preVoteRoundsAfter++;
            else if (o.role !== 'follower') violations.push(`${id} became ${o.role} at ${t}`);
          }
          if (o.role === 'leader') {
            const prior = leadersByTerm.get(o.term);
            if (prior !== undefined && prior !== id)
              violations.push(`two leaders in term ${o.term}: ${prior}, ${id}`);
            leadersByTerm.set(o.term, id);
            const recorded = ids.filter((v) => votes.get(`${o.term}/${v}`) === id).length;
            if (recorded < Math.floor(s.n / 2) + 1) {
              violations.push(`${id} leads term ${o.term} with ${recorded} recorded votes`);
            }
            lastWriteAt[i] = Number.NEGATIVE_INFINITY; // the driver writes at once on election
          }
          break;
        case 'leaderChanged':
          break;
        case 'verifyVote':
          // The driver's port: the grant counts only if the voter's SET NX record names us.
          if (storeUp(i, t) && votes.get(`${o.term}/${o.voter}`) === id)
            apply(i, node.voteVerified(o.term, o.voter, t), t);
          break;
        case 'verifyTerm': {
          // A far-ahead term is taken only when the store backs it: a vote recorded in it, or the fence.
          const backed = fence >= o.term || ids.some((v) => votes.has(`${o.term}/${v}`));
          if (storeUp(i, t) && backed) apply(i, node.stepBacked(o.message, t), t);
          break;
        }
      }
    }
  };

  /** The leader's periodic fenced write (the driver's leader-renew script). */
  const renew = (i: number, t: number) => {
    const node = nodes[i];
    if (node?.role !== 'leader' || t - lastWriteAt[i]! < TIMING.heartbeatIntervalMs) return;
    lastWriteAt[i] = t;
    let result: { ok: boolean; fencedBy?: number };
    if (!storeUp(i, t)) result = { ok: false };
    else if (fence > node.term) result = { ok: false, fencedBy: fence };
    else {
      fence = node.term;
      result = { ok: true };
    }
    apply(i, node.storeWrite(result, t), t);
  };

  const stalled = (i: number, t: number) => t < stalledUntil[i]!;
  const quorum = Math.floor(s.n / 2) + 1;

  /** Pausing a node: it keeps its state, but does nothing until `until`. */
  const stall = (w: Window & { node: number; k?: number }, t: number) => {
    const leaderIdx = nodes.findIndex((x) => x?.role === 'leader');
    let target: number;
    if (w.node === LEADER) target = leaderIdx;
    else if (w.node === FOLLOWER) {
      if (s.stability && (!established || t < established.at + DRAIN_MS)) return;
      const candidates = ids.map((_, i) => i).filter((i) => i !== leaderIdx && nodes[i] && !stalled(i, t));
      const pausedNow = ids.filter((_, i) => stalled(i, t)).length;
      // The leader must keep a majority (itself included) that answers it.
      if (candidates.length === 0 || pausedNow + 1 > s.n - quorum) return;
      target = candidates[(w.k ?? 0) % candidates.length]!;
    } else target = w.node % s.n;
    if (target < 0 || !nodes[target]) return;
    const until = Math.min(w.at + w.duration, CHAOS_MS);
    if (until <= t) return;
    stalledUntil[target] = Math.max(stalledUntil[target]!, until);
    stallsApplied++;
  };

  for (let i = 0; i < s.n; i++) nodes[i] = makeNode(i, 0);

  for (let t = 0; t <= end; t++) {
    // Stalls start; the node whose stall ends now runs its overdue timers first, as
    // Node.js does after a pause (timers phase before the poll phase that reads sockets).
    for (const w of s.stalls ?? []) if (w.at === t) stall(w, t);
    for (let i = 0; i < s.n; i++) {
      const node = nodes[i];
      if (node && t > 0 && t === stalledUntil[i]) {
        apply(i, node.tick(t), t);
        renew(i, t);
      }
    }
    // Crashes and restarts (everyone is back up once the chaos ends).
    for (const c of s.crashes) {
      if (c.at !== t) continue;
      const target = c.node === LEADER ? nodes.findIndex((x) => x?.role === 'leader') : c.node % s.n;
      const node = nodes[target];
      if (!node) continue;
      if (c.graceful) apply(target, node.handover(t), t);
      downUntil[target] = Math.max(downUntil[target]!, Math.min(c.at + c.duration, CHAOS_MS));
    }
    for (let i = 0; i < s.n; i++) {
      const down = t < downUntil[i]!;
      if (down && nodes[i]) {
        nodes[i] = null;
        incarnation[i]!++;
        stalledUntil[i] = 0;
      } else if (!down && !nodes[i]) {
        nodes[i] = makeNode(i, t);
        storeHealthy[i] = true;
      }
    }
    // Store reachability as each node's driver observes it.
    for (let i = 0; i < s.n; i++) {
      const node = nodes[i];
      const up = storeUp(i, t);
      if (node && !stalled(i, t) && up !== storeHealthy[i]) {
        storeHealthy[i] = up;
        apply(i, node.setStoreHealthy(up, t), t);
      }
    }
    // Deliveries due now, in random order.
    const due = queue.get(t);
    if (due) {
      queue.delete(t);
      for (let k = due.length - 1; k > 0; k--) {
        const j = Math.floor(rng() * (k + 1));
        [due[k], due[j]] = [due[j]!, due[k]!];
      }
      for (const env of due) {
        const to = index.get(env.message.to);
        const from = index.get(env.message.from);
        if (to === undefined || from === undefined) continue;
        const node = nodes[to];
        if (!node) continue;
        if (env.incarnation !== undefined && env.incarnation !== incarnation[to]) continue;
        if (env.incarnation === undefined && cut(from, to, t)) continue;
        if (stalled(to, t)) {
          // It arrived; the paused process reads it once it runs again.
          enqueue(stalledUntil[to]!, env);
          continue;
        }
        const m = env.message;
        delivered.set(m.type, (delivered.get(m.type) ?? 0) + 1);
        if (m.type !== 'preVote') {
          apply(to, node.step(m, t), t);
          continue;
        }
        // Answering a pre-vote changes nothing: not the term, not the vote, not the role.
        const before = `${node.term}/${node.role}/${node.leader}/${node.votedFor}`;
        const out = node.step(m, t);
        const after = `${node.term}/${node.role}/${node.leader}/${node.votedFor}`;
        if (after !== before) violations.push(`${m.to} changed state on a preVote: ${before} -> ${after}`);
        if (out.some((o) => o.type !== 'send' || o.message.type !== 'preVoteResponse'))
          violations.push(`${m.to} answered a preVote with ${JSON.stringify(out)}`);
        apply(to, out, t);
      }
    }
    // Ticks, each node on its own phase.
    for (let i = 0; i < s.n; i++) {
      const node = nodes[i];
      if (!node || stalled(i, t) || (t + tickPhase[i]!) % s.tickMs !== 0) continue;
      apply(i, node.tick(t), t);
      renew(i, t);
    }
    if (s.stability && !established) {
      const leaderIdx = nodes.findIndex((x) => x?.role === 'leader');
      const leader = nodes[leaderIdx];
      if (
        leader &&
        nodes.every(
          (x, i) =>
            x !== null &&
            x.term === leader.term &&
            x.leader === ids[leaderIdx] &&
            (i === leaderIdx || x.role === 'follower'),
        )
      ) {
        established = { leader: leaderIdx, term: leader.term, at: t };
      }
    }
  }

  const live = nodes.filter((x): x is RaftNode => x !== null);
  const leaders = live.filter((x) => x.role === 'leader');
  let finalLeader: string | null = null;
  const first = leaders[0];
  if (
    leaders.length === 1 &&
    first &&
    live.every((x) => x.leader === first.leader && x.term === first.term)
  ) {
    finalLeader = first.leader;
  } else {
    violations.push(
      `no settled leader at the end: ${live.map((x) => `${x.role}/${x.term}/${x.leader}`).join(' ')}`,
    );
  }
  return {
    leadersByTerm,
    finalLeader,
    violations,
    delivered,
    stalls: stallsApplied,
    establishedAt: established?.at ?? null,
    preVoteRoundsAfter,
  };
}

describe('RaftNode in a simulated cluster', () => {
  it('never elects two leaders in one term, and settles on one leader once healthy', () => {
    const delivered = new Map<string, number>();
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const r = simulate(s);
        expect(r.violations).toEqual([]);
        expect(r.finalLeader).not.toBeNull();
        for (const [type, k] of r.delivered) delivered.set(type, (delivered.get(type) ?? 0) + k);
      }),
      { numRuns: 150 },
    );
    // The runs did exercise every message type, pre-votes included.
    const types = [
      'requestVote',
      'voteResponse',
      'heartbeat',
      'heartbeatResponse',
      'timeoutNow',
      'preVote',
      'preVoteResponse',
    ];
    expect(types.filter((type) => !delivered.has(type))).toEqual([]);
  });

  it('stability: on a healthy network, followers that stall past their timeout never change the term or depose the leader', () => {
    let stalls = 0;
    let rounds = 0;
    fc.assert(
      fc.property(stableScenarioArb, (s) => {
        const r = simulate(s);
        expect(r.violations).toEqual([]);
        expect(r.establishedAt).not.toBeNull();
        expect(r.finalLeader).not.toBeNull();
        stalls += r.stalls;
        rounds += r.preVoteRoundsAfter;
      }),
      { numRuns: 60 },
    );
    // Not vacuous: stalls happened, and stalled followers did time out and poll.
    expect(stalls).toBeGreaterThan(0);
    expect(rounds).toBeGreaterThan(0);
  });

  it('a healthy cluster elects quickly and keeps its leader', () => {
    for (const n of [3, 5] as const) {
      const r = simulate({
        n,
        seed: 42,
        dropPct: 0,
        dupPct: 0,
        maxDelayMs: 10,
        tickMs: 10,
        crashes: [],
        outages: [],
        partitions: [],
      });
      expect(r.violations).toEqual([]);
      // One election, one leader, for the whole run.
      expect(r.leadersByTerm.size).toBe(1);
    }
  });
});

describe('RaftNode under random input', () => {
  const ids = ['a', 'b', 'c', 'x'];
  const messageArb: fc.Arbitrary<RaftMessage> = fc.record({
    type: fc.constantFrom(
      'requestVote',
      'voteResponse',
      'heartbeat',
      'heartbeatResponse',
      'timeoutNow',
      'preVote',
      'preVoteResponse',
    ),
    from: fc.constantFrom(...ids),
    to: fc.constantFrom(...ids),
    term: fc.integer({ min: 0, max: 6 }),
    granted: fc.boolean(),
    transfer: fc.boolean(),
  }) as fc.Arbitrary<RaftMessage>;
  const eventArb = fc.oneof(
    fc.record({ kind: fc.constant('step' as const), message: messageArb }),
    fc.record({ kind: fc.constant('tick' as const) }),
    fc.record({
      kind: fc.constant('storeWrite' as const),
      ok: fc.boolean(),
      fencedBy: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('health' as const), healthy: fc.boolean() }),
    fc.record({ kind: fc.constant('handover' as const) }),
  );

  it('never throws, never goes back in term, and keeps its outputs consistent with its state', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 400 })), { maxLength: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (events, r) => {
          const node = new RaftNode(
            { id: 'a', members: ['a', 'b', 'c'], ...TIMING, random: () => r },
            { term: 0, now: 0 },
          );
          let now = 0;
          let term = 0;
          const votes = new Map<number, string>();
          for (const [e, dt] of events) {
            now += dt;
            const before = { term: node.term, role: node.role, leader: node.leader, votedFor: node.votedFor };
            let out: RaftOutput[];
            if (e.kind === 'step') out = node.step(e.message, now);
            else if (e.kind === 'tick') out = node.tick(now);
            else if (e.kind === 'storeWrite')
              out = node.storeWrite(
                e.fencedBy === undefined ? { ok: e.ok } : { ok: e.ok, fencedBy: e.fencedBy },
                now,
              );
            else if (e.kind === 'health') out = node.setStoreHealthy(e.healthy, now);
            else out = node.handover(now);
            if (e.kind === 'step' && e.message.type === 'preVote') {
              // A pre-vote, whatever its term, is answered without any change of state.
              expect({
                term: node.term,
                role: node.role,
                leader: node.leader,
                votedFor: node.votedFor,
              }).toEqual(before);
              for (const o of out)
                expect(o).toMatchObject({ type: 'send', message: { type: 'preVoteResponse' } });
            }
            if (e.kind === 'step' && e.message.type === 'preVoteResponse' && e.message.granted) {
              // A granted pre-vote is never adopted as a term; at most it starts our own campaign.
              if (node.term !== before.term) {
                expect(node.term).toBe(before.term + 1);
                expect(node.role).toBe('candidate');
                expect(node.votedFor).toBe('a');
              }
            }
            for (const o of out) {
              if (o.type === 'termChanged') {
                expect(o.term).toBeGreaterThan(term);
                term = o.term;
              }
              if (o.type === 'recordVote') {
                // In-memory, too, a node asks to record at most one candidate per term.
                const prior = votes.get(o.term);
                expect(prior === undefined || prior === o.candidate).toBe(true);
                votes.set(o.term, o.candidate);
                expect(o.term).toBe(node.term);
              }
              if (o.type === 'send') {
                expect(o.message.from).toBe('a');
                expect(['b', 'c']).toContain(o.message.to);
              }
            }
            expect(node.term).toBe(term);
            if (node.role === 'leader') expect(node.leader).toBe('a');
            if (node.role === 'candidate' || node.role === 'precandidate') expect(node.leader).toBeNull();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
