import type { Cluster } from 'ioredis';
import { partitionKeys } from '../../shared/redis/keys';
import { compareStreamIds } from '../../shared/votes/read';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { testRedis } from '../helpers/redis';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';

/**
 * Open, close and the voting window under a race (issue 11): 100 opens race one close
 * through the HTTP API while voters keep submitting and the leader coordinator is
 * killed in the middle. Real serverless-offline, real coordinators, real Redis Cluster.
 * Afterwards: status closed, every gate closed at the closing point the election
 * recorded, every vote answered 202 finalized and counted, none pending, none taken
 * after the close answered, and the result final.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Taken {
  voteId: string;
  sentAt: number;
  answeredAt: number;
}

describe('lifecycle race: parallel opens against a close, votes flowing, leader killed', () => {
  let cluster: TestCluster;
  let offline: TestOffline;
  let api: Api;
  let admin: string;
  let redis: Cluster;

  beforeAll(async () => {
    const keyDir = testKeyDir();
    cluster = await TestCluster.start(3);
    offline = await startTestOffline({
      JWT_KEY_DIR: keyDir,
      ...cluster.offlineEnv(),
      RATE_LIMIT_VOTER: '1000',
    });
    api = makeApi(offline.httpUrl, keyDir);
    admin = await api.token('lr-admin', 'admin');
    redis = testRedis();
    await cluster.waitForLeader(20000);
  }, 120000);

  afterAll(async () => {
    await redis?.quit();
    await Promise.all([offline?.stop(), cluster?.stop()]);
  });

  test('ends closed, all gates closed, every accepted vote counted, none after close', async () => {
    const created = await api.call('POST', '/elections', {
      token: admin,
      body: {
        title: 'race',
        options: [
          { id: 'yes', label: 'Yes' },
          { id: 'no', label: 'No' },
        ],
      },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;

    // Voters start one after another and keep trying until the election takes their vote
    // or has clearly closed: votes flow before, during and after the open/close race.
    let closeAnsweredAt = Number.POSITIVE_INFINITY;
    const taken: Taken[] = [];
    const refusedAfterClose: number[] = [];
    const unexpected: string[] = [];
    const voter = async (i: number) => {
      await sleep(i * 40);
      const token = await api.token(`lr-voter-${i}`, 'voter');
      const key = `lr-${i}`;
      while (Date.now() < closeAnsweredAt + 1000) {
        const sentAt = Date.now();
        const r = await api.call('POST', `/elections/${id}/votes`, {
          token,
          body: { optionId: i % 2 ? 'yes' : 'no' },
          headers: { 'Idempotency-Key': key },
        });
        if (r.status === 202) {
          taken.push({ voteId: r.body.voteId, sentAt, answeredAt: Date.now() });
          return;
        }
        if (r.status === 409 && r.body.error.code === 'election_not_open') {
          if (sentAt > closeAnsweredAt) refusedAfterClose.push(i);
        } else if (r.status !== 503) {
          unexpected.push(`${r.status} ${JSON.stringify(r.body)}`);
          return;
        }
        await sleep(100);
      }
    };
    const voters = Array.from({ length: 60 }, (_, i) => voter(i));

    await sleep(400); // some voters are refused while it is still a draft
    const { leader } = await cluster.waitForLeader();
    const open = () => api.call('POST', `/elections/${id}/open`, { token: admin });
    const firstWave = Array.from({ length: 50 }, open);
    await Promise.race(firstWave);
    cluster.node(leader).proc.signal('SIGKILL'); // failover in the middle
    await sleep(300); // votes flow into the open election
    const closing = api.call('POST', `/elections/${id}/close`, { token: admin });
    // The second wave overlaps the close: each open reads the status while the close runs.
    const secondWave = Array.from({ length: 50 }, (_, i) => sleep(i).then(open));
    const closed = await closing;
    closeAnsweredAt = Date.now();
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    const opens = await Promise.all([...firstWave, ...secondWave]);
    await Promise.all(voters);

    // Every open either found it open (unchanged) or closed (409 invalid_state).
    for (const r of opens) {
      if (r.status === 200) expect(r.body.status).toBe('open');
      else expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
    }
    // No vote was taken by a request sent after the close was answered.
    expect(taken.filter((t) => t.sentAt > closeAnsweredAt)).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(taken.length).toBeGreaterThan(0);
    expect(refusedAfterClose.length).toBeGreaterThan(0); // intake was really tried after close

    await cluster.waitForLeader(20000, leader); // a new leader, among the survivors
    const results = await eventually(
      async () => {
        const r = await api.call('GET', `/elections/${id}/results`, { token: admin });
        return r.body.final === true ? r.body : undefined;
      },
      30000,
      'final result',
    );
    // Every vote answered 202 was taken before the close: all counted, none pending.
    expect(results).toMatchObject({ status: 'closed', pending: 0, rejected: 0, finalized: taken.length });
    expect(results.totals.yes + results.totals.no).toBe(taken.length);
    for (const t of taken) {
      const v = await api.call('GET', `/votes/${t.voteId}`, { token: admin });
      expect([t.voteId, v.body.status]).toEqual([t.voteId, 'finalized']);
    }

    // Status closed, and every gate closed at the point the election recorded.
    const meta = await redis.hgetall(`{el:${id}}:meta`);
    expect(meta['status']).toBe('closed');
    const tags: string[] = JSON.parse(meta['tags']!);
    const gates = await Promise.all(tags.map((t) => redis.get(partitionKeys(t).gate)));
    expect(gates.filter((g) => g === 'open')).toEqual([]); // intake is shut everywhere
    const points: string[] = JSON.parse(meta['closePoints'] ?? 'null');
    expect(points).toHaveLength(tags.length);
    expect(gates).toEqual(points.map((p) => `closed|${p}`));
    // No vote in any partition's log lies after its closing point.
    for (const [p, t] of tags.entries()) {
      const after = await redis.xrange(partitionKeys(t).votes, `(${points[p]}`, '+', 'COUNT', 1);
      expect(after).toEqual([]);
    }
    for (const t of taken) {
      const [, p, sid] = t.voteId.split('.');
      expect(compareStreamIds(sid!, points[Number(p)]!)).toBeLessThanOrEqual(0);
    }
  }, 120000);
});
