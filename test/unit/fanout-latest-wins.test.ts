import { Outbox } from '../../coordinator/fanout/outbox';
import { TallyCoalescer } from '../../coordinator/fanout/tally';
import { createLogger } from '../../shared/logger';
import { deliver } from '../../shared/realtime/delivery';
import {
  type BroadcastRequest,
  type RealtimeEvent,
  parseBroadcastRequest,
} from '../../shared/realtime/events';
import { latestWins, shardOf } from '../../shared/realtime/latest-wins';

/** A tally of election `e` whose totals say `n` votes were counted. */
const tally = (e: string, n: number): RealtimeEvent => ({
  type: 'tally.updated',
  topic: `election:${e}`,
  data: { electionId: e, finalized: n },
  ts: `t${n}`,
});
const vote = (id: string): RealtimeEvent => ({
  type: 'vote.finalized',
  topic: `vote:${id}`,
  data: { voteId: id, status: 'finalized' },
  ts: 't',
});
const decode = (data: Uint8Array): RealtimeEvent => JSON.parse(Buffer.from(data).toString('utf8'));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('fan-out: latest wins for tallies, never for a voter event', () => {
  test('only the newest tally of each election survives; every vote event stays, in order', () => {
    const events: RealtimeEvent[] = [];
    for (let i = 0; i < 50; i++) {
      events.push(tally('a', i), vote(`v${i}`), tally('b', 100 + i));
    }
    const out = latestWins(events);
    expect(out.filter((e) => e.type === 'vote.finalized').map((e) => e.data['voteId'])).toEqual(
      Array.from({ length: 50 }, (_, i) => `v${i}`),
    );
    expect(out.filter((e) => e.type === 'tally.updated')).toEqual([tally('a', 49), tally('b', 149)]);
    expect(out).toHaveLength(52);
  });

  test('the outbox replaces a waiting tally by a newer one and sends every vote event', async () => {
    const sent: BroadcastRequest[] = [];
    const outbox = new Outbox(
      { send: async (r) => void sent.push(r) },
      'n1',
      60_000,
      createLogger({ component: 'test' }),
      () => 0,
    );
    for (let i = 1; i <= 20; i++) {
      outbox.add([tally('a', i)], { key: 'ack-of-election-a', value: `s${i}`, ttlMs: 1000 });
      outbox.add([vote(`v${i}`)]);
    }
    await outbox.drain();
    const events = sent.flatMap((r) => r.events);
    expect(events.filter((e) => e.type === 'tally.updated')).toEqual([tally('a', 20)]);
    expect(events.filter((e) => e.type === 'vote.finalized')).toHaveLength(20);
    expect(sent.flatMap((r) => r.acks ?? [])).toEqual([
      { key: 'ack-of-election-a', value: 's20', ttlMs: 1000 },
    ]);
    expect(outbox.superseded).toBe(19);
  });

  test('a slow delivery posts the newest tally to the connections it reaches later; vote events go to their voter once each', async () => {
    const connections = Array.from({ length: 30 }, (_, i) => `c${i}`);
    let newest = 1;
    const got = new Map<string, RealtimeEvent[]>();
    const report = await deliver(
      [tally('a', 1), vote('v1'), vote('v2')],
      {
        subscribers: async (t) => (t === 'election:a' ? connections : t === 'vote:v1' ? ['c3'] : ['c29']),
        remove: async () => 0,
      },
      {
        post: async (c, data) => {
          await tick();
          got.set(c, [...(got.get(c) ?? []), decode(data)]);
          // Votes keep finalizing while the delivery runs.
          newest++;
          return 'ok';
        },
      },
      {
        concurrency: 1,
        now: () => newest * 10,
        latest: async (topic) => Buffer.from(JSON.stringify(tally(topic.slice('election:'.length), newest))),
        latestEveryMs: 0,
      },
    );
    expect(report.failed).toBe(0);
    const seen = connections.map((c) => (got.get(c) ?? []).filter((e) => e.type === 'tally.updated'));
    // Each connection exactly one tally (never a queue of them)...
    expect(seen.every((s) => s.length === 1)).toBe(true);
    const counts = [...got.values()].flatMap((evs) =>
      evs.filter((e) => e.type === 'tally.updated').map((e) => Number(e.data['finalized'])),
    );
    // ...and those reached later got fresher totals than the one the delivery started with.
    expect(Math.max(...counts)).toBeGreaterThan(20);
    const votes = [...got.entries()].flatMap(([c, evs]) =>
      evs.filter((e) => e.type === 'vote.finalized').map((e) => `${c}:${e.data['voteId']}`),
    );
    expect(votes.sort()).toEqual(['c29:v2', 'c3:v1']);
  });

  test('a split fan-out: the shards cover every subscriber exactly once', async () => {
    const connections = Array.from({ length: 200 }, (_, i) => `conn-${i}-${'x'.repeat(i % 7)}`);
    const count = 3;
    const reached: string[] = [];
    for (let index = 0; index < count; index++) {
      const r = await deliver(
        [tally('a', 1)],
        { subscribers: async () => connections, remove: async () => 0 },
        {
          post: async (c) => {
            reached.push(c);
            return 'ok';
          },
        },
        { concurrency: 4, now: () => 0, shard: { index, count } },
      );
      // Roughly even: no shard gets most of the work.
      expect(r.connections).toBeGreaterThan(200 / count / 2);
    }
    expect(reached.sort()).toEqual([...connections].sort());
    expect(new Set(connections.map((c) => shardOf(c, 1)))).toEqual(new Set([0]));
    expect(() => parseBroadcastRequest({ events: [], shard: { index: 3, count: 3 } })).toThrow();
    expect(parseBroadcastRequest({ events: [], shard: { index: 2, count: 3 } }).shard).toEqual({
      index: 2,
      count: 3,
    });
  });

  test('a tally read while a delivery is under way is owed a delivery once that one ends', () => {
    const t = new TallyCoalescer(250, 30_000);
    t.markDirty('e');
    t.begin('e', 0);
    t.end('e', 's1', 1);
    t.markDirty('e');
    expect(t.ready(300)).toEqual(['e']);
    expect(t.blockedBy('e', 300)).toBe('s1');
    // Read anyway (it refreshes the newest tally the delivery under way posts from).
    t.begin('e', 300);
    t.end('e', null, 301);
    expect(t.ready(600)).toEqual([]);
    // Nothing is dirty now, yet the delivery's acknowledgement must still be asked for
    // (CI: the last tally of a quiet election never went out).
    expect(t.pendingAcks(600)).toEqual([{ id: 'e', seq: 's1' }]);
    t.acked('e', 's1');
    expect(t.pendingAcks(600)).toEqual([]);
    // The connections the delivery had passed before the read still need these totals.
    expect(t.ready(600)).toEqual(['e']);
    expect(t.blockedBy('e', 600)).toBeNull();
  });

  test('an owed election whose delivery is never acknowledged is settled by the ack timeout', () => {
    const t = new TallyCoalescer(250, 30_000);
    t.markDirty('e');
    t.begin('e', 0);
    t.end('e', 's1', 1);
    t.markDirty('e');
    t.begin('e', 300);
    t.end('e', null, 301);
    expect(t.pendingAcks(20_000)).toEqual([{ id: 'e', seq: 's1' }]);
    expect(t.pendingAcks(31_000)).toEqual([]);
    expect(t.ready(31_000)).toEqual(['e']);
  });
});
