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
 * fixed list (cycling), so with the default [0] every timeout is exactly 300 ms. Every
 * reset of the election timer draws once, a pre-vote round included.
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
const pv = (from: string, to: string, term: number): RaftMessage => ({ type: 'preVote', from, to, term });
const pvr = (from: string, to: string, term: number, granted: boolean): RaftMessage => ({
  type: 'preVoteResponse',
  from,
  to,
  term,
  granted,
});

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
  | { kind: 'stepBacked'; at: number; msg: RaftMessage }
  | { kind: 'voteVerified'; at: number; term: number; voter: string }
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
  maxTermJump?: number;
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
const verifyVote = (term: number, voter: string): RaftOutput => ({ type: 'verifyVote', term, voter });
const verifyTerm = (message: RaftMessage): RaftOutput => ({
  type: 'verifyTerm',
  term: message.term,
  message,
});

/**
 * A peer's grant: the message alone only asks the driver to check the store; the
 * vote counts when the driver reports the voter's record names us (`voteVerified`).
 */
const grant = (
  voter: string,
  term: number,
  at: number,
  out: RaftOutput[] = [],
  state?: Partial<State>,
): Line[] => [
  recv(vr(voter, 'a', term, true), at, [verifyVote(term, voter)]),
  { act: { kind: 'voteVerified', at, term, voter }, out, ...(state ? { state } : {}) },
];

/**
 * A message more than one term ahead: by itself it only asks the driver to check that
 * the store backs the term; once it does, `stepBacked` handles it as usual.
 */
const jump = (msg: RaftMessage, at: number, out: RaftOutput[] = [], state?: Partial<State>): Line[] => [
  recv(msg, at, [verifyTerm(msg)]),
  { act: { kind: 'stepBacked', at, msg }, out, ...(state ? { state } : {}) },
];

const write = (
  result: { ok: boolean; fencedBy?: number },
  at: number,
  out: RaftOutput[] = [],
  state?: Partial<State>,
): Line => ({ act: { kind: 'storeWrite', at, result }, out, ...(state ? { state } : {}) });
const health = (healthy: boolean, at: number, out: RaftOutput[] = [], state?: Partial<State>): Line => ({
  act: { kind: 'storeHealthy', at, healthy },
  out,
  ...(state ? { state } : {}),
});

/**
 * 'a' times out at 300 and polls for pre-votes (term 0, nothing recorded); b's pre-vote
 * makes a majority with its own, so it campaigns for term 1 at once (still at 300).
 */
const campaignA: Line[] = [
  tick(300, [roleChanged('precandidate', 0), send(pv('a', 'b', 1)), send(pv('a', 'c', 1))]),
  recv(pvr('b', 'a', 1, true), 300, [
    termChanged(1),
    roleChanged('candidate', 1),
    recordVote(1, 'a'),
    send(rv('a', 'b', 1)),
    send(rv('a', 'c', 1)),
  ]),
];

