import { writeFileSync } from 'node:fs';
import type { Cluster } from 'ioredis';
import { leaderRenewScript } from '../../coordinator/cluster-scripts';
import { loadCoordinatorConfig } from '../../coordinator/config';
import { freePort } from '../../local/ports';
import { startCoordinator } from '../../local/stack';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { clusterKeys } from '../../shared/redis/keys';
import { runScript } from '../../shared/redis/scripts';
import { TestCluster, type TestCoordinator, eventually } from '../helpers/stack';
import {
  type IsolatedRedis,
  type RedisProxies,
  proxyRedisCluster,
  startIsolatedRedis,
} from '../helpers/tcp-proxy';
import type { CoordinatorStatus } from '../../shared/membership/coordinator-status';

/**
 * Faults the election must survive, against real coordinator processes and a real
 * Redis Cluster: a leader paused (SIGSTOP) past its lease, and a leader cut off from
 * Redis by a TCP proxy. Every coordinator reaches Redis only through its own set of
 * proxies (REDIS_SEEDS + REDIS_NAT_MAP), so whichever node leads can be cut off.
 */

/** The shipped lease (coordinator/config.ts default); the cluster runs with defaults. */
const LEASE_MS = loadCoordinatorConfig({
  NODE_ID: 'x',
  COORDINATORS: 'x',
  CLUSTER_SECRET: 'x'.repeat(32),
}).leaseMs;

