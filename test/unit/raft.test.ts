import {
  type RaftConfig,
  type RaftMessage,
  RaftNode,
  type RaftOutput,
  type RaftStatus,
  type Role,
} from '../../shared/consensus/raft';

/*
 * Transcript tests in the style of etcd's raft_paper_test.go: each case drives one
 * node ('a' of members a, b, c unless stated) through a script of calls and pins the
 * exact outputs of every call. Election timeouts are 300..600 ms; `random` replays a
 * fixed list (cycling), so with the default [0] every timeout is exactly 300 ms.
 */

const MIN = 300;
const HB = 75;
const LEASE = 300;

// ---- builders -------------------------------------------------------------------

const rv = (from: string, to: string, term: number, transfer?: boolean): RaftMessage =>
  transfer ? { type: 'requestVote', from, to, term, transfer } : { type: 'requestVote', from, to, term };
const vr = (from: string, to: string, term: number, granted: boolean): RaftMessage => ({
  type: 'voteResponse',
  from,
  to,
  term,
  granted,
});
const hb = (from: string, to: string, term: number): RaftMessage => ({ type: 'heartbeat', from, to, term });
const hbr = (from: string, to: string, term: number): RaftMessage => ({
  type: 'heartbeatResponse',
  from,
  to,
  term,
});
const tn = (from: string, to: string, term: number): RaftMessage => ({ type: 'timeoutNow', from, to, term });

const send = (message: RaftMessage): RaftOutput => ({ type: 'send', message });
const termChanged = (term: number): RaftOutput => ({ type: 'termChanged', term });
const roleChanged = (role: Role, term: number): RaftOutput => ({ type: 'roleChanged', role, term });
const leaderChanged = (leader: string | null, term: number): RaftOutput => ({
  type: 'leaderChanged',
  leader,
  term,
});
const recordVote = (term: number, candidate: string, replyTo = candidate): RaftOutput => ({
  type: 'recordVote',
  term,
  candidate,
  replyTo,
});

type Action =
  | { kind: 'tick'; at: number }
  | { kind: 'step'; at: number; msg: RaftMessage }
  | { kind: 'storeWrite'; at: number; result: { ok: boolean; fencedBy?: number } }
  | { kind: 'storeHealthy'; at: number; healthy: boolean }
  | { kind: 'handover'; at: number };

interface State {
  role: Role;
  term: number;
  leader: string | null;
  votedFor: string | null;
}

interface Line {
  act: Action;
  out: RaftOutput[];
  state?: Partial<State>;
  status?: Partial<RaftStatus>;
}

interface Transcript {
  name: string;
  id?: string;
  members?: string[];
  term?: number;
  random?: number[];
  lines: Line[];
}

const tick = (at: number, out: RaftOutput[] = [], state?: Partial<State>): Line => ({
  act: { kind: 'tick', at },
  out,
  ...(state ? { state } : {}),
});
const recv = (msg: RaftMessage, at: number, out: RaftOutput[] = [], state?: Partial<State>): Line => ({
  act: { kind: 'step', at, msg },
  out,
  ...(state ? { state } : {}),
});
const write = (
  result: { ok: boolean; fencedBy?: number },
  at: number,
  out: RaftOutput[] = [],
  state?: Partial<State>,
): Line => ({ act: { kind: 'storeWrite', at, result }, out, ...(state ? { state } : {}) });
const health = (healthy: boolean, at: number): Line => ({
  act: { kind: 'storeHealthy', at, healthy },
  out: [],
});

/** 'a' campaigns at 300 and wins term 1 at 302 with its own and b's recorded votes. */
const electA: Line[] = [
  tick(300, [
    termChanged(1),
    roleChanged('candidate', 1),
    recordVote(1, 'a'),
    send(rv('a', 'b', 1)),
    send(rv('a', 'c', 1)),
  ]),
  recv(vr('a', 'a', 1, true), 301),
  recv(vr('b', 'a', 1, true), 302, [
    roleChanged('leader', 1),
    leaderChanged('a', 1),
    send(hb('a', 'b', 1)),
    send(hb('a', 'c', 1)),
  ]),
];

/** 'a' follows leader b in term 1 after a heartbeat at 100. */
const followB: Line[] = [
  recv(hb('b', 'a', 1), 100, [termChanged(1), leaderChanged('b', 1), send(hbr('a', 'b', 1))], {
    role: 'follower',
    leader: 'b',
  }),
];

