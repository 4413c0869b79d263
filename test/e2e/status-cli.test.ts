import { execFile } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { repoRoot } from '../../local/stack';
import { TestCluster, eventually } from '../helpers/stack';
import { type IsolatedRedis, startIsolatedRedis } from '../helpers/tcp-proxy';

/**
 * `npm run status` (local/status.ts) against real coordinators and a real Redis
 * Cluster: it names the leader and says healthy, then reports what breaks (a dead
 * follower, no leader / no majority, a dead Redis node) and exits 1.
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLUSTER_NAME of the coordinators under test (the CLI reads the same variable). */
let clusterName = '';

function runStatus(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, CLUSTER_NAME: clusterName };
  delete env['REDIS_SEEDS'];
  return new Promise((resolve) => {
    execFile(
      join(repoRoot, 'node_modules/.bin/tsx'),
      [join(repoRoot, 'local/status.ts'), ...args],
      { cwd: repoRoot, env, timeout: 30000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

type Report = {
  healthy: boolean;
  problems: string[];
  leader: string | null;
  term: number | null;
  coordinators: { id: string; health: string; role: string | null; clock: { inSync: boolean } | null }[];
  redis: {
    reachable: boolean;
    health: { ok: boolean; masters: number; replicas: number; slotsCovered: number };
  };
};

describe('npm run status', () => {
  let redis: IsolatedRedis;
  let cluster: TestCluster;
  let redisArg: string;

  beforeAll(async () => {
    redis = await startIsolatedRedis();
    // One seed is enough: the tool finds the other nodes through CLUSTER NODES.
    redisArg = `127.0.0.1:${redis.ports[0]}`;
    cluster = await TestCluster.start(3, {}, redis.seeds);
    clusterName = cluster.name;
  }, 60000);

  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  }, 30000);

  type Leader = { leader: string; term: number } | undefined;

  /**
   * Runs the tool until `pred` holds (the cluster may still be settling). `pred` also
   * gets the leader all live nodes agree on right after the run, so a leader change in
   * between (possible on a loaded machine) means another try, not a failure.
   */
  async function statusUntil(
    args: string[],
    pred: (r: Run, leader: Leader) => boolean,
    what: string,
    withLeader = true,
  ): Promise<{ run: Run; leader: Leader }> {
    let last: Run | undefined;
    try {
      return await eventually(
        async () => {
          const run = await runStatus(args);
          last = run;
          const leader = withLeader ? await cluster.waitForLeader(3000).catch(() => undefined) : undefined;
          return pred(run, leader) ? { run, leader } : undefined;
        },
        20000,
        what,
      );
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\nlast output (exit ${last?.code}):\n${last?.stdout}${last?.stderr}`,
      );
    }
  }

  const names = (r: Run, l: Leader): boolean =>
    l !== undefined && r.stdout.includes(`leader ${l.leader} (term ${l.term})`);

  test('names the leader and says healthy (exit 0); --json carries the same', async () => {
    await cluster.waitForLeader(10000);
    const { run, leader } = await statusUntil(
      ['--redis', redisArg],
      (r, l) => r.code === 0 && names(r, l),
      'a healthy report naming the leader',
    );
    expect(run.stdout).toContain(`HEALTHY: leader ${leader!.leader} (term ${leader!.term})`);
    expect(run.stdout).toContain(
      `Coordinators: 3/3 healthy; leader ${leader!.leader} (term ${leader!.term})`,
    );
    for (const id of cluster.members) expect(run.stdout).toContain(id);
    expect(run.stdout).toContain(
      'Redis Cluster: state ok, 6/6 nodes up, 3 masters / 3 replicas, 16384/16384 slots',
    );

    const json = await statusUntil(
      ['--redis', redisArg, '--json'],
      (r, l) => r.code === 0 && l !== undefined && (JSON.parse(r.stdout) as Report).leader === l.leader,
      'a healthy JSON report naming the leader',
    );
    const report = JSON.parse(json.run.stdout) as Report;
    expect(report).toMatchObject({
      healthy: true,
      problems: [],
      leader: json.leader!.leader,
      term: json.leader!.term,
    });
    expect(report.coordinators.map((c) => c.id)).toEqual([...cluster.members].sort());
    for (const c of report.coordinators) {
      expect(c.health).toBe('healthy');
      expect(c.clock?.inSync).toBe(true);
    }
    expect(report.redis.health).toMatchObject({ ok: true, masters: 3, replicas: 3, slotsCovered: 16384 });
  }, 60000);

  test('a killed follower is reported (exit 1); killing the leader too leaves no leader and no majority', async () => {
    const { leader: first } = await cluster.waitForLeader(10000);
    const victim = cluster.members.find((id) => id !== first)!;
    cluster.node(victim).proc.signal('SIGKILL');
    await cluster.node(victim).proc.exited;

    const { run } = await statusUntil(
      ['--redis', redisArg],
      (r, l) => r.code === 1 && names(r, l),
      'an unhealthy report that still names the leader',
    );
    expect(run.stdout).toContain('UNHEALTHY: 1 problem:');
    expect(run.stdout).toMatch(new RegExp(`- ${victim}: registered .* does not answer`));
    expect(run.stdout).toContain('Coordinators: 2/3 healthy; leader ');

    const json = JSON.parse((await runStatus(['--redis', redisArg, '--json'])).stdout) as Report;
    expect(json.healthy).toBe(false);
    expect(json.coordinators.find((c) => c.id === victim)?.health).toBe('down');

    // The leader as well: one of three left, which cannot elect anyone.
    const { leader } = await cluster.waitForLeader(10000);
    cluster.node(leader).proc.signal('SIGKILL');
    await cluster.node(leader).proc.exited;
    const { run: lone } = await statusUntil(
      ['--redis', redisArg],
      (r) => r.code === 1 && r.stdout.includes('no leader'),
      'a report without leader',
      false,
    );
    expect(lone.stdout).toContain('NO LEADER');
    expect(lone.stdout).toMatch(/only 1 of 3 voting coordinators are healthy; a leader needs 2: no majority/);
    expect(lone.stdout).toMatch(new RegExp(`- ${leader}: registered .* does not answer`));
    // Who leads now is nobody: no live lease; the fenced record of the dead leader is
    // history, shown as such and never reported as the leader.
    const loneJson = JSON.parse((await runStatus(['--redis', redisArg, '--json'])).stdout) as Report & {
      leaderLease: unknown;
      leaderRecord: { id: string | null };
    };
    expect(loneJson).toMatchObject({ leader: null, term: null, leaderLease: null });
    expect(loneJson.leaderRecord.id).toBe(leader);
  }, 90000);

  test('a dead Redis node is reported', async () => {
    // Find a replica and kill it: the cluster keeps serving, but the tool must say so.
    let replicaPort: number | undefined;
    for (const port of redis.ports) {
      const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      r.on('error', () => {});
      await r.connect();
      const role = /^role:(\w+)/m.exec(await r.info('replication'))?.[1];
      r.disconnect();
      if (role === 'slave') {
        replicaPort = port;
        break;
      }
    }
    expect(replicaPort).toBeDefined();
    const proc = redis.handle.processes[redis.ports.indexOf(replicaPort!)]!;
    proc.signal('SIGKILL');
    await proc.exited;
    const { run } = await statusUntil(
      ['--redis', redisArg],
      (r) => r.stdout.includes(`Redis: node 127.0.0.1:${replicaPort} does not answer`),
      'the dead Redis node in the report',
      false,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('5/6 nodes up');
  }, 60000);
});
