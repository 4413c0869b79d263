import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { electionKeys, partitionKeys } from '../../shared/redis/keys';
import { compareStreamIds } from '../../shared/votes/stream-ids';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { testRedis } from '../helpers/redis';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';
import { type IsolatedRedis, startIsolatedRedis } from '../helpers/tcp-proxy';

/**
 * Open, close and the voting window under a race (issue 11): 100 opens race one close
 * through the HTTP API while voters keep submitting, and a failover happens in the
 * middle (the leader coordinator, or the Redis master of some partitions, is killed).
 * Real serverless-offline, real coordinators, real Redis Cluster. Afterwards: status
 * closed, every gate closed at the closing point the election recorded, every vote in
 * the log finalized and counted (none pending, none after its partition's closing
 * point), no vote taken by a request sent after the close was answered, result final.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Taken {
  voter: number;
  voteId: string;
  sentAt: number;
}

interface Stack {
  cluster: TestCluster;
  offline: TestOffline;
  api: Api;
  admin: string;
  redis: Cluster;
}

async function startStack(name: string, redisSeeds?: string): Promise<Stack> {
  const keyDir = testKeyDir();
  const cluster = await TestCluster.start(3, {}, redisSeeds);
  const offline = await startTestOffline(
    { JWT_KEY_DIR: keyDir, ...cluster.offlineEnv(), RATE_LIMIT_VOTER: '1000' },
    redisSeeds,
  );
  const api = makeApi(offline.httpUrl, keyDir);
  const redis = redisSeeds ? createRedisCluster(parseSeeds(redisSeeds)) : testRedis();
  await cluster.waitForLeader(20000);
  return { cluster, offline, api, admin: await api.token(`${name}-admin`, 'admin'), redis };
}

async function stopStack(s: Stack | undefined): Promise<void> {
  s?.redis.disconnect();
  await Promise.all([s?.offline.stop(), s?.cluster.stop()]);
}

/**
 * The race: voters keep submitting (before the open, during, after the close), 50 opens,
 * `fault` once the open election has taken a first vote, a close overlapped by 50 more opens (the
 * close is retried while the failover makes it fail, as an admin would). Returns what
 * the voters were told.
 */
/**
 * A connection the server dropped without an answer (fetch's "fetch failed"), as a
 * client sees it during a failover: like a 5xx, nothing is known to have happened, and
 * the client contract is to retry with the same Idempotency-Key. Anything else throws.
 */
function droppedAs599(err: unknown): { status: number; body: { error: { code: string } }; headers: Headers } {
  if (!(err instanceof TypeError && err.message === 'fetch failed')) throw err;
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? 'unknown';
  return { status: 599, body: { error: { code: `connection dropped (${cause})` } }, headers: new Headers() };
}

async function race(s: Stack, id: string, fault: () => Promise<void>) {
  const { api, admin } = s;
  let closeAnsweredAt = Number.POSITIVE_INFINITY;
  const taken: Taken[] = [];
  const refusedAfterClose: number[] = [];
  const unexpected: string[] = [];
  const voter = async (i: number) => {
    const token = await api.token(`${id}-voter-${i}`, 'voter');
    while (Date.now() < closeAnsweredAt + 1000) {
      const sentAt = Date.now();
      const r = await api
        .call('POST', `/elections/${id}/votes`, {
          token,
          body: { optionId: i % 2 ? 'yes' : 'no' },
          headers: { 'Idempotency-Key': `k-${i}` },
        })
        .catch(droppedAs599);
      if (r.status === 202) {
        taken.push({ voter: i, voteId: r.body.voteId, sentAt });
        return;
      }
      if (r.status === 409 && r.body.error.code === 'election_not_open') {
        if (sentAt > closeAnsweredAt) refusedAfterClose.push(i);
      } else if (r.status < 500) {
        unexpected.push(`${r.status} ${JSON.stringify(r.body)}`);
        return;
      } // 5xx (or a dropped connection) during the failover: retried with the same Idempotency-Key
      await sleep(200);
    }
  };
  // A new voter arrives every 40 ms until a second after the close was answered.
  const voters: Promise<void>[] = [];
  const arrivals = (async () => {
    for (let i = 0; i < 1000 && Date.now() < closeAnsweredAt + 1000; i++) {
      voters.push(voter(i));
      await sleep(40);
    }
  })();

  await sleep(400); // some voters are refused while it is still a draft
  const open = () => api.call('POST', `/elections/${id}/open`, { token: admin }).catch(droppedAs599);
  const firstWave = Array.from({ length: 50 }, open);
  await Promise.race(firstWave);
  await eventually(async () => taken.length > 0, 15000, 'a first vote taken'); // votes flow
  await fault();
  await sleep(300); // votes flow into the open election
  // The second wave overlaps the close: each open reads the status while the close runs.
  const secondWave = Array.from({ length: 50 }, (_, i) => sleep(i).then(open));
  const closed = await eventually(
    async () => {
      const r = await api.call('POST', `/elections/${id}/close`, { token: admin });
      return r.status === 200 ? r : undefined;
    },
    60000,
    'close answered 200',
  );
  closeAnsweredAt = Date.now();
  expect(closed.body.status).toBe('closed');
  const opens = await Promise.all([...firstWave, ...secondWave]);
  await arrivals;
  await Promise.all(voters);

  // No vote was taken by a request sent after the close was answered.
  expect(taken.filter((t) => t.sentAt > closeAnsweredAt)).toEqual([]);
  // Every open either found it open (unchanged) or closed (409 invalid_state); during a
  // Redis failover an open may also fail (5xx) and change nothing.
  for (const r of opens) {
    if (r.status === 200) expect(r.body.status).toBe('open');
    else if (r.status < 500) expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
  }
  expect(unexpected).toEqual([]);
  expect(taken.length).toBeGreaterThan(0);
  expect(refusedAfterClose.length).toBeGreaterThan(0); // intake was really tried after close
  return taken;
}