const transcripts: Transcript[] = [
  {
    name: 'initial election: timeout, self-vote recorded, majority wins, heartbeats follow',
    lines: [
      tick(0),
      tick(299, [], { role: 'follower', term: 0 }),
      ...electA.slice(0, 1),
      recv(vr('a', 'a', 1, true), 301, [], { role: 'candidate', term: 1, votedFor: 'a' }),
      ...electA.slice(2),
      tick(376),
      tick(377, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))]),
      tick(451),
      tick(452, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))], { role: 'leader', leader: 'a', term: 1 }),
    ],
  },
  {
    name: 'votes count only once recorded, once per voter',
    lines: [
      electA[0]!,
      // The driver could not record the self-vote (e.g. voted for another before a crash).
      recv(vr('a', 'a', 1, false), 301),
      recv(vr('b', 'a', 1, true), 302),
      recv(vr('b', 'a', 1, true), 303, [], { role: 'candidate' }),
      recv(vr('c', 'a', 1, true), 304, [
        roleChanged('leader', 1),
        leaderChanged('a', 1),
        send(hb('a', 'b', 1)),
        send(hb('a', 'c', 1)),
      ]),
      // Late votes change nothing.
      recv(vr('a', 'a', 1, true), 305),
    ],
  },
  {
    name: 'single-node cluster elects itself once its vote is recorded',
    members: ['a'],
    lines: [
      tick(300, [termChanged(1), roleChanged('candidate', 1), recordVote(1, 'a')]),
      recv(vr('a', 'a', 1, true), 301, [roleChanged('leader', 1), leaderChanged('a', 1)]),
      write({ ok: true }, 500),
      tick(700),
      // Without store writes the lease lapses even with no peers to ask.
      tick(800, [roleChanged('follower', 1), leaderChanged(null, 1)]),
    ],
  },
  {
    name: 'one vote per term: grant via recordVote, refuse a second candidate, repeat for the same one',
    lines: [
      recv(rv('b', 'a', 1), 10, [termChanged(1), recordVote(1, 'b')], {
        term: 1,
        votedFor: 'b',
        role: 'follower',
      }),
      recv(rv('c', 'a', 1), 11, [send(vr('a', 'c', 1, false))], { votedFor: 'b' }),
      // A repeated request re-records (SET NX answers granted again for the same candidate).
      recv(rv('b', 'a', 1), 12, [recordVote(1, 'b')]),
      // A new term frees the vote.
      recv(rv('c', 'a', 2), 13, [termChanged(2), recordVote(2, 'c')], { votedFor: 'c' }),
    ],
  },
  {
    name: 'granting a vote resets the election timer',
    lines: [
      recv(rv('b', 'a', 1), 200, [termChanged(1), recordVote(1, 'b')]),
      tick(300),
      tick(499),
      tick(500, [
        termChanged(2),
        roleChanged('candidate', 2),
        recordVote(2, 'a'),
        send(rv('a', 'b', 2)),
        send(rv('a', 'c', 2)),
      ]),
    ],
  },
  {
    name: 'candidate refuses other candidates of its term',
    lines: [electA[0]!, recv(rv('b', 'a', 1), 301, [send(vr('a', 'b', 1, false))], { votedFor: 'a' })],
  },
  {
    name: 'split vote: no majority, retry after a freshly drawn timeout in a new term',
    random: [0, 0.5],
    lines: [
      electA[0]!,
      recv(vr('a', 'a', 1, true), 301),
      recv(vr('b', 'a', 1, false), 302),
      recv(vr('c', 'a', 1, false), 303, [], { role: 'candidate', term: 1 }),
      // Second draw: 300 + 0.5 * 300 = 450 ms after the campaign at 300.
      tick(749),
      tick(750, [termChanged(2), recordVote(2, 'a'), send(rv('a', 'b', 2)), send(rv('a', 'c', 2))], {
        role: 'candidate',
        term: 2,
      }),
      recv(vr('a', 'a', 2, true), 751),
      recv(vr('c', 'a', 2, true), 752, [
        roleChanged('leader', 2),
        leaderChanged('a', 2),
        send(hb('a', 'b', 2)),
        send(hb('a', 'c', 2)),
      ]),
    ],
  },
  {
    name: 'a candidate that hears a leader of its term follows it',
    lines: [
      electA[0]!,
      recv(
        hb('b', 'a', 1),
        310,
        [roleChanged('follower', 1), leaderChanged('b', 1), send(hbr('a', 'b', 1))],
        {
          role: 'follower',
          leader: 'b',
          votedFor: 'a',
        },
      ),
    ],
  },
  {
    name: 'higher term in a response steps a leader down',
    lines: [
      ...electA,
      recv(hbr('b', 'a', 3), 320, [termChanged(3), roleChanged('follower', 3), leaderChanged(null, 3)], {
        role: 'follower',
        term: 3,
        leader: null,
        votedFor: null,
      }),
    ],
  },
  {
    name: 'higher-term heartbeat: leader steps down and follows the new leader',
    lines: [
      ...electA,
      recv(hb('c', 'a', 2), 320, [
        termChanged(2),
        roleChanged('follower', 2),
        leaderChanged('c', 2),
        send(hbr('a', 'c', 2)),
      ]),
    ],
  },
  {
    name: 'higher term in a vote response steps a candidate down',
    lines: [
      electA[0]!,
      recv(vr('c', 'a', 4, false), 305, [termChanged(4), roleChanged('follower', 4)], {
        term: 4,
        votedFor: null,
      }),
    ],
  },
  {
    name: 'the same leader in a newer term is announced again',
    lines: [
      ...followB,
      recv(hb('b', 'a', 3), 150, [termChanged(3), leaderChanged('b', 3), send(hbr('a', 'b', 3))]),
    ],
  },
  {
    name: 'stale-term messages are answered with the current term; stale responses are dropped',
    term: 3,
    lines: [
      recv(hb('b', 'a', 2), 10, [send(hbr('a', 'b', 3))], { term: 3, leader: null }),
      recv(rv('c', 'a', 1), 11, [send(vr('a', 'c', 3, false))], { votedFor: null }),
      recv(vr('b', 'a', 2, true), 12),
      recv(hbr('b', 'a', 2), 13),
      recv(tn('b', 'a', 2), 14, [], { role: 'follower', term: 3 }),
    ],
  },
  {
    name: 'stickiness: a follower that heard its leader within the minimum timeout ignores vote requests',
    lines: [
      ...followB,
      recv(rv('c', 'a', 2), 399, [], { term: 1, leader: 'b', votedFor: null }),
      // 300 ms after the heartbeat the leader counts as lost.
      recv(rv('c', 'a', 2), 400, [termChanged(2), leaderChanged(null, 2), recordVote(2, 'c')], {
        term: 2,
        votedFor: 'c',
      }),
    ],
  },
  {
    name: 'stickiness: a leadership transfer is not ignored',
    lines: [
      ...followB,
      recv(rv('c', 'a', 2, true), 150, [termChanged(2), leaderChanged(null, 2), recordVote(2, 'c')], {
        votedFor: 'c',
      }),
    ],
  },
  {
    name: 'stickiness: a leader confirmed by a majority ignores a disruptive candidate',
    lines: [
      ...electA,
      recv(rv('c', 'a', 5), 310, [], { role: 'leader', term: 1 }),
      recv(
        rv('c', 'a', 5, true),
        320,
        [termChanged(5), roleChanged('follower', 5), leaderChanged(null, 5), recordVote(5, 'c')],
        { votedFor: 'c' },
      ),
    ],
  },
  {
    name: 'check quorum: a leader without a majority of heartbeat responses within leaseMs steps down',
    lines: [
      ...electA,
      tick(377, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))]),
      write({ ok: true }, 500),
      tick(601, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))]),
      // b's vote at 302 was the last majority confirmation: lapsed at 302 + 300.
      tick(602, [roleChanged('follower', 1), leaderChanged(null, 1)], {
        role: 'follower',
        leader: null,
        term: 1,
      }),
      // And it then behaves as a follower: a fresh election timeout.
      tick(901),
      tick(902, [
        termChanged(2),
        roleChanged('candidate', 2),
        recordVote(2, 'a'),
        send(rv('a', 'b', 2)),
        send(rv('a', 'c', 2)),
      ]),
    ],
  },
  {
    name: 'check quorum: heartbeat responses from a majority keep the leader',
    lines: [
      ...electA,
      recv(hbr('c', 'a', 1), 450),
      write({ ok: true }, 500),
      tick(602, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))], { role: 'leader' }),
      tick(749, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))]),
      tick(750, [roleChanged('follower', 1), leaderChanged(null, 1)]),
    ],
  },
  {
    name: 'store lease: a leader without a successful storeWrite within leaseMs steps down',
    lines: [
      ...electA,
      recv(hbr('b', 'a', 1), 500),
      write({ ok: false }, 550, [], { role: 'leader' }),
      tick(601, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))]),
      tick(602, [roleChanged('follower', 1), leaderChanged(null, 1)]),
    ],
  },
  {
    name: 'store lease: successful writes keep the leader',
    lines: [
      ...electA,
      write({ ok: true }, 400),
      recv(hbr('b', 'a', 1), 500),
      tick(602, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))]),
      tick(700, [roleChanged('follower', 1), leaderChanged(null, 1)]),
    ],
  },
  {
    name: 'fenced storeWrite: a newer term exists, step down and adopt it',
    lines: [
      ...electA,
      // A write from an older term's fence is stale news.
      write({ ok: false, fencedBy: 0 }, 310, [], { role: 'leader' }),
      write(
        { ok: false, fencedBy: 4 },
        320,
        [termChanged(4), roleChanged('follower', 4), leaderChanged(null, 4)],
        {
          role: 'follower',
          term: 4,
          votedFor: null,
        },
      ),
    ],
  },
  {
    name: 'store unhealthy: no campaign (not even on timeoutNow); healthy again: campaign after a fresh timeout',
    lines: [
      health(false, 0),
      tick(300, [], { role: 'follower', term: 0 }),
      recv(tn('b', 'a', 0), 310, [], { role: 'follower', term: 0 }),
      tick(599),
      health(true, 599),
      tick(600, [
        termChanged(1),
        roleChanged('candidate', 1),
        recordVote(1, 'a'),
        send(rv('a', 'b', 1)),
        send(rv('a', 'c', 1)),
      ]),
    ],
  },
  {
    name: 'store unhealthy: a follower whose leader went silent forgets it without campaigning',
    lines: [
      ...followB,
      health(false, 150),
      tick(399),
      tick(400, [leaderChanged(null, 1)], { role: 'follower' }),
    ],
  },
  {
    name: 'store unhealthy: a leader keeps its lease until leaseMs after its last write',
    lines: [
      ...electA,
      health(false, 303),
      recv(hbr('b', 'a', 1), 500),
      tick(601, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))], { role: 'leader' }),
      tick(602, [roleChanged('follower', 1), leaderChanged(null, 1)]),
    ],
  },
  {
    name: 'handover: the leader steps down and sends timeoutNow to the peer that answered last',
    lines: [
      ...electA,
      recv(hbr('c', 'a', 1), 350),
      recv(hbr('b', 'a', 1), 360),
      {
        act: { kind: 'handover', at: 400 },
        out: [roleChanged('follower', 1), leaderChanged(null, 1), send(tn('a', 'b', 1))],
      },
      { act: { kind: 'handover', at: 401 }, out: [], state: { role: 'follower' } },
    ],
  },
  {
    name: 'timeoutNow: campaign at once, with transfer requests that bypass stickiness',
    lines: [
      ...followB,
      recv(tn('b', 'a', 1), 150, [
        termChanged(2),
        roleChanged('candidate', 2),
        leaderChanged(null, 2),
        recordVote(2, 'a'),
        send(rv('a', 'b', 2, true)),
        send(rv('a', 'c', 2, true)),
      ]),
    ],
  },
  {
    name: 'non-members, misaddressed, self-sent and malformed messages are ignored',
    lines: [
      recv(rv('x', 'a', 5), 10, [], { term: 0, votedFor: null }),
      recv(hb('x', 'a', 5), 11, [], { leader: null }),
      recv(rv('b', 'c', 5), 12, [], { term: 0 }),
      recv(hb('a', 'a', 5), 13, [], { term: 0 }),
      recv(vr('a', 'a', 7, true), 14, [], { term: 0 }),
      recv({ type: 'heartbeat', from: 'b', to: 'a', term: Number.NaN }, 15, [], { term: 0 }),
      recv({ type: 'heartbeat', from: 'b', to: 'a', term: -1 }, 16),
      recv({ type: 'bogus', from: 'b', to: 'a', term: 9 } as unknown as RaftMessage, 17),
      recv({ type: 'voteResponse', from: 'b', to: 'a', term: 9 } as unknown as RaftMessage, 18, [], {
        term: 0,
      }),
    ],
  },
];

