import { TallyCoalescer } from '../../coordinator/fanout/tally';
import { ReplayBuffer } from '../../coordinator/fanout/replay-buffer';
import { batchVoteEvents, parseChannelMessage } from '../../shared/realtime/channel-messages';
import { authorizeTopic, type TopicDirectory } from '../../shared/realtime/authorize';
import { deliver } from '../../shared/realtime/delivery';
import { type RealtimeEvent, parseBroadcastRequest } from '../../shared/realtime/events';
import { MAX_FRAME_BYTES, WsError, parseClientFrame } from '../../shared/realtime/protocol';
import { parseTopic } from '../../shared/realtime/topics';

const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof WsError ? err.code : `unexpected ${String(err)}`;
  }
};

describe('client frames', () => {
  test.each([
    ['subscribe', '{"action":"subscribe","topic":"cluster"}', 'ok'],
    ['unsubscribe', '{"action":"unsubscribe","topic":"x"}', 'ok'],
    ['unknown action', '{"action":"dance"}', 'unknown_action'],
    ['action not a string', '{"action":1}', 'invalid_request'],
    ['no action', '{"topic":"cluster"}', 'invalid_request'],
    ['an array', '[1,2]', 'invalid_request'],
    ['null', 'null', 'invalid_request'],
    ['malformed JSON', '{nope', 'invalid_request'],
    ['empty', '', 'invalid_request'],
    ['too many characters', 'x'.repeat(MAX_FRAME_BYTES + 1), 'payload_too_large'],
    [
      'too many bytes',
      `{"action":"subscribe","topic":"${'é'.repeat(MAX_FRAME_BYTES / 2)}"}`,
      'payload_too_large',
    ],
  ])('%s', (_name, frame, expected) => {
    expect(code(() => parseClientFrame(frame))).toBe(expected);
  });

  test('binary and base64 frames are read as UTF-8 JSON', () => {
    const json = '{"action":"subscribe","topic":"cluster"}';
    expect(parseClientFrame(Buffer.from(json)).action).toBe('subscribe');
    expect(parseClientFrame(Buffer.from(json).toString('base64'), true).action).toBe('subscribe');
  });
});

describe('topics', () => {
  test.each(
    [
      ['cluster', 'cluster'],
      ['election:elabcd1234', 'election'],
      ['vote:elabcd1234.3.1700000000000-0', 'vote'],
      ['election:', null],
      ['election:../x', null],
      ['vote:elabcd1234', null],
      ['clusters', null],
      [42, null],
      ['x'.repeat(500), null],
    ].map(([raw, kind]) => [kind, raw] as const),
  )('topic %# is %s', (kind, raw) => {
    expect(parseTopic(raw)?.kind ?? null).toBe(kind);
  });

  test('authorization rules of API.md', async () => {
    const dir: TopicDirectory = {
      electionExists: async (id) => id === 'elabcd1234',
      voteOwner: async (_e, voteId) => (voteId.endsWith('-0') ? 'alice' : null),
    };
    const check = (who: { sub: string; role: 'voter' | 'admin' | 'auditor' }, topic: string) =>
      authorizeTopic(who, parseTopic(topic)!, dir).then(
        () => 'ok',
        (e: WsError) => e.code,
      );
    const alice = { sub: 'alice', role: 'voter' as const };
    const bob = { sub: 'bob', role: 'voter' as const };
    const admin = { sub: 'root', role: 'admin' as const };
    const auditor = { sub: 'aud', role: 'auditor' as const };
    const vote = 'vote:elabcd1234.1.17-0';
    const missing = 'vote:elabcd1234.1.17-1';
    expect(await check(alice, vote)).toBe('ok');
    expect(await check(bob, vote)).toBe('forbidden');
    expect(await check(auditor, vote)).toBe('forbidden');
    expect(await check(admin, vote)).toBe('ok');
    expect(await check(admin, missing)).toBe('not_found');
    expect(await check(bob, missing)).toBe('forbidden');
    expect(await check(alice, 'cluster')).toBe('forbidden');
    expect(await check(auditor, 'cluster')).toBe('forbidden');
    expect(await check(admin, 'cluster')).toBe('ok');
    expect(await check(bob, 'election:elabcd1234')).toBe('ok');
    expect(await check(bob, 'election:elzzzz9999')).toBe('not_found');
  });
});

