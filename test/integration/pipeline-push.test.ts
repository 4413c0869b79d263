import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';

/**
 * Push, not poll (issue 18): three in-process pipelines (a committee of three, majority
 * two) on the real Redis Cluster. A validator or owner that found nothing waits for the
 * partition's notice, sent by the enqueue and verdict scripts; a slow poll is only the
 * safety net. With the safety net at 30 s a vote is finalized within seconds, so the
 * notices did it; with every notice lost (the subscribers' connections gone) each vote
 * is still finalized, by the safety-net poll.
 */
type Modules = {
  pipeline: typeof import('../../coordinator/pipeline/pipeline');
  leadership: typeof import('../../coordinator/leadership');
  store: typeof import('../../shared/elections/store');
  model: typeof import('../../shared/elections/model');
  keys: typeof import('../../shared/redis/keys');
  client: typeof import('../../shared/redis/client');
  submit: typeof import('../../shared/votes/submit');
  ballot: typeof import('../../shared/votes/ballot');
  read: typeof import('../../shared/votes/read');
  logger: typeof import('../../shared/logger');
  config: typeof import('../../shared/config');
};

const P = 4;
const COMMITTEE = ['n1', 'n2', 'n3'];
const saved = { ...process.env };
let m: Modules;
let redis: Cluster;
const clock = { now: () => Date.now() };

beforeAll(() => {
  // Its own cluster name: these pipelines must never see (or lock) another test's elections.
  process.env['CLUSTER_NAME'] = `push${randomUUID().slice(0, 8)}`;
  jest.isolateModules(() => {
    m = {
      pipeline: require('../../coordinator/pipeline/pipeline'),
      leadership: require('../../coordinator/leadership'),
      store: require('../../shared/elections/store'),
      model: require('../../shared/elections/model'),
      keys: require('../../shared/redis/keys'),
      client: require('../../shared/redis/client'),
      submit: require('../../shared/votes/submit'),
      ballot: require('../../shared/votes/ballot'),
      read: require('../../shared/votes/read'),
      logger: require('../../shared/logger'),
      config: require('../../shared/config'),
    };
  });
  redis = m.client.createRedisCluster(m.config.parseSeeds(process.env['TEST_REDIS_SEEDS']!));
});

afterAll(async () => {
  await redis.quit();
  process.env = saved;
});

interface Running {
  subscribers: Cluster[];
  stop(): Promise<void>;
}

/** Three pipelines with push on and the given safety-net poll; each has its own subscriber. */
function startPipelines(safetyPollMs: number): Running {
  const log = m.logger.createLogger({ component: 'test' }, 'silent');
  const seeds = m.config.parseSeeds(process.env['TEST_REDIS_SEEDS']!);
  const work = m.client.createRedisCluster(seeds, { enableAutoPipelining: true });
  const subscribers = COMMITTEE.map(() => m.client.createRedisCluster(seeds, { shardedSubscribers: true }));
  const pipelines = COMMITTEE.map(
    (nodeId, i) =>
      new m.pipeline.Pipeline({
        redis: work,
        clock,
        nodeId,
        committee: COMMITTEE,
        partitions: P,
        log,
        inSync: () => true,
        healthyMembers: () => COMMITTEE,
        leadership: new m.leadership.Leadership(),
        subscriber: subscribers[i]!,
        push: true,
        safetyPollMs,
      }),
  );
  for (const p of pipelines) p.start();
  return {
    subscribers,
    stop: async () => {
      await Promise.all(pipelines.map((p) => p.stop()));
      for (const s of subscribers) s.disconnect();
      await work.quit();
    },
  };
}

async function openElection() {
  const store = new m.store.ElectionStore(redis, clock, P);
  const e = await store.create({
    title: 'push',
    options: [
      { id: 'a', label: 'A' },
      { id: 'b', label: 'B' },
    ],
    opensAt: null,
    closesAt: null,
    voters: null,
    hideTotalsUntilClosed: false,
  });
  return store.open(e.id);
}

/** Resolves once every partition's validators and owner are waiting for a notice (both flags set). */
async function allWaiting(tags: string[], deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const flags = await Promise.all(
      tags.flatMap((t) => {
        const k = m.keys.partitionKeys(t);
        return [redis.exists(k.validatorsWaiting), redis.exists(k.ownerWaiting)];
      }),
    );
    if (flags.every((f) => f === 1)) return;
    if (Date.now() > until) throw new Error(`not every partition waits for a notice: ${flags.join('')}`);
    await sleep(50);
  }
}

let voterSeq = 0;
/** Submits one vote by a new voter in partition `p`; resolves with its vote id. */
async function vote(e: Awaited<ReturnType<typeof openElection>>, p: number): Promise<string> {
  let voter: string;
  do voter = `push-voter-${voterSeq++}`;
  while (m.model.partitionOf(voter, P, e.partitionSalt) !== p);
  const r = await m.submit.submitVote(
    redis,
    clock,
    m.ballot.plainBallot,
    e,
    voter,
    { optionId: 'a' },
    undefined,
    {
      waitReplicas: 0,
      waitTimeoutMs: 0,
    },
  );
  return r.voteId;
}

/** Milliseconds until the vote is finalized (polled); throws past `deadlineMs`. */
async function finalizedWithin(
  e: Awaited<ReturnType<typeof openElection>>,
  voteId: string,
  deadlineMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const v = await m.read.readVote(redis, e, voteId, COMMITTEE, { sub: 'x', role: 'admin' });
    if (v.status === 'finalized') return Date.now() - started;
    if (Date.now() - started > deadlineMs)
      throw new Error(`vote ${voteId} still ${v.status} after ${deadlineMs} ms`);
    await sleep(20);
  }
}

async function cleanUp(e: { id: string; tags: string[] }): Promise<void> {
  await new m.store.ElectionStore(redis, clock, P).close(e.id).catch(() => {});
  await redis.srem(m.keys.activeElectionsKey, e.id);
  for (const t of e.tags) {
    await Promise.all(Object.values(m.keys.partitionKeys(t)).map((k) => redis.del(k)));
  }
}

test('a vote wakes the waiting validators and owner: finalized long before the 30 s safety-net poll', async () => {
  const run = startPipelines(30_000);
  const e = await openElection();
  try {
    for (const p of [0, 2]) {
      // Everyone idle and waiting: only a notice can make them look before 30 s.
      await allWaiting(e.tags);
      const id = await vote(e, p);
      await finalizedWithin(e, id, 10_000);
    }
  } finally {
    await run.stop();
    await cleanUp(e);
  }
}, 60_000);

test('notices lost (subscribers gone): the safety-net poll still finalizes every vote', async () => {
  const run = startPipelines(500);
  const e = await openElection();
  try {
    await allWaiting(e.tags);
    // Every notice from now on reaches nobody; the pipelines still believe they listen.
    for (const s of run.subscribers) s.disconnect();
    const ids = await Promise.all([0, 1, 2, 3, 0, 1].map((p) => vote(e, p)));
    for (const id of ids) await finalizedWithin(e, id, 15_000);
    const results = await m.read.readResults(redis, clock, e);
    expect(results.finalized).toBe(ids.length);
    expect(results.totals['a']).toBe(ids.length);
  } finally {
    await run.stop();
    await cleanUp(e);
  }
}, 60_000);
