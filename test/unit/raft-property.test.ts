import fc from 'fast-check';
import { type RaftConfig, type RaftMessage, RaftNode, type RaftOutput } from '../../shared/consensus/raft';

/*
 * Property tests for the election state machine (CONVENTIONS 10). A discrete-event
 * simulation runs 3 or 5 nodes over a hostile network (random delays, drops,
 * duplicates, hence reordering; partitions), random crashes and restarts, and random
 * store outages, with a simulated store that does what the driver does in Redis:
 * SET NX per (term, voter) for votes, a fence for leader writes, and a persisted term
 * per node. It asserts:
 *   - safety: never two leaders in one term, and every leader holds recorded votes
 *     from a majority for its term; a node's persisted term never goes back;
 *   - liveness: once the network, the store and every node are healthy again, one
 *     leader emerges that every node follows.
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
}

const atArb = fc.integer({ min: 0, max: CHAOS_MS - 1 });
const durationArb = fc.integer({ min: 10, max: 2500 });
const nodeIndex = fc.integer({ min: 0, max: 4 }); // taken modulo n
const LEADER = -1;
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
  const end = CHAOS_MS + SETTLE_MS;

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

  for (let i = 0; i < s.n; i++) nodes[i] = makeNode(i, 0);

  for (let t = 0; t <= end; t++) {
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
      } else if (!down && !nodes[i]) {
        nodes[i] = makeNode(i, t);
        storeHealthy[i] = true;
      }
    }
    // Store reachability as each node's driver observes it.
    for (let i = 0; i < s.n; i++) {
      const node = nodes[i];
      const up = storeUp(i, t);
      if (node && up !== storeHealthy[i]) {
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
        apply(to, node.step(env.message, t), t);
      }
    }
    // Ticks, each node on its own phase.
    for (let i = 0; i < s.n; i++) {
      const node = nodes[i];
      if (!node || (t + tickPhase[i]!) % s.tickMs !== 0) continue;
      apply(i, node.tick(t), t);
      renew(i, t);
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
  return { leadersByTerm, finalLeader, violations };
}

describe('RaftNode in a simulated cluster', () => {
  it('never elects two leaders in one term, and settles on one leader once healthy', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const r = simulate(s);
        expect(r.violations).toEqual([]);
        expect(r.finalLeader).not.toBeNull();
      }),
      { numRuns: 150 },
    );
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
    type: fc.constantFrom('requestVote', 'voteResponse', 'heartbeat', 'heartbeatResponse', 'timeoutNow'),
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
            if (node.role === 'candidate') expect(node.leader).toBeNull();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