type Status = CoordinatorStatus;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function statusAt(node: TestCoordinator, timeoutMs = 500): Promise<Status | undefined> {
  try {
    const res = await fetch(`${node.url}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    return (await res.json()) as Status;
  } catch {
    return undefined;
  }
}

/** A TestCluster that keeps every coordinator's log lines (to explain what a node did). */
class LoggedCluster extends TestCluster {
  readonly logs = new Map<string, string[]>();

  override async startNode(id: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<TestCoordinator> {
    const adminPort = this.nodes.get(id)?.adminPort ?? (await freePort());
    const lines = this.logs.get(id) ?? [];
    this.logs.set(id, lines);
    const proc = await startCoordinator({
      nodeId: id,
      adminPort,
      redisSeeds: this.redisSeeds,
      members: this.members,
      // As TestCluster: no WebSocket fan-out (no serverless-offline here).
      env: { LOG_LEVEL: 'info', LAMBDA_ENDPOINT: 'off', ...this.env, ...extraEnv },
      onLine: (_name, line) => {
        lines.push(line);
        if (process.env['TEST_VERBOSE'] === '1') process.stderr.write(`${id} | ${line}\n`);
      },
    });
    const node = { id, adminPort, url: `http://127.0.0.1:${adminPort}`, proc };
    this.nodes.set(id, node);
    return node;
  }
}

describe('coordinator faults: paused leader, leader cut off from Redis', () => {
  let redis: IsolatedRedis;
  let cluster: LoggedCluster;
  let client: Cluster;
  const proxies = new Map<string, RedisProxies>();

  /** Waits until exactly `ids` agree on one leader among them (ignores other nodes). */
  async function agreedLeader(
    ids: string[],
    timeoutMs: number,
    what: string,
  ): Promise<{ leader: string; term: number }> {
    return eventually(
      async () => {
        const st = await Promise.all(ids.map((id) => statusAt(cluster.node(id))));
        if (st.some((s) => s === undefined)) return undefined;
        const all = st as Status[];
        const leaders = all.filter((s) => s.role === 'leader');
        if (leaders.length !== 1) return undefined;
        const l = leaders[0]!;
        return all.every((s) => s.leader === l.id && s.term === l.term)
          ? { leader: l.id, term: l.term }
          : undefined;
      },
      timeoutMs,
      what,
    );
  }

  /**
   * A node's own "role changed" log lines, with the time it logged them (all processes
   * share this machine's clock, so times of different nodes compare).
   */
  function roleChanges(id: string): { at: number; role: string; term: number }[] {
    return (cluster.logs.get(id) ?? [])
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { ts: string; msg: string; role?: string; term?: number })
      .filter((l) => l.msg === 'role changed')
      .map((l) => ({ at: Date.parse(l.ts), role: l.role ?? '', term: l.term ?? -1 }));
  }

  async function leaderRecord(): Promise<{ id?: string; term?: string }> {
    return (await client.hgetall(clusterKeys.leader)) as { id?: string; term?: string };
  }

  beforeAll(async () => {
    redis = await startIsolatedRedis();
    client = createRedisCluster(parseSeeds(redis.seeds));
    const prefix = `f${Math.random().toString(36).slice(2, 6)}`;
    const members = [1, 2, 3].map((i) => `${prefix}-c${i}`);
    cluster = new LoggedCluster(members, {}, redis.seeds);
    for (const id of members) proxies.set(id, await proxyRedisCluster(redis.seeds));
    await Promise.all(members.map((id) => cluster.startNode(id, proxies.get(id)!.env)));
    await agreedLeader(members, 15000, 'a first leader');
  }, 90000);

  afterAll(async () => {
    await cluster?.stop();
    // FAULTS_LOG_DIR=/some/dir keeps every coordinator's log of the run (for diagnosis).
    const dump = process.env['FAULTS_LOG_DIR'];
    if (dump) for (const [id, lines] of cluster.logs) writeFileSync(`${dump}/${id}.log`, lines.join('\n'));
    await Promise.all([...proxies.values()].map((p) => p.close()));
    client?.disconnect();
    await redis?.stop();
  }, 30000);

  test('coordinators reach Redis only through their proxies', async () => {
    for (const id of cluster.members) {
      const p = proxies.get(id)!;
      expect(p.proxies.length).toBe(6);
      expect(p.proxies.reduce((n, x) => n + x.accepted, 0)).toBeGreaterThan(0);
      await eventually(
        async () => (await statusAt(cluster.node(id)))?.redisReachable,
        5000,
        `${id} on Redis`,
      );
    }
  });

  /**
   * SIGSTOP the leader until the others have elected a new one and it has made its
   * fenced claim, then SIGCONT. Returns what the resumed node logged meanwhile.
   */
  async function pauseLeaderPastNewElection(): Promise<{
    old: string;
    oldTerm: number;
    next: { leader: string; term: number };
    log: string;
  }> {
    const { leader: old, term: oldTerm } = await agreedLeader(cluster.members, 10000, 'a leader');
    const others = cluster.members.filter((id) => id !== old);
    const oldNode = cluster.node(old);

    oldNode.proc.signal('SIGSTOP');
    let resumed = false;
    try {
      const next = await agreedLeader(others, 10000, 'a new leader among the others');
      expect(next.term).toBeGreaterThan(oldTerm);
      // The new leader has made its fenced claim.
      await eventually(
        async () => {
          const rec = await leaderRecord();
          return rec.id === next.leader && Number(rec.term) === next.term;
        },
        3000,
        'the new leader in {qv}:leader',
      );
      // Pause long enough that the old leader's timers are all overdue when it resumes.
      await sleep(300);
      const logFrom = cluster.logs.get(old)!.length;

      oldNode.proc.signal('SIGCONT');
      resumed = true;

      // From the moment it resumes, nothing it writes with its old term may land: the
      // leader record and the fence never go below the new term, whatever the old
      // leader tries first (a renewal with its old term, heartbeats).
      const seen: { id?: string; term?: string; fence: number }[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const [rec, fence] = await Promise.all([leaderRecord(), client.get(clusterKeys.leaderFence)]);
          seen.push({ ...rec, fence: Number(fence) });
          await sleep(5);
        }
      })();
      try {
        const st = await eventually(
          async () => {
            const s = await statusAt(oldNode);
            return s && s.role === 'follower' && s.term >= next.term ? s : undefined;
          },
          3000,
          'the resumed leader to step down',
        );
        expect(st.term).toBeGreaterThanOrEqual(next.term);
        // Keep watching a little: a late renewal (sent before it stepped down) must fail too.
        await sleep(500);
      } finally {
        watching = false;
        await watcher;
      }
      expect(seen.length).toBeGreaterThan(10);
      const stale = seen.filter((r) => !(Number(r.term) >= next.term && r.fence >= next.term));
      expect(stale).toEqual([]);
      expect(seen.some((r) => r.id === old && Number(r.term) <= oldTerm)).toBe(false);

      // It rejoins: all three agree on one leader again.
      await agreedLeader(cluster.members, 5000, 'all three agreeing on a leader');
      return { old, oldTerm, next, log: cluster.logs.get(old)!.slice(logFrom).join('\n') };
    } finally {
      if (!resumed) oldNode.proc.signal('SIGCONT');
    }
  }

  test('SIGSTOP the leader until a new one is elected, SIGCONT: it steps down and nothing it writes lands', async () => {
    const { old, oldTerm, next } = await pauseLeaderPastNewElection();
    // With the shipped lease the resumed node usually notices its expired lease first;
    // the write it would send, old term and all, is what the fence refuses.
    const replay = await runScript(
      client,
      leaderRenewScript,
      [clusterKeys.leaderFence, clusterKeys.leader, clusterKeys.leaderLease],
      [String(oldTerm), old, String(Date.now()), '500'],
    );
    expect(replay.ok).toBe(false);
    expect(replay.term).toBeGreaterThanOrEqual(next.term);
    const rec = await leaderRecord();
    expect(Number(rec.term)).toBeGreaterThanOrEqual(next.term);
    expect(rec).not.toMatchObject({ id: old, term: String(oldTerm) });
  }, 60000);

  test.each([
    ['blackhole', 'destroy'],
    ['refuse', 'destroy'],
    ['blackhole', 'freeze'],
  ] as const)(
    'a leader cut off from Redis (%s, existing connections: %s) stops leading within its lease; the others elect a new one; it rejoins as a follower',
    async (mode, existing) => {
      const { leader: old, term: oldTerm } = await agreedLeader(cluster.members, 10000, 'a leader');
      const others = cluster.members.filter((id) => id !== old);
      const oldNode = cluster.node(old);
      const proxy = proxies.get(old)!;

      const electionsBefore = (await eventually(() => statusAt(oldNode), 5000, `${old} /status`))
        .electionsStarted;
      const cutAt = Date.now();
      await proxy.cut({ mode, existing });
      try {
        // The cut leader's Redis writes fail; it must give up within its lease. Measured
        // to the first answer that says it no longer leads (an unanswered poll proves
        // nothing), polling every 10 ms.
        let stoppedAt: number | undefined;
        while (stoppedAt === undefined && Date.now() - cutAt < LEASE_MS + 3000) {
          const s = await statusAt(oldNode, 300);
          if (s && s.role !== 'leader') stoppedAt = Date.now();
          else await sleep(10);
        }
        if (stoppedAt === undefined)
          throw new Error(`${old} still leads ${LEASE_MS + 3000} ms after the cut`);
        // How long it took is printed, not asserted (a timing goal belongs in bench/).
        const leaderFor = stoppedAt - cutAt;
        process.stdout.write(
          `[coordinator-faults] cut off (${mode}/${existing}): not leading any more ${leaderFor} ms after the cut (lease ${LEASE_MS} ms)\n`,
        );

        const next = await agreedLeader(others, 10000, 'a new leader among the others');
        expect(next.term).toBeGreaterThan(oldTerm);
        expect(others).toContain(next.leader);

        // The behaviour the lease exists for, from the nodes' own logs: the cut leader gave
        // up on its own, in its own term (a lease expiry, not a newer term reaching it),
        // and it did so before any other node became leader, so the two never overlapped.
        const stepDown = roleChanges(old).find(
          (l) => l.at >= cutAt && l.role === 'follower' && l.term === oldTerm,
        );
        expect(stepDown).toBeDefined();
        const newLeaders = others.flatMap((id) =>
          roleChanges(id).filter((l) => l.role === 'leader' && l.term > oldTerm),
        );
        expect(newLeaders.length).toBeGreaterThan(0);
        for (const l of newLeaders) expect(l.at).toBeGreaterThanOrEqual(stepDown!.at);
        await eventually(
          async () => {
            const rec = await leaderRecord();
            return rec.id === next.leader && Number(rec.term) === next.term;
          },
          3000,
          'the new leader in {qv}:leader',
        );
        const cutStatus = await statusAt(oldNode);
        expect(cutStatus?.role).not.toBe('leader');
        await eventually(
          async () => (await statusAt(oldNode))?.redisReachable === false,
          3000,
          'redis unreachable',
        );
      } finally {
        await proxy.restore();
      }

      // Back on Redis: a follower of the leader the others agree on, and it got there
      // without campaigning (not while cut off, not on its return).
      const rejoined = await eventually(
        async () => {
          const [s, current] = await Promise.all([
            statusAt(oldNode),
            agreedLeader(others, 1000, 'the others agreeing').catch(() => undefined),
          ]);
          return s?.role === 'follower' &&
            s.redisReachable &&
            current &&
            s.leader === current.leader &&
            s.term === current.term
            ? s
            : undefined;
        },
        10000,
        'the cut-off node to rejoin as a follower',
      );
      expect(rejoined.electionsStarted).toBe(electionsBefore);
      const rec = await leaderRecord();
      expect(rec).toMatchObject({ id: rejoined.leader, term: String(rejoined.term) });
    },
    60000,
  );
  test('a leader whose lease check cannot save it (lease longer than the pause) is stopped by the fence or the newer term, never by its lease', async () => {
    // Restart every node with a lease far longer than the pause: on SIGCONT the old
    // leader still believes it leads (as when a pause falls between its lease check and
    // its write). Its renewal with the old term is refused by the fence, or a message of
    // the newer term reaches it first (which one wins is a race inside the resumed
    // process); either way it steps down into a newer term and nothing it writes lands.
    // Last test: the cluster keeps this setting.
    for (const id of cluster.members) {
      await cluster.node(id).proc.stop();
      await cluster.startNode(id, { ...proxies.get(id)!.env, LEADER_LEASE_MS: '30000' });
    }
    const { oldTerm, next, log } = await pauseLeaderPastNewElection();
    const lines = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; role?: string; term?: number; newest?: number });
    const firstRoleChange = lines.find((l) => l.msg === 'role changed');
    // Not a lease expiry (that would be a step-down within its old term).
    expect(firstRoleChange).toMatchObject({ role: 'follower' });
    expect(firstRoleChange!.term).toBeGreaterThan(oldTerm);
    const rejected = lines.filter((l) => l.msg.startsWith('fenced write rejected'));
    for (const r of rejected) {
      expect(r.term).toBe(oldTerm);
      expect(r.newest).toBeGreaterThanOrEqual(next.term);
    }
    process.stdout.write(
      `[coordinator-faults] resumed leader (lease 30 s): ${
        rejected.length > 0
          ? 'its fenced write was rejected'
          : 'a newer-term message reached it before its renewal'
      }\n`,
    );
  }, 90000);
});