describe('tally coalescing', () => {
  test('at most one update per interval; the first change after a quiet spell goes at once', () => {
    const t = new TallyCoalescer(250, 5000);
    expect(t.ready(0)).toEqual([]);
    t.markDirty('e');
    expect(t.ready(0)).toEqual(['e']);
    t.begin('e', 0);
    t.end('e', null, 5);
    t.markDirty('e');
    expect(t.ready(100)).toEqual([]);
    expect(t.ready(250)).toEqual(['e']);
    // Many changes inside one interval become one update.
    t.begin('e', 250);
    for (let i = 0; i < 50; i++) t.markDirty('e');
    t.end('e', null, 260);
    expect(t.ready(499)).toEqual([]);
    expect(t.ready(500)).toEqual(['e']);
  });

  test('one delivery in flight: the next waits for the ack or the timeout', () => {
    const t = new TallyCoalescer(250, 5000);
    t.markDirty('e');
    t.begin('e', 0);
    t.end('e', 's1', 1);
    t.markDirty('e');
    expect(t.ready(300)).toEqual(['e']);
    expect(t.blockedBy('e', 300)).toBe('s1');
    t.acked('e', 's0'); // a stale ack changes nothing
    expect(t.blockedBy('e', 400)).toBe('s1');
    t.acked('e', 's1');
    expect(t.blockedBy('e', 400)).toBeNull();
    t.begin('e', 400);
    t.end('e', 's2', 401);
    t.markDirty('e');
    expect(t.blockedBy('e', 5402)).toBeNull(); // timed out: never stuck
  });

  test('a failed read stays dirty', () => {
    const t = new TallyCoalescer(250, 5000);
    t.markDirty('e');
    t.begin('e', 0);
    t.end('e', null, 1, true);
    expect(t.ready(250)).toEqual(['e']);
  });
});

describe('fan-out messages', () => {
  const batch = {
    type: 'votes.finalized',
    electionId: 'elabcd1234',
    partition: 2,
    counted: ['elabcd1234.2.1-0', 'elabcd1234.2.1-1'],
    rejected: [{ voteId: 'elabcd1234.2.1-2', reason: 'late' }],
    at: '2025-01-01T00:00:00.000Z',
  };

  test('batches become vote events only for watched votes', () => {
    const m = parseChannelMessage(JSON.stringify(batch), false);
    expect(m?.kind).toBe('batch');
    if (m?.kind !== 'batch') return;
    const events = batchVoteEvents(m.batch, new Set(['elabcd1234.2.1-1', 'elabcd1234.2.1-2']));
    expect(events.map((e) => [e.type, e.topic, e.data['status']])).toEqual([
      ['vote.finalized', 'vote:elabcd1234.2.1-1', 'finalized'],
      ['vote.rejected', 'vote:elabcd1234.2.1-2', 'rejected'],
    ]);
    expect(events[1]!.data['reason']).toBe('late');
    expect(events[0]!.ts).toBe(batch.at);
  });

  test('junk on a channel is ignored', () => {
    expect(parseChannelMessage('{nope', false)).toBeNull();
    expect(parseChannelMessage('{"type":"votes.finalized"}', false)).toBeNull();
    expect(parseChannelMessage(JSON.stringify(batch), true)).toBeNull();
    const cluster = { type: 'leader.changed', topic: 'cluster', data: { leader: 'c1' }, ts: 'now' };
    expect(parseChannelMessage(JSON.stringify(cluster), true)?.kind).toBe('cluster');
  });

  test('the replay buffer keeps only its window', () => {
    const r = new ReplayBuffer(1000);
    r.push(0, 'a', '1');
    r.push(600, 'a', '2');
    r.push(1200, 'a', '3');
    expect(r.recent(1500).map((m) => m.text)).toEqual(['2', '3']);
  });
});

describe('delivery', () => {
  // Events that are each a fact of their own (tallies are latest-wins: fanout-latest-wins.test.ts).
  const ev = (topic: string, n: number): RealtimeEvent => ({
    type: 'vote.finalized',
    topic,
    data: { n },
    ts: 't',
  });

  test('each subscriber gets its events in order; a gone connection is removed and skipped', async () => {
    const subs: Record<string, string[]> = { a: ['c1', 'c2', 'gone'], b: ['c2'] };
    const removed: string[] = [];
    const got: Record<string, number[]> = {};
    const report = await deliver(
      [ev('a', 1), ev('b', 2), ev('a', 3), ev('nobody', 4)],
      {
        subscribers: async (t) => subs[t] ?? [],
        remove: async (c) => {
          removed.push(c);
          return 1;
        },
      },
      {
        post: async (c, data) => {
          if (c === 'gone') return 'gone';
          got[c] = [...(got[c] ?? []), JSON.parse(Buffer.from(data).toString()).data.n];
          return 'ok';
        },
      },
      { concurrency: 2, now: () => 0 },
    );
    expect(got).toEqual({ c1: [1, 3], c2: [1, 3, 2] });
    expect(removed).toEqual(['gone']);
    expect(report).toMatchObject({ events: 4, topics: 3, connections: 3, delivered: 5, gone: 1, failed: 0 });
  });

  test('broadcast payloads are checked', () => {
    expect(() => parseBroadcastRequest({})).toThrow();
    expect(() => parseBroadcastRequest({ events: [{ type: 'nope' }] })).toThrow();
    expect(() =>
      parseBroadcastRequest({ events: [], acks: [{ key: '{qv}:leader', value: 'x', ttlMs: 1 }] }),
    ).toThrow();
    expect(parseBroadcastRequest({ events: [ev('a', 1)] }).events).toHaveLength(1);
  });
});