/** 'a' campaigns at 300 and wins term 1 at 302 with its own and b's recorded votes. */
const electA: Line[] = [
  ...campaignA,
  recv(vr('a', 'a', 1, true), 301),
  ...grant('b', 1, 302, [
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
    name: 'initial election: timeout, pre-votes, self-vote recorded, majority wins, heartbeats follow',
    lines: [
      tick(0),
      tick(299, [], { role: 'follower', term: 0 }),
      { ...campaignA[0]!, state: { role: 'precandidate', term: 0, votedFor: null, leader: null } },
      { ...campaignA[1]!, state: { role: 'candidate', term: 1, votedFor: 'a' } },
      recv(vr('a', 'a', 1, true), 301, [], { role: 'candidate', term: 1, votedFor: 'a' }),
      ...electA.slice(3),
      tick(376),
      tick(377, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))]),
      tick(451),
      tick(452, [send(hb('a', 'b', 1)), send(hb('a', 'c', 1))], { role: 'leader', leader: 'a', term: 1 }),
    ],
  },
  {
    name: 'votes count only once recorded, once per voter',
    lines: [
      ...campaignA,
      // The driver could not record the self-vote (e.g. voted for another before a crash).
      recv(vr('a', 'a', 1, false), 301),
      ...grant('b', 1, 302),
      recv(vr('b', 'a', 1, true), 303, [], { role: 'candidate' }),
      ...grant('c', 1, 304, [
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
    name: 'single-node cluster: its own pre-vote is a majority, it elects itself once its vote is recorded',
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
      tick(500, [roleChanged('precandidate', 1), send(pv('a', 'b', 2)), send(pv('a', 'c', 2))]),
    ],
  },
  {
    name: 'candidate refuses other candidates of its term',
    lines: [...campaignA, recv(rv('b', 'a', 1), 301, [send(vr('a', 'b', 1, false))], { votedFor: 'a' })],
  },
  {
    name: 'split vote: no majority, pre-votes again after a freshly drawn timeout, then a new term',
    random: [0, 0, 0.5],
    lines: [
      ...campaignA,
      recv(vr('a', 'a', 1, true), 301),
      recv(vr('b', 'a', 1, false), 302),
      recv(vr('c', 'a', 1, false), 303, [], { role: 'candidate', term: 1 }),
      // Third draw (the campaign's): 300 + 0.5 * 300 = 450 ms after the campaign at 300.
      tick(749),
      // A candidate whose round timed out polls again, in its current term.
      tick(750, [roleChanged('precandidate', 1), send(pv('a', 'b', 2)), send(pv('a', 'c', 2))], {
        role: 'precandidate',
        term: 1,
        votedFor: 'a',
      }),
      recv(pvr('c', 'a', 2, true), 751, [
        termChanged(2),
        roleChanged('candidate', 2),
        recordVote(2, 'a'),
        send(rv('a', 'b', 2)),
        send(rv('a', 'c', 2)),
      ]),
      recv(vr('a', 'a', 2, true), 751),
      ...grant('c', 2, 752, [
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
      ...campaignA,
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
      ...jump(hbr('b', 'a', 3), 320, [termChanged(3), roleChanged('follower', 3), leaderChanged(null, 3)], {
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
      ...campaignA,
      ...jump(vr('c', 'a', 4, false), 305, [termChanged(4), roleChanged('follower', 4)], {
        term: 4,
        votedFor: null,
      }),
    ],
  },
  {
    name: 'the same leader in a newer term is announced again',
    lines: [
      ...followB,
      ...jump(hb('b', 'a', 3), 150, [termChanged(3), leaderChanged('b', 3), send(hbr('a', 'b', 3))]),
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
      ...jump(
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
      // And it then behaves as a follower: a fresh election timeout, pre-votes first.
      tick(901),
      tick(902, [roleChanged('precandidate', 1), send(pv('a', 'b', 2)), send(pv('a', 'c', 2))]),
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
    name: 'store unhealthy: no pre-campaign (nor campaign on timeoutNow); healthy again: pre-campaign after a fresh timeout',
    lines: [
      health(false, 0),
      tick(300, [], { role: 'follower', term: 0 }),
      recv(tn('b', 'a', 0), 310, [], { role: 'follower', term: 0 }),
      tick(599),
      health(true, 599),
      tick(600, [roleChanged('precandidate', 0), send(pv('a', 'b', 1)), send(pv('a', 'c', 1))]),
    ],
  },
  {
    name: 'store unhealthy: a precandidate abandons its round; late pre-votes do not start a campaign',
    lines: [
      campaignA[0]!,
      health(false, 301, [roleChanged('follower', 0)], { role: 'follower', term: 0 }),
      recv(pvr('b', 'a', 1, true), 302, [], { role: 'follower', term: 0, votedFor: null }),
      health(true, 303),
      recv(pvr('c', 'a', 1, true), 304, [], { role: 'follower', term: 0 }),
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
    name: 'timeoutNow: campaign at once, skipping pre-votes, with transfer requests that bypass stickiness',
    lines: [
      ...followB,
      recv(
        tn('b', 'a', 1),
        150,
        [
          termChanged(2),
          roleChanged('candidate', 2),
          leaderChanged(null, 2),
          recordVote(2, 'a'),
          send(rv('a', 'b', 2, true)),
          send(rv('a', 'c', 2, true)),
        ],
        { role: 'candidate', term: 2, votedFor: 'a' },
      ),
    ],
  },
  {
    name: 'timeoutNow: a precandidate campaigns at once too, without waiting for its pre-votes',
    term: 1,
    lines: [
      tick(300, [roleChanged('precandidate', 1), send(pv('a', 'b', 2)), send(pv('a', 'c', 2))]),
      recv(tn('b', 'a', 1), 301, [
        termChanged(2),
        roleChanged('candidate', 2),
        recordVote(2, 'a'),
        send(rv('a', 'b', 2, true)),
        send(rv('a', 'c', 2, true)),
      ]),
      // The pre-vote for the term it is now in is stale: it counts for nothing.
      recv(pvr('c', 'a', 2, true), 302, [], { role: 'candidate', term: 2 }),
    ],
  },
  // ---- PreVote ------------------------------------------------------------------
  {
    name: 'pre-vote granted only once the leader is silent; granting changes no term, vote, leader or timer',
    lines: [
      ...followB,
      // Within the minimum timeout of b's heartbeat: refused, with the current term.
      recv(pv('c', 'a', 2), 399, [send(pvr('a', 'c', 1, false))], {
        term: 1,
        leader: 'b',
        votedFor: null,
      }),
      // Leader silent for 300 ms: granted, echoing the term asked for, adopting nothing.
      recv(pv('c', 'a', 2), 400, [send(pvr('a', 'c', 2, true))], {
        role: 'follower',
        term: 1,
        leader: 'b',
        votedFor: null,
      }),
      // The timer armed by b's heartbeat at 100 was not reset by the grant.
      tick(400, [
        roleChanged('precandidate', 1),
        leaderChanged(null, 1),
        send(pv('a', 'b', 2)),
        send(pv('a', 'c', 2)),
      ]),
    ],
  },
  {
    name: 'pre-vote answered as a real vote would be: one vote per term, stale terms, unreachable store',
    term: 2,
    lines: [
      recv(rv('b', 'a', 3), 10, [termChanged(3), recordVote(3, 'b')], { term: 3, votedFor: 'b' }),
      // Same term as ours: only the candidate we voted for would get our vote.
      recv(pv('c', 'a', 3), 11, [send(pvr('a', 'c', 3, false))]),
      recv(pv('b', 'a', 3), 12, [send(pvr('a', 'b', 3, true))]),
      recv(pv('c', 'a', 2), 13, [send(pvr('a', 'c', 3, false))]),
      // A newer term is granted and still not adopted.
      recv(pv('c', 'a', 4), 14, [send(pvr('a', 'c', 4, true))], { term: 3, votedFor: 'b', role: 'follower' }),
      // A node that could not record a vote does not promise one.
      health(false, 15),
      recv(pv('c', 'a', 4), 16, [send(pvr('a', 'c', 3, false))], { term: 3, votedFor: 'b' }),
    ],
  },
  {
    name: 'precandidate: refusals and grants for another term do not count; a majority of pre-votes starts the election',
    members: ['a', 'b', 'c', 'd', 'e'],
    lines: [
      tick(
        300,
        [
          roleChanged('precandidate', 0),
          send(pv('a', 'b', 1)),
          send(pv('a', 'c', 1)),
          send(pv('a', 'd', 1)),
          send(pv('a', 'e', 1)),
        ],
        { role: 'precandidate', term: 0, votedFor: null },
      ),
      recv(pvr('b', 'a', 0, false), 301),
      recv(pvr('c', 'a', 5, true), 302, [], { term: 0 }),
      recv(pvr('d', 'a', 1, true), 303, [], { role: 'precandidate', term: 0 }),
      // The same voter twice is one pre-vote.
      recv(pvr('d', 'a', 1, true), 304, [], { role: 'precandidate', term: 0 }),
      recv(pvr('e', 'a', 1, true), 305, [
        termChanged(1),
        roleChanged('candidate', 1),
        recordVote(1, 'a'),
        send(rv('a', 'b', 1)),
        send(rv('a', 'c', 1)),
        send(rv('a', 'd', 1)),
        send(rv('a', 'e', 1)),
      ]),
      // Late pre-votes change nothing.
      recv(pvr('c', 'a', 1, true), 306, [], { role: 'candidate', term: 1 }),
    ],
  },
  {
    name: 'precandidate: no majority, no campaign; the round is repeated after a fresh timeout in the same term',
    lines: [
      campaignA[0]!,
      recv(pvr('b', 'a', 0, false), 301),
      recv(pvr('c', 'a', 0, false), 302, [], { role: 'precandidate', term: 0 }),
      tick(599, [], { term: 0 }),
      tick(600, [send(pv('a', 'b', 1)), send(pv('a', 'c', 1))], { role: 'precandidate', term: 0 }),
    ],
  },
  {
    name: 'precandidate: a refusal carrying a newer term is adopted; a stale grant then counts for nothing',
    lines: [
      campaignA[0]!,
      ...jump(pvr('b', 'a', 4, false), 301, [termChanged(4), roleChanged('follower', 4)], {
        role: 'follower',
        term: 4,
        votedFor: null,
      }),
      recv(pvr('c', 'a', 1, true), 302, [], { role: 'follower', term: 4 }),
    ],
  },
  {
    name: 'precandidate: a heartbeat of its term ends the round; it follows without raising its term',
    term: 1,
    lines: [
      tick(300, [roleChanged('precandidate', 1), send(pv('a', 'b', 2)), send(pv('a', 'c', 2))]),
      recv(hb('b', 'a', 1), 301, [roleChanged('follower', 1), leaderChanged('b', 1), send(hbr('a', 'b', 1))]),
      recv(pvr('c', 'a', 2, true), 302, [], { role: 'follower', term: 1, leader: 'b' }),
    ],
  },
  {
    name: 'precandidate: voting for a candidate of its term ends the round',
    term: 1,
    lines: [
      tick(300, [roleChanged('precandidate', 1), send(pv('a', 'b', 2)), send(pv('a', 'c', 2))]),
      recv(rv('b', 'a', 1), 301, [roleChanged('follower', 1), recordVote(1, 'b')], { votedFor: 'b' }),
      recv(pvr('c', 'a', 2, true), 302, [], { role: 'follower', term: 1, votedFor: 'b' }),
    ],
  },
  {
    name: 'stalled follower (the regression): it times out, but its pre-votes are refused and it rejoins in the same term',
    lines: [
      ...followB,
      // An event-loop pause: nothing runs until 1000, when the timer fires before the
      // backlog of heartbeats is read. Without PreVote it would campaign for term 2.
      tick(1000, [
        roleChanged('precandidate', 1),
        leaderChanged(null, 1),
        send(pv('a', 'b', 2)),
        send(pv('a', 'c', 2)),
      ]),
      // The heartbeat in the backlog: it follows b again, and its answer carries term 1,
      // not a higher term that would depose b.
      recv(hb('b', 'a', 1), 1000, [
        roleChanged('follower', 1),
        leaderChanged('b', 1),
        send(hbr('a', 'b', 1)),
      ]),
      // b and c heard from b recently: both refuse, in term 1.
      recv(pvr('b', 'a', 1, false), 1001),
      recv(pvr('c', 'a', 1, false), 1002, [], { role: 'follower', term: 1, leader: 'b', votedFor: null }),
      // Nor did it persist or vote anything meanwhile.
      tick(1299),
    ],
  },
  {
    name: "stalled follower (the leader's side): a healthy leader refuses its pre-vote and keeps leading in its term",
    lines: [
      ...electA,
      recv(hbr('c', 'a', 1), 310),
      recv(pv('c', 'a', 2), 320, [send(pvr('a', 'c', 1, false))], { role: 'leader', term: 1, leader: 'a' }),
      recv(hbr('c', 'a', 1), 321, [], { role: 'leader', term: 1 }),
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
      recv(pv('x', 'a', 5), 14, [], { term: 0 }),
      recv(pv('a', 'a', 1), 14, [], { term: 0 }),
      recv(pvr('a', 'a', 1, true), 14, [], { term: 0 }),
      recv({ type: 'preVoteResponse', from: 'b', to: 'a', term: 9 } as unknown as RaftMessage, 14, [], {
        term: 0,
      }),
      recv({ type: 'heartbeat', from: 'b', to: 'a', term: Number.NaN }, 15, [], { term: 0 }),
      recv({ type: 'heartbeat', from: 'b', to: 'a', term: -1 }, 16),
      recv({ type: 'bogus', from: 'b', to: 'a', term: 9 } as unknown as RaftMessage, 17),
      recv({ type: 'voteResponse', from: 'b', to: 'a', term: 9 } as unknown as RaftMessage, 18, [], {
        term: 0,
      }),
    ],
  },
  {
    name: 'a grant counts only once the store holds it: unverified grants never make a leader',
    lines: [
      ...campaignA,
      recv(vr('a', 'a', 1, true), 301, [], { role: 'candidate', term: 1 }),
      // Both peers say "granted", but the driver finds neither record naming a.
      recv(vr('b', 'a', 1, true), 302, [verifyVote(1, 'b')]),
      recv(vr('c', 'a', 1, true), 303, [verifyVote(1, 'c')], { role: 'candidate', leader: null }),
      // Verifications for another term, a non-member or a non-candidate change nothing.
      { act: { kind: 'voteVerified', at: 304, term: 2, voter: 'b' }, out: [], state: { role: 'candidate' } },
      { act: { kind: 'voteVerified', at: 305, term: 1, voter: 'x' }, out: [], state: { role: 'candidate' } },
      tick(900, [roleChanged('precandidate', 1), send(pv('a', 'b', 2)), send(pv('a', 'c', 2))]),
      {
        act: { kind: 'voteVerified', at: 901, term: 1, voter: 'b' },
        out: [],
        state: { role: 'precandidate' },
      },
    ],
  },
  {
    name: 'bounded term jumps: one message cannot move a node to a term no election produced',
    lines: [
      ...followB,
      // The reviewer's attack: a heartbeat of term 2^53-1. Unbacked, it changes nothing.
      recv(hb('c', 'a', Number.MAX_SAFE_INTEGER), 120, [verifyTerm(hb('c', 'a', Number.MAX_SAFE_INTEGER))], {
        role: 'follower',
        term: 1,
        leader: 'b',
      }),
      // A vote request during the leader's lease is ignored before any term question.
      recv(rv('c', 'a', 1000), 121, [], { term: 1, leader: 'b' }),
      recv(rv('c', 'a', 1000, true), 122, [verifyTerm(rv('c', 'a', 1000, true))], {
        term: 1,
        votedFor: null,
      }),
      recv(hbr('c', 'a', 3), 123, [verifyTerm(hbr('c', 'a', 3))], { term: 1 }),
      // One term ahead is what a single election produces: adopted directly.
      recv(hb('c', 'a', 2), 130, [termChanged(2), leaderChanged('c', 2), send(hbr('a', 'c', 2))], {
        term: 2,
        leader: 'c',
      }),
    ],
  },
  {
    name: 'bounded term jumps: a precandidate does not adopt a far-ahead term from a refusal unless backed',
    lines: [
      campaignA[0]!,
      recv(pvr('b', 'a', 9, false), 301, [verifyTerm(pvr('b', 'a', 9, false))], {
        role: 'precandidate',
        term: 0,
      }),
      // A refusal one term ahead is within what an election produces: adopted.
      recv(pvr('c', 'a', 1, false), 302, [termChanged(1), roleChanged('follower', 1)], {
        role: 'follower',
        term: 1,
      }),
    ],
  },
  {
    name: 'bounded term jumps: a configured bound of 3 adopts up to three terms ahead directly',
    maxTermJump: 3,
    lines: [
      recv(hb('b', 'a', 3), 10, [termChanged(3), leaderChanged('b', 3), send(hbr('a', 'b', 3))], { term: 3 }),
      recv(hb('b', 'a', 7), 20, [verifyTerm(hb('b', 'a', 7))], { term: 3 }),
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
    ...(t.maxTermJump !== undefined ? { maxTermJump: t.maxTermJump } : {}),
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
      case 'stepBacked':
        out = node.stepBacked(a.msg, a.at);
        break;
      case 'voteVerified':
        out = node.voteVerified(a.term, a.voter, a.at);
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
    node.tick(400); // no heartbeat since 100: pre-vote round, not an election yet
    expect(node.status(402)).toMatchObject({
      role: 'precandidate',
      term: 1,
      leader: null,
      lastLeaderContactMs: null,
      electionsStarted: 0,
    });
    node.step(pvr('c', 'a', 2, true), 405); // a majority of pre-votes: campaign
    expect(node.status(410)).toMatchObject({ role: 'candidate', leader: null, lastLeaderContactMs: null });
    node.step(vr('a', 'a', 2, true), 420);
    expect(node.step(vr('c', 'a', 2, true), 430)).toEqual([{ type: 'verifyVote', term: 2, voter: 'c' }]);
    node.voteVerified(2, 'c', 430);
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