function runTranscript(t: Transcript): void {
  const members = t.members ?? ['a', 'b', 'c'];
  const values = t.random ?? [0];
  let i = 0;
  const config: RaftConfig = {
    id: t.id ?? 'a',
    members,
    electionTimeoutMinMs: MIN,
    electionTimeoutMaxMs: 2 * MIN,
    heartbeatIntervalMs: HB,
    leaseMs: LEASE,
    random: () => values[i++ % values.length]!,
  };
  const node = new RaftNode(config, { term: t.term ?? 0, now: 0 });
  t.lines.forEach((line, n) => {
    const a = line.act;
    let out: RaftOutput[];
    switch (a.kind) {
      case 'tick':
        out = node.tick(a.at);
        break;
      case 'step':
        out = node.step(a.msg, a.at);
        break;
      case 'storeWrite':
        out = node.storeWrite(a.result, a.at);
        break;
      case 'storeHealthy':
        out = node.setStoreHealthy(a.healthy, a.at);
        break;
      case 'handover':
        out = node.handover(a.at);
        break;
    }
    const where = `line ${n} (${a.kind} at ${a.at})`;
    expect({ where, out }).toEqual({ where, out: line.out });
    if (line.state) {
      const state: State = { role: node.role, term: node.term, leader: node.leader, votedFor: node.votedFor };
      expect({ where, state }).toEqual({ where, state: expect.objectContaining(line.state) });
    }
  });
}