/** The end state every race must reach: closed, final, gates closed at the recorded points. */
async function expectClosedAndFinal(s: Stack, id: string, taken: Taken[]) {
  const { api, admin, redis } = s;
  const results = await eventually(
    async () => {
      const r = await api.call('GET', `/elections/${id}/results`, { token: admin });
      return r.body.final === true ? r.body : undefined;
    },
    60000,
    'final result',
  );
  const meta = await redis.hgetall(electionKeys(id).meta);
  expect(meta['status']).toBe('closed');
  const tags: string[] = JSON.parse(meta['tags']!);
  const gates = await Promise.all(tags.map((t) => redis.get(partitionKeys(t).gate)));
  expect(gates.filter((g) => g === 'open')).toEqual([]); // intake is shut everywhere
  const points: string[] = JSON.parse(meta['closePoints'] ?? 'null');
  expect(points).toHaveLength(tags.length);
  expect(gates).toEqual(points.map((p) => `closed|${p}`));
  // No vote in any partition's log lies after its closing point, and every one before
  // it was counted: nothing pending, nothing rejected.
  let logged = 0;
  for (const [p, t] of tags.entries()) {
    expect(await redis.xrange(partitionKeys(t).votes, `(${points[p]}`, '+', 'COUNT', 1)).toEqual([]);
    logged += await redis.xlen(partitionKeys(t).votes);
  }
  expect(results).toMatchObject({ status: 'closed', pending: 0, rejected: 0, finalized: logged });
  expect(results.totals.yes + results.totals.no).toBe(logged);
  for (const t of taken) {
    const [, p, sid] = t.voteId.split('.');
    expect(compareStreamIds(sid!, points[Number(p)]!)).toBeLessThanOrEqual(0);
  }
  return { results, logged };
}

