import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange, portFree } from '../../local/ports';
import { clusterHealth, redisPorts, startRedisCluster } from '../../local/redis-cluster';

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('local Redis Cluster launcher', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qv-launcher-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('starts 3 masters + 3 replicas, reuses a running cluster, stops without orphans', async () => {
    const basePort = await findFreePortRange(6, 10000);
    const first = await startRedisCluster({ basePort, dataDir: dir, fresh: true });
    try {
      expect(first.reused).toBe(false);
      const health = await clusterHealth(redisPorts(basePort));
      expect(health).toMatchObject({ ok: true, state: 'ok', masters: 3, replicas: 3, slotsCovered: 16384 });
      // AOF is on and each node has its own data dir.
      const aof = execFileSync('redis-cli', [
        '-p',
        String(basePort),
        'CONFIG',
        'GET',
        'appendonly',
      ]).toString();
      expect(aof).toContain('yes');

      const second = await startRedisCluster({ basePort, dataDir: dir });
      expect(second.reused).toBe(true);
      expect(second.processes).toHaveLength(0);
      await second.stop(); // stopping a reused handle leaves the cluster running
      expect((await clusterHealth(redisPorts(basePort))).ok).toBe(true);
    } finally {
      await first.stop();
    }
    for (const p of first.processes) expect(pidAlive(p.pid)).toBe(false);
    for (const port of redisPorts(basePort)) expect(await portFree(port)).toBe(true);
  });

  test('restarts an existing cluster from its data dirs (AOF) with its data', async () => {
    const basePort = await findFreePortRange(6, 10000);
    const data = join(dir, 'restart');
    const a = await startRedisCluster({ basePort, dataDir: data, fresh: true });
    const probe = async (cmd: string[]): Promise<string> =>
      execFileSync('redis-cli', ['-c', '-p', String(basePort), ...cmd])
        .toString()
        .trim();
    try {
      await probe(['SET', 'launcher-test-key', 'kept']);
    } finally {
      await a.stop();
    }
    const b = await startRedisCluster({ basePort, dataDir: data });
    try {
      expect(b.reused).toBe(false);
      expect(await probe(['GET', 'launcher-test-key'])).toBe('kept');
    } finally {
      await b.stop();
    }
  });

  test('refuses ports held by something that is not a healthy cluster', async () => {
    const basePort = await findFreePortRange(6, 10000);
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(basePort + 2, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      await expect(
        startRedisCluster({ basePort, dataDir: join(dir, 'blocked'), fresh: true }),
      ).rejects.toThrow(/in use/);
    } finally {
      blocker.close();
    }
    for (const port of redisPorts(basePort))
      if (port !== basePort + 2) expect(await portFree(port)).toBe(true);
  });

  test('relaunch: a killed master comes back as a replica once its replica took over; the cluster is whole again', async () => {
    const basePort = await findFreePortRange(6, 10000);
    const h = await startRedisCluster({
      basePort,
      dataDir: join(dir, 'relaunch'),
      fresh: true,
      nodeTimeoutMs: 1000,
      relaunch: true,
    });
    try {
      const before = await clusterHealth(h.ports);
      const victimPort = before.nodes.find((n) => n.role === 'master')!.port;
      const victim = h.processes[h.ports.indexOf(victimPort)]!;
      victim.signal('SIGKILL');
      await victim.exited;
      // Back as a replica (a new process on the same port), every master with a replica.
      const until = Date.now() + 30000;
      let health = await clusterHealth(h.ports);
      while (Date.now() < until) {
        const back = health.nodes.find((n) => n.port === victimPort);
        if (health.ok && back?.role === 'replica') break;
        await new Promise((r) => setTimeout(r, 200));
        health = await clusterHealth(h.ports);
      }
      expect(health).toMatchObject({ ok: true, masters: 3, replicas: 3 });
      expect(health.nodes.find((n) => n.port === victimPort)?.role).toBe('replica');
      expect(h.relaunches).toBe(1);
      expect(h.processes[h.ports.indexOf(victimPort)]).not.toBe(victim);
    } finally {
      await h.stop();
    }
    // The relaunched process is stopped too, and the launcher does not start it again.
    for (const p of h.processes) expect(pidAlive(p.pid)).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    for (const port of h.ports) expect(await portFree(port)).toBe(true);
  }, 60000);

  test('relaunch limit: a node that keeps dying is given up on and reported, not relaunched for ever', async () => {
    const basePort = await findFreePortRange(6, 10000);
    const gaveUp: { port: number; code: number | string }[] = [];
    const h = await startRedisCluster({
      basePort,
      dataDir: join(dir, 'crash-loop'),
      fresh: true,
      nodeTimeoutMs: 1000,
      relaunch: true,
      relaunchDelayMs: 50,
      // One death is already one too many here: the first is reported at once.
      relaunchLimit: {
        maxRestarts: 0,
        windowMs: 60_000,
        onGiveUp: (port, code) => gaveUp.push({ port, code }),
      },
    });
    try {
      const before = await clusterHealth(h.ports);
      const victimPort = before.nodes.find((n) => n.role === 'replica')!.port;
      const victim = h.processes[h.ports.indexOf(victimPort)]!;
      victim.signal('SIGKILL');
      await victim.exited;
      const until = Date.now() + 5000;
      while (gaveUp.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(gaveUp).toEqual([{ port: victimPort, code: 'SIGKILL' }]);
      await new Promise((r) => setTimeout(r, 500));
      expect(h.relaunches).toBe(0);
      expect(await portFree(victimPort)).toBe(true);
    } finally {
      await h.stop();
    }
  }, 60000);
});
