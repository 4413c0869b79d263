import type { Cluster } from 'ioredis';
import { systemClock } from '../../shared/clock';
import { ElectionStore } from '../../shared/elections/store';
import { clusterKeys, partitionKeys } from '../../shared/redis/keys';
import { ReplicaWaits } from '../../shared/redis/replica-waits';
import { plainBallot } from '../../shared/votes/ballot';
import { submitVote } from '../../shared/votes/submit';
import { testRedis } from '../helpers/redis';

/**
 * Coordinators learn of election changes from a sharded channel (they also poll every
 * 500 ms): every change that adds or removes pipeline work announces the election id.
 * And the vote scripts run correctly on an auto-pipelining client, which groups calls
 * by their first key's slot (the benchmark injector uses one).
 */
describe('election changes wake the coordinators', () => {
  let redis: Cluster;
  let sub: Cluster;
  const heard: string[] = [];
  let store: ElectionStore;

  beforeAll(async () => {
    redis = testRedis();
    sub = testRedis({ shardedSubscribers: true });
    sub.on('smessage', (channel: string, message: string) => {
      if (channel === clusterKeys.electionsChanged) heard.push(message);
    });
    await sub.ssubscribe(clusterKeys.electionsChanged);
    store = new ElectionStore(redis, systemClock, 4);
  });

  afterAll(async () => {
    sub.disconnect();
    await redis.quit();
  });

  const options = [
    { id: 'a', label: 'A' },
    { id: 'b', label: 'B' },
  ];

  async function openElection(on: ElectionStore, title: string) {
    const created = await on.create({
      title,
      options,
      opensAt: null,
      closesAt: null,
      voters: null,
      hideTotalsUntilClosed: false,
    });
    return on.open(created.id);
  }

  async function heardFor(id: string, count: number): Promise<string[]> {
    const until = Date.now() + 5000;
    while (heard.filter((m) => m === id).length < count && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return heard.filter((m) => m === id);
  }

  it('announces open and close, and not a draft nobody works on', async () => {
    const e = await store.create({
      title: 'changes',
      options,
      opensAt: null,
      closesAt: null,
      voters: null,
      hideTotalsUntilClosed: false,
    });
    await store.open(e.id);
    expect(await heardFor(e.id, 1)).toEqual([e.id]); // the draft itself was not announced
    await store.close(e.id);
    expect(await heardFor(e.id, 2)).toEqual([e.id, e.id]);
    await store.deactivate(e.id);
    expect(await heardFor(e.id, 3)).toHaveLength(3);
  });

  it('announces a scheduled election at creation (the leader must watch its clock)', async () => {
    const e = await store.create({
      title: 'scheduled',
      options,
      opensAt: new Date(Date.now() + 60_000).toISOString(),
      closesAt: null,
      voters: null,
      hideTotalsUntilClosed: false,
    });
    expect(await heardFor(e.id, 1)).toEqual([e.id]);
    await store.deactivate(e.id);
  });

  it('runs the enqueue script for many partitions at once on an auto-pipelining client', async () => {
    const auto = testRedis({ enableAutoPipelining: true });
    try {
      const e = await openElection(store, 'auto-pipelined');
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          submitVote(auto, systemClock, plainBallot, e, `auto-voter-${i}`, { optionId: 'a' }, undefined, {
            waitReplicas: 0,
            waitTimeoutMs: 0,
          }),
        ),
      );
      expect(new Set(results.map((r) => r.voteId)).size).toBe(60);
      const logged = await Promise.all(e.tags.map((t) => redis.xlen(partitionKeys(t).votes)));
      expect(logged.reduce((a, b) => a + b, 0)).toBe(60);
      expect(logged.filter((n) => n > 0).length).toBeGreaterThan(1); // really several partitions
      await store.close(e.id);
      await store.deactivate(e.id);
    } finally {
      auto.disconnect();
    }
  });

  it('shares one WAIT among the submits of a turn, and each learns its vote reached a replica', async () => {
    const store16 = new ElectionStore(redis, systemClock, 16); // some partitions share a master
    const e = await openElection(store16, 'group commit');
    await redis.get(partitionKeys(e.tags[0]!).gate); // the client knows the slots now
    const waits = new ReplicaWaits(redis);
    const a = waits.target(partitionKeys(e.tags[0]!).votes);
    expect(a).not.toBeNull();
    const sameMaster = e.tags.find(
      (t, i) => i > 0 && waits.target(partitionKeys(t).votes)?.nodeKey === a!.nodeKey,
    );
    expect(sameMaster).toBeDefined();
    const b = waits.target(partitionKeys(sameMaster!).votes)!;
    const first = waits.after(a!, 1, 1000);
    expect(waits.after(b, 1, 1000)).toBe(first); // one WAIT for both
    expect((await first).replicas).toBeGreaterThanOrEqual(1);
    expect(waits.after(a!, 1, 1000)).not.toBe(first); // the next turn gets its own

    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        submitVote(redis, systemClock, plainBallot, e, `gc-voter-${i}`, { optionId: 'b' }, undefined, {
          waitReplicas: 1,
          waitTimeoutMs: 1000,
        }),
      ),
    );
    expect(results.map((r) => r.replicated)).toEqual(Array(40).fill(1));
    await store.close(e.id);
    await store.deactivate(e.id);
  });
});
