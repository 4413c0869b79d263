import { createRedisCluster } from '../../shared/redis/client';
import { parseSeeds } from '../../shared/config';
import { clusterKeysFor } from '../../shared/redis/keys';
import { TestCluster, eventually, testSeeds } from '../helpers/stack';

describe('coordinator cluster: membership and leader election', () => {
  let cluster: TestCluster;
  const redis = createRedisCluster(parseSeeds(testSeeds()));
  beforeAll(async () => {
    cluster = await TestCluster.start(3);
  }, 60000);
  afterAll(async () => {
    await cluster?.stop();
    redis.disconnect();
  });

  test('serves /health, /status and Prometheus /metrics', async () => {
    const id = cluster.members[0]!;
    const health = await fetch(`${cluster.node(id).url}/health`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${cluster.node(id).url}/metrics`)).text();
    expect(metrics).toContain('# TYPE quorumvote_term gauge');
    expect(metrics).toContain('quorumvote_clock_offset_ms_bucket');
    const status = await cluster.status(id);
    expect(status).toMatchObject({ id, votingMembers: cluster.members });
  });

  test('three coordinators agree on one leader and see each other as members', async () => {
    const { leader, term } = await cluster.waitForLeader(10000);
    expect(cluster.members).toContain(leader);
    expect(term).toBeGreaterThan(0);
    await eventually(
      async () => {
        const st = await cluster.status(leader);
        const members = (st?.['members'] ?? []) as { id: string; health: string }[];
        return cluster.members.every((m) => members.some((x) => x.id === m && x.health === 'healthy'));
      },
      5000,
      'all members healthy',
    );
  });

  test('kill -9 of the leader, ten times in a row: a new leader with a higher term, never two in one term', async () => {
    const leadersByTerm = new Map<number, string>();
    let { leader, term } = await cluster.waitForLeader(10000);
    leadersByTerm.set(term, leader);
    for (let round = 0; round < 10; round++) {
      cluster.node(leader).proc.signal('SIGKILL');
      await cluster.node(leader).proc.exited;
      const next = await cluster.waitForLeader(10000, leader);
      expect(next.term).toBeGreaterThan(term);
      const seen = leadersByTerm.get(next.term);
      expect(seen === undefined || seen === next.leader).toBe(true);
      leadersByTerm.set(next.term, next.leader);
      const restarted = leader;
      await cluster.startNode(restarted); // bring the dead one back
      // Every live node, the restarted one included, agrees on one leader again.
      const settled = await cluster.waitForLeader(10000);
      expect(settled.term).toBeGreaterThanOrEqual(next.term);
      const seenSettled = leadersByTerm.get(settled.term);
      expect(seenSettled === undefined || seenSettled === settled.leader).toBe(true);
      leadersByTerm.set(settled.term, settled.leader);
      ({ leader, term } = settled);
    }
  }, 180000);

  test('graceful shutdown deregisters at once and hands leadership over', async () => {
    const { leader, term } = await cluster.waitForLeader(10000);
    await cluster.node(leader).proc.stop();
    const members = await redis.hgetall(clusterKeysFor(cluster.name).members);
    expect(Object.keys(members)).not.toContain(leader);
    const next = await cluster.waitForLeader(3000, leader);
    expect(next.term).toBeGreaterThan(term);
    await cluster.startNode(leader);
  });
});
