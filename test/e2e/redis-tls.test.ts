import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { type RedisOptions } from 'ioredis';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { findFreePortRange } from '../../local/ports';
import { repoRoot } from '../../local/stack';
import { type RedisClusterHandle, startRedisCluster } from '../../local/redis-cluster';
import {
  type SecureRedis,
  createSecureRedis,
  secureRedisAccess,
  secureRedisEnv,
} from '../../local/redis-tls';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';

/**
 * Redis as ElastiCache with in-transit encryption and AUTH runs it: TLS only (clients,
 * cluster bus, replication) and an ACL user, the default user off. The whole vote
 * pipeline (functions under serverless-offline, three coordinators) works over it with
 * nothing but the REDIS_TLS*, REDIS_USERNAME and REDIS_PASSWORD settings, and the
 * cluster refuses whoever comes without them.
 */
describe('the vote pipeline over a TLS Redis Cluster with an ACL user', () => {
  let dir: string;
  let secure: SecureRedis;
  let redis: RedisClusterHandle;
  let cluster: TestCluster;
  let offline: TestOffline;
  let api: Api;
  let firstPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qv-redis-tls-'));
    secure = createSecureRedis(join(dir, 'tls'));
    firstPort = await findFreePortRange(6, 10000);
    redis = await startRedisCluster({ basePort: firstPort, dataDir: join(dir, 'redis'), secure });
    const keyDir = testKeyDir();
    // Coordinators also present the client certificate; the functions only trust the CA.
    cluster = await TestCluster.start(3, secureRedisEnv(secure, true), redis.seeds);
    offline = await startTestOffline(
      { JWT_KEY_DIR: keyDir, ...cluster.offlineEnv(), ...secureRedisEnv(secure) },
      redis.seeds,
    );
    api = makeApi(offline.httpUrl, keyDir);
    await cluster.waitForLeader(20000);
  }, 120000);

  afterAll(async () => {
    await Promise.all([offline?.stop(), cluster?.stop()]);
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a vote goes in, is finalized by a majority and counted', async () => {
    const admin = await api.token('admin-tls', 'admin');
    const created = await api.call('POST', '/elections', {
      token: admin,
      body: {
        title: 'Over TLS',
        options: [
          { id: 'yes', label: 'Yes' },
          { id: 'no', label: 'No' },
        ],
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await api.call('POST', `/elections/${id}/open`, { token: admin })).status).toBe(200);
    const alice = await api.token('alice-tls', 'voter');
    const r = await api.call('POST', `/elections/${id}/votes`, { token: alice, body: { optionId: 'yes' } });
    expect(r.status).toBe(202);
    const final = await eventually(
      async () => {
        const s = await api.call('GET', `/votes/${r.body.voteId}`, { token: alice });
        return s.body.status === 'finalized' ? s.body : undefined;
      },
      30000,
      'vote finalized over TLS',
    );
    expect(final.approvals).toBeGreaterThanOrEqual(2);
    const results = await api.call('GET', `/elections/${id}/results`, { token: alice });
    expect(results.body).toMatchObject({ totals: { yes: 1, no: 0 }, finalized: 1, pending: 0 });
  });

  /**
   * The reply to a PING as the first command of one connection to the first node, or
   * `refused:` and every error the connection saw (AUTH's reply is one of them).
   */
  async function firstAnswer(options: RedisOptions): Promise<string> {
    const r = new Redis({
      host: '127.0.0.1',
      port: firstPort,
      lazyConnect: true,
      enableReadyCheck: false,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...options,
    });
    const errors: string[] = [];
    r.on('error', (err: Error) => errors.push(err.message));
    try {
      await r.connect();
      return String(await r.ping());
    } catch (err) {
      return `refused: ${[...errors, (err as Error).message].join(' / ')}`;
    } finally {
      r.disconnect();
    }
  }

  test('the right user over TLS is let in; plaintext, no password and a wrong one are refused', async () => {
    const { tls, username = '', password = '' } = secureRedisAccess(secure);
    expect(await firstAnswer({ tls: { ...tls }, username, password })).toBe('PONG');
    expect(await firstAnswer({ username, password })).toMatch(/^refused: /);
    expect(await firstAnswer({ tls: { ...tls } })).toMatch(/^refused: .*NOAUTH/);
    expect(await firstAnswer({ tls: { ...tls }, username, password: 'not-the-password' })).toMatch(
      /^refused: .*WRONGPASS/,
    );
    // A certificate from another CA is not trusted either.
    expect(await firstAnswer({ tls: {}, username, password })).toMatch(/^refused: .*certificate/);
  });

  test("the system's own client with a wrong password gets no command through", async () => {
    const access = { ...secureRedisAccess(secure), password: 'not-the-password' };
    const client = createRedisCluster(
      parseSeeds(redis.seeds),
      { clusterRetryStrategy: () => null, redisOptions: { maxRetriesPerRequest: 0 } },
      access,
    );
    client.on('error', () => {});
    try {
      await expect(client.get('{qv-tls}probe')).rejects.toThrow();
    } finally {
      client.disconnect();
    }
  });

  test('npm run status reads the TLS cluster and the coordinators with the same settings', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...secureRedisEnv(secure), CLUSTER_NAME: cluster.name };
    delete env['REDIS_SEEDS'];
    const status = async () => {
      const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          join(repoRoot, 'node_modules/.bin/tsx'),
          [join(repoRoot, 'local/status.ts'), '--redis', `127.0.0.1:${firstPort}`, '--json'],
          { cwd: repoRoot, env, timeout: 30000 },
          (err, stdout) =>
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout }),
        );
      });
      return {
        run,
        report: JSON.parse(run.stdout) as {
          healthy: boolean;
          leader: string | null;
          redis: { health: { ok: boolean; masters: number; replicas: number } | null };
        },
      };
    };
    // The leader status must name is the one that led throughout its run: on a busy machine
    // a missed heartbeat can start an election meanwhile, and then the run is repeated.
    let attempt = 0;
    let before: { leader: string; term: number };
    let after: { leader: string; term: number };
    let run: { code: number; stdout: string };
    let report: Awaited<ReturnType<typeof status>>['report'];
    do {
      before = await cluster.waitForLeader();
      ({ run, report } = await status());
      after = await cluster.waitForLeader();
    } while (++attempt < 3 && (before.leader !== after.leader || before.term !== after.term));
    expect(after).toEqual(before);
    expect(report.redis.health).toMatchObject({ ok: true, masters: 3, replicas: 3 });
    expect(report.leader).toBe(before.leader);
    expect({ code: run.code, healthy: report.healthy }).toEqual({ code: 0, healthy: true });
  });
});