async function newDraft(s: Stack): Promise<string> {
  const created = await s.api.call('POST', '/elections', {
    token: s.admin,
    body: {
      title: 'race',
      options: [
        { id: 'yes', label: 'Yes' },
        { id: 'no', label: 'No' },
      ],
    },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

describe('lifecycle race: parallel opens against a close, votes flowing, leader killed', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack('lr');
  }, 120000);
  afterAll(() => stopStack(s));

  test('ends closed, all gates closed, every accepted vote counted, none after close', async () => {
    const id = await newDraft(s);
    const { leader } = await s.cluster.waitForLeader();
    const taken = await race(s, id, async () => s.cluster.node(leader).proc.signal('SIGKILL'));
    await s.cluster.waitForLeader(20000, leader); // a new leader, among the survivors
    const { logged } = await expectClosedAndFinal(s, id, taken);
    // No Redis process failed: every vote answered 202 is in the log, and counted.
    expect(logged).toBe(taken.length);
    for (const t of taken) {
      const v = await s.api.call('GET', `/votes/${t.voteId}`, { token: s.admin });
      expect([t.voteId, v.body.status]).toEqual([t.voteId, 'finalized']);
    }

    // Once retired, a closed election refuses new votes even if a Redis failover lost
    // its closed gates (simulated: every gate back to 'open'): the record says closed.
    await eventually(
      async () => (await s.redis.sismember(`{${s.cluster.name}:elections}:active`, id)) === 0,
      15000,
      'election retired',
    );
    const tags: string[] = JSON.parse((await s.redis.hget(electionKeys(id).meta, 'tags'))!);
    const sealed = await Promise.all(tags.map((t) => s.redis.get(partitionKeys(t).gate)));
    await Promise.all(tags.map((t) => s.redis.set(partitionKeys(t).gate, 'open')));
    try {
      await sleep(2100); // past serverless-offline's election cache
      const newcomer = await s.api.token(`${id}-newcomer`, 'voter');
      const late = await s.api.call('POST', `/elections/${id}/votes`, {
        token: newcomer,
        body: { optionId: 'yes' },
      });
      expect([late.status, late.body.error?.code]).toEqual([409, 'election_not_open']);
      // A retry with the same Idempotency-Key still gets its vote back.
      const t = taken[0]!;
      const retry = await s.api.call('POST', `/elections/${id}/votes`, {
        token: await s.api.token(`${id}-voter-${t.voter}`, 'voter'),
        body: { optionId: t.voter % 2 ? 'yes' : 'no' },
        headers: { 'Idempotency-Key': `k-${t.voter}` },
      });
      expect([retry.status, retry.body.voteId]).toEqual([202, t.voteId]);
    } finally {
      await Promise.all(tags.map((t, p) => s.redis.set(partitionKeys(t).gate, sealed[p]!)));
    }
  }, 120000);

  test('scheduled open and close happen on the leader at synchronized time; an early manual open moves opensAt', async () => {
    const { api, admin } = s;
    const now = Date.now();
    const opensAt = new Date(now + 3000).toISOString(); // more than the old 2 s grace ahead
    const closesAt = new Date(now + 6000).toISOString();
    const body = (title: string) => ({
      title,
      options: [
        { id: 'yes', label: 'Yes' },
        { id: 'no', label: 'No' },
      ],
      opensAt,
      closesAt,
    });
    const scheduled = (await api.call('POST', '/elections', { token: admin, body: body('scheduled') })).body
      .id;
    const early = (await api.call('POST', '/elections', { token: admin, body: body('opened early') })).body
      .id;
    const ivy = await api.token('lr-ivy', 'voter');
    const tooSoon = await api.call('POST', `/elections/${scheduled}/votes`, {
      token: ivy,
      body: { optionId: 'yes' },
    });
    expect([tooSoon.status, tooSoon.body.error.code]).toEqual([409, 'election_not_open']);

    // A manual open before opensAt moves the window's start to now: its vote counts.
    const opened = await api.call('POST', `/elections/${early}/open`, { token: admin });
    expect(opened.body.status).toBe('open');
    expect(Date.parse(opened.body.opensAt)).toBeLessThan(Date.parse(opensAt));
    const earlyVote = await api.call('POST', `/elections/${early}/votes`, {
      token: ivy,
      body: { optionId: 'no' },
    });
    expect(earlyVote.status).toBe(202);

    // The leader opens the scheduled one at opensAt, and closes both at closesAt.
    await eventually(
      async () => (await api.call('GET', `/elections/${scheduled}`, { token: admin })).body.status === 'open',
      10000,
      'scheduled open',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(opensAt));
    const vote = await api.call('POST', `/elections/${scheduled}/votes`, {
      token: ivy,
      body: { optionId: 'yes' },
    });
    expect(vote.status).toBe(202);
    for (const id of [scheduled, early]) {
      const e = await eventually(
        async () => {
          const r = await api.call('GET', `/elections/${id}`, { token: admin });
          return r.body.status === 'closed' ? r.body : undefined;
        },
        15000,
        'scheduled close',
      );
      expect(Date.parse(e.closedAt)).toBeGreaterThanOrEqual(Date.parse(closesAt));
      const results = await eventually(
        async () => {
          const r = await api.call('GET', `/elections/${id}/results`, { token: admin });
          return r.body.final ? r.body : undefined;
        },
        15000,
        'final result',
      );
      expect(results).toMatchObject({ finalized: 1, rejected: 0, pending: 0 });
    }
    expect((await api.call('GET', `/votes/${earlyVote.body.voteId}`, { token: ivy })).body.status).toBe(
      'finalized',
    );
    expect((await api.call('GET', `/votes/${vote.body.voteId}`, { token: ivy })).body.status).toBe(
      'finalized',
    );
    const late = await api.call('POST', `/elections/${scheduled}/votes`, {
      token: await api.token('lr-jay', 'voter'),
      body: { optionId: 'no' },
    });
    expect([late.status, late.body.error.code]).toEqual([409, 'election_not_open']);
  }, 60000);
});

describe('lifecycle race: the Redis master of some partitions is killed mid-race (own cluster)', () => {
  let redisCluster: IsolatedRedis;
  let s: Stack;
  beforeAll(async () => {
    redisCluster = await startIsolatedRedis();
    s = await startStack('lm', redisCluster.seeds);
  }, 180000);
  afterAll(async () => {
    await stopStack(s);
    await redisCluster?.stop();
  });

  test('the close converges through the failover: closed, gates closed, nothing after the point', async () => {
    const id = await newDraft(s);
    const tags: string[] = JSON.parse((await s.redis.hget(electionKeys(id).meta, 'tags'))!);
    await s.redis.get(partitionKeys(tags[0]!).gate); // the client knows the slot map now
    const victimPort = Number(s.redis.slots[calculateSlot(tags[0]!)]![0]!.split(':')[1]);
    const victim = redisCluster.handle.processes[redisCluster.ports.indexOf(victimPort)]!;
    const taken = await race(s, id, async () => victim.signal('SIGKILL'));
    expect(victim.alive).toBe(false);
    await expectClosedAndFinal(s, id, taken);
    // Every vote answered 202 that the log still holds is finalized, none pending.
    for (const t of taken) {
      const v = await s.api.call('GET', `/votes/${t.voteId}`, { token: s.admin });
      if (v.status === 404) continue; // a 202 lost with the master: the durability part of issue 11
      expect([t.voteId, v.body.status]).toEqual([t.voteId, 'finalized']);
    }
  }, 180000);
});