describe('RaftNode transcripts', () => {
  it.each(transcripts.map((t) => [t.name, t] as const))('%s', (_name, t) => runTranscript(t));
});

describe('RaftNode status', () => {
  const config = (over: Partial<RaftConfig> = {}): RaftConfig => ({
    id: 'a',
    members: ['a', 'b', 'c'],
    electionTimeoutMinMs: MIN,
    electionTimeoutMaxMs: 2 * MIN,
    heartbeatIntervalMs: HB,
    leaseMs: LEASE,
    random: () => 0,
    ...over,
  });

  it('reports the age of the last leader contact, and elections started', () => {
    const node = new RaftNode(config(), { term: 0, now: 0 });
    expect(node.status(50)).toEqual({
      role: 'follower',
      term: 0,
      leader: null,
      lastLeaderContactMs: null,
      electionsStarted: 0,
    });
    node.step(hb('b', 'a', 1), 100);
    expect(node.status(180)).toMatchObject({ leader: 'b', lastLeaderContactMs: 80 });
    node.tick(400); // no heartbeat since 100: campaign
    expect(node.status(410)).toMatchObject({ role: 'candidate', leader: null, lastLeaderContactMs: null });
    node.step(vr('a', 'a', 2, true), 420);
    node.step(vr('c', 'a', 2, true), 430);
    // A leader reports when a majority (itself included) last confirmed it.
    expect(node.status(480)).toMatchObject({ role: 'leader', leader: 'a', lastLeaderContactMs: 50 });
    node.step(hbr('b', 'a', 2), 470);
    expect(node.status(480)).toMatchObject({ lastLeaderContactMs: 10, electionsStarted: 1 });
  });

  it('draws every election timeout from the injected random source within [min, max)', () => {
    for (const r of [0, 0.25, 0.999999, 1, -1, Number.NaN]) {
      const node = new RaftNode(config({ random: () => r }), { term: 0, now: 0 });
      let fired = -1;
      for (let t = 0; t <= 2 * MIN && fired < 0; t++) if (node.tick(t).length > 0) fired = t;
      expect(fired).toBeGreaterThanOrEqual(MIN);
      expect(fired).toBeLessThan(2 * MIN);
    }
  });

  it('rejects a configuration it cannot be safe with', () => {
    const bad: Partial<RaftConfig>[] = [
      { members: ['b', 'c'] },
      { members: ['a', 'b', 'b'] },
      { electionTimeoutMinMs: 0 },
      { electionTimeoutMaxMs: 100 },
      { heartbeatIntervalMs: 0 },
      { leaseMs: Number.NaN },
    ];
    for (const over of bad) expect(() => new RaftNode(config(over), { term: 0, now: 0 })).toThrow(RangeError);
    expect(() => new RaftNode(config(), { term: -1, now: 0 })).toThrow(RangeError);
  });
});
