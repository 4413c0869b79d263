import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange, portFree } from '../../local/ports';
import { LOCAL_TOPOLOGY, clusterHealth, redisPorts, stopRedisCluster } from '../../local/redis-cluster';
import { loadSecureRedis, secureRedisAccess } from '../../local/redis-tls';
import { repoRoot } from '../../local/stack';

/**
 * `npm run redis -- start --tls` as a user runs it: the 9-node cluster comes up TLS
 * only with an ACL user, the CA and the password stay in private files, the printed
 * settings are the ones a process needs, `status` and `stop` find the material on their
 * own, and nothing is left running.
 */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      join(repoRoot, 'node_modules/.bin/tsx'),
      [join(repoRoot, 'local/redis-cluster-cli.ts'), ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 90_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr }),
    );
  });
}

describe('npm run redis -- start --tls', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let ports: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qv-redis-tls-cli-'));
    const basePort = await findFreePortRange(LOCAL_TOPOLOGY.nodes, 10000);
    ports = redisPorts(basePort, LOCAL_TOPOLOGY.nodes);
    env = { REDIS_BASE_PORT: String(basePort), REDIS_DATA_DIR: join(dir, 'redis') };
  });
  afterAll(async () => {
    await cli(['stop'], env);
    // Whatever the CLI left (a failed test), stopped here with the material it made.
    const secure = loadSecureRedis(join(dir, 'redis', 'tls'));
    if (secure && ports.length > 0) {
      await stopRedisCluster({
        basePort: ports[0]!,
        nodes: ports.length,
        access: secureRedisAccess(secure),
      });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('starts a TLS-only cluster with an ACL user; status and stop find it; nothing is left', async () => {
    const start = await cli(['start', '--tls'], env);
    expect(start).toMatchObject({ code: 0 });
    const secure = loadSecureRedis(join(dir, 'redis', 'tls'));
    expect(secure).toBeDefined();
    // The printed settings point at the generated CA; the password is only referred to.
    expect(start.out).toContain('export REDIS_TLS=1');
    expect(start.out).toContain(`export REDIS_TLS_CA_FILE=${secure!.caFile}`);
    expect(start.out).toContain(`export REDIS_USERNAME=${secure!.username}`);
    expect(start.out).not.toContain(secure!.password);
    for (const f of [secure!.keyFile, join(secure!.dir, 'ca.key'), join(secure!.dir, 'access.json')]) {
      expect((statSync(f).mode & 0o077).toString(8)).toBe('0');
    }
    // Healthy through TLS with the user; nothing answers in plaintext.
    expect(await clusterHealth(ports, secureRedisAccess(secure!))).toMatchObject({
      ok: true,
      masters: 3,
      replicas: 6,
    });
    expect((await clusterHealth(ports)).nodes.every((n) => !n.up)).toBe(true);
    const status = await cli(['status'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ ok: true, masters: 3, replicas: 6 });

    const stop = await cli(['stop'], env);
    expect(stop.out).toContain(`Stopped ${LOCAL_TOPOLOGY.nodes} Redis nodes`);
    for (const port of ports) expect(await portFree(port)).toBe(true);
  }, 180_000);
});
