import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { generateClusterSecret } from '../coordinator/peer-secret';
import { findFreePortRange } from '../local/ports';
import { clusterNodeArgs } from '../local/redis-cluster';
import { type ManagedProcess, spawnManaged } from '../local/processes';
import { repoRoot, startOffline } from '../local/stack';
import { parseClusterNodeLines } from '../shared/redis/cluster-nodes';
import type { CoordinatorStatus } from '../shared/membership/coordinator-status';
import { type HostSpec, type Topology, hostDir, notePid } from './hosts';

const execFileP = promisify(execFile);

/**
 * The quorumvote stack on simulated hosts: each Redis node and each coordinator runs
 * inside its host's namespace and listens on that host's address; serverless-offline
 * runs on the machine itself and reaches them over the bridge. Every process can be
 * killed, paused and restarted by the nemesis; every output line lands in the run's
 * log folder.
 */
export const REDIS_PORT = 6379;
export const ADMIN_PORT = 7070;

export interface HostStackOptions {
  topology: Topology;
  runDir: string;
  keyDir: string;
  /** Redis cluster-node-timeout: how long before a silent master is failed over. */
  nodeTimeoutMs?: number;
  /** Extra environment for every coordinator. */
  coordinatorEnv?: NodeJS.ProcessEnv;
  /** Every output line, by process name (for a live view or the leader history). */
  onLine?: (name: string, line: string) => void;
  log?: (m: string) => void;
  /**
   * Told when a process dies that neither the nemesis nor `stop()` ended (a crash): it
   * is relaunched a second later, as an orchestrator's restart policy would.
   */
  onCrash?: (name: string, code: number | string) => void;
}

export class HostStack {
  readonly redisProcs = new Map<string, ManagedProcess>();
  readonly coordinatorProcs = new Map<string, ManagedProcess>();
  offline: ManagedProcess | undefined;
  apiUrl = '';
  readonly secret = generateClusterSecret();
  private readonly logs = new Map<string, WriteStream>();
  private stopped = false;
  /** Processes the nemesis is about to kill: their exit is no crash. */
  private readonly expected = new WeakSet<ManagedProcess>();

  constructor(readonly o: HostStackOptions) {}

  /** Marks a process whose coming exit is intended (a nemesis kill): it is not relaunched. */
  expectExit(proc: ManagedProcess): void {
    this.expected.add(proc);
  }

  /** Relaunches `proc`'s host a second after an exit nobody asked for. */
  private relaunchOnCrash(
    proc: ManagedProcess,
    current: () => ManagedProcess | undefined,
    again: () => unknown,
  ): void {
    void proc.exited.then((code) => {
      if (this.stopped || proc.stopRequested || this.expected.has(proc)) return;
      this.o.onCrash?.(proc.name, code);
      setTimeout(() => {
        if (this.stopped || current() !== proc) return;
        Promise.resolve()
          .then(again)
          .catch((err) => this.o.log?.(`relaunch of ${proc.name} failed: ${(err as Error).message}`));
      }, 1000);
    });
  }

  get topology(): Topology {
    return this.o.topology;
  }

  get seeds(): string {
    return this.topology.redis.map((h) => `${h.ip}:${REDIS_PORT}`).join(',');
  }

  private logStream(name: string): WriteStream {
    let s = this.logs.get(name);
    if (!s) {
      mkdirSync(join(this.o.runDir, 'logs'), { recursive: true });
      s = createWriteStream(join(this.o.runDir, 'logs', `${name}.log`), { flags: 'a' });
      this.logs.set(name, s);
    }
    return s;
  }

  private sink(name: string): (line: string) => void {
    const s = this.logStream(name);
    return (line) => {
      s.write(`${line}\n`);
      this.o.onLine?.(name, line);
    };
  }

  /** Starts a program inside a host's namespace (`ip netns exec` execs it: same pid). */
  spawnIn(h: HostSpec, name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ManagedProcess {
    return spawnManaged(name, 'ip', ['netns', 'exec', h.ns, cmd, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      onLine: this.sink(name),
    });
  }

  /** (Re)starts the redis-server of `h`; its nodes.conf survives, so a restart rejoins. */
  startRedisNode(h: HostSpec): ManagedProcess {
    const dir = join(hostDir(this.o.runDir, h), 'redis');
    mkdirSync(dir, { recursive: true });
    const proc = this.spawnIn(h, `redis-${h.name}`, 'redis-server', [
      '--port',
      String(REDIS_PORT),
      // Loopback too: a latency proxy inside the namespace forwards there.
      '--bind',
      h.ip,
      '127.0.0.1',
      '--cluster-announce-ip',
      h.ip,
      ...clusterNodeArgs(dir, this.o.nodeTimeoutMs ?? 2000),
      '--daemonize',
      'no',
    ]);
    this.redisProcs.set(h.name, proc);
    this.relaunchOnCrash(
      proc,
      () => this.redisProcs.get(h.name),
      () => this.startRedisNode(h),
    );
    return proc;
  }

  /** (Re)starts the coordinator of `h`, bound to its host's address. */
  async startCoordinator(h: HostSpec): Promise<ManagedProcess> {
    const t = this.topology;
    const proc = this.spawnIn(
      h,
      `coordinator-${h.name}`,
      process.execPath,
      [join(repoRoot, 'dist/coordinator/main.js')],
      {
        NODE_ID: h.name,
        ADMIN_HOST: h.ip,
        ADMIN_PORT: String(ADMIN_PORT),
        ADVERTISE_URL: adminUrl(h),
        PEER_URLS: t.coordinators.map((c) => `${c.name}=${adminUrl(c)}`).join(','),
        COORDINATORS: t.coordinators.map((c) => c.name).join(','),
        REDIS_SEEDS: this.seeds,
        CLUSTER_SECRET: this.secret,
        // No WebSocket fan-out: serverless-offline is not on the bridge; results are read by polling.
        LAMBDA_ENDPOINT: 'off',
        QV_TEST_MODE: '1',
        LOG_LEVEL: 'info',
        ...this.o.coordinatorEnv,
      },
    );
    this.coordinatorProcs.set(h.name, proc);
    this.relaunchOnCrash(
      proc,
      () => this.coordinatorProcs.get(h.name),
      () => this.startCoordinator(h),
    );
    await waitFor(
      async () => (await coordinatorStatus(h, 500)) !== undefined || !proc.alive,
      20000,
      `coordinator ${h.name}`,
    );
    if (!proc.alive) throw new Error(`coordinator ${h.name} exited during start (${await proc.exited})`);
    return proc;
  }

  /** Starts the Redis nodes and creates the cluster (fresh); resolves once it is healthy. */
  async startRedis(): Promise<void> {
    const log = this.o.log ?? (() => {});
    const t = this.topology;
    for (const h of t.redis) this.startRedisNode(h);
    for (const h of t.redis) await waitFor(() => redisPing(h), 15000, `redis on ${h.name}`);
    log(`creating the Redis Cluster on ${this.seeds}`);
    await execFileP('redis-cli', [
      '--cluster',
      'create',
      ...t.redis.map((h) => `${h.ip}:${REDIS_PORT}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await waitFor(async () => (await redisHealth(t.redis)).ok, 30000, 'a healthy Redis Cluster');
    // Healthy by each node's own INFO is not yet settled for everyone: a node learns by
    // gossip that another one became a replica, and until then lists it as a master
    // without slots (seen in CI under load: no replica in the first node's view).
    await waitFor(() => redisViewsSettled(t.redis), 30000, 'every Redis node seeing every role');
  }

  /** Starts Redis (cluster created fresh), coordinators and serverless-offline. */
  async start(): Promise<void> {
    const log = this.o.log ?? (() => {});
    const t = this.topology;
    try {
      await this.startRedis();
      log('starting coordinators');
      await Promise.all(t.coordinators.map((h) => this.startCoordinator(h)));
      const base = await findFreePortRange(3);
      log('starting serverless-offline');
      this.offline = await startOffline({
        httpPort: base,
        wsPort: base + 1,
        lambdaPort: base + 2,
        redisSeeds: this.seeds,
        env: {
          COORDINATORS: t.coordinators.map((c) => c.name).join(','),
          JWT_KEY_DIR: this.o.keyDir,
          LOG_LEVEL: 'warn',
        },
        onLine: (_n, line) => this.sink('offline')(line),
      });
      notePid(this.offline.pid, 'serverless');
      this.apiUrl = `http://127.0.0.1:${base}`;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops every process this stack started (paused ones are woken first). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const all = [...this.coordinatorProcs.values(), ...this.redisProcs.values()];
    if (this.offline) all.push(this.offline);
    await Promise.all(all.map((p) => p.stop(3000)));
    for (const s of this.logs.values()) s.end();
  }
}

export function adminUrl(h: HostSpec): string {
  return `http://${h.ip}:${ADMIN_PORT}`;
}

/** A coordinator's `/status`, or undefined when it does not answer in time. */
export async function coordinatorStatus(
  h: HostSpec,
  timeoutMs = 1000,
): Promise<CoordinatorStatus | undefined> {
  try {
    const res = await fetch(`${adminUrl(h)}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? ((await res.json()) as CoordinatorStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** The leader every answering coordinator agrees on, or undefined. */
export async function agreedLeader(t: Topology): Promise<{ leader: HostSpec; term: number } | undefined> {
  const st = (await Promise.all(t.coordinators.map((h) => coordinatorStatus(h, 800)))).filter(
    (s): s is CoordinatorStatus => s !== undefined,
  );
  const leaders = st.filter((s) => s.role === 'leader');
  if (leaders.length !== 1 || st.length < Math.floor(t.coordinators.length / 2) + 1) return undefined;
  const l = leaders[0]!;
  if (!st.every((s) => s.leader === l.id && s.term === l.term)) return undefined;
  const leader = t.coordinators.find((h) => h.name === l.id);
  return leader ? { leader, term: l.term } : undefined;
}

async function withRedis<T>(h: HostSpec, fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
  const r = new Redis({
    host: h.ip,
    port: REDIS_PORT,
    lazyConnect: true,
    connectTimeout: 800,
    commandTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

async function redisPing(h: HostSpec): Promise<boolean> {
  return (await withRedis(h, (r) => r.ping())) === 'PONG';
}

export interface RedisNodeView {
  host: HostSpec;
  role: 'master' | 'replica';
  /** For a replica: its master's host. */
  master?: HostSpec;
  slots: boolean;
}

/** Node id → its master's id ('-' for a master); parseClusterNodeLines keeps no master id: it is the 4th field. */
function masterIdsOf(clusterNodesText: string): Map<string, string> {
  return new Map(
    clusterNodesText
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter((p) => p.length >= 8)
      .map((p) => [p[0]!, p[3]!]),
  );
}

/** Who is master and who replicates whom, as the first answering node sees it. */
export async function redisRoles(hosts: readonly HostSpec[]): Promise<RedisNodeView[] | undefined> {
  for (const h of hosts) {
    const text = await withRedis(h, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
    if (!text) continue;
    const nodes = parseClusterNodeLines(text);
    const masterIds = masterIdsOf(text);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const hostOf = (address: string): HostSpec | undefined =>
      hosts.find((x) => address.startsWith(`${x.ip}:`));
    const views: RedisNodeView[] = [];
    for (const n of nodes) {
      const host = hostOf(n.address);
      if (!host || n.failing) continue;
      const masterNode = byId.get(masterIds.get(n.id) ?? '-');
      const master = masterNode ? hostOf(masterNode.address) : undefined;
      views.push({
        host,
        role: n.role,
        ...(master ? { master } : {}),
        slots: n.slots > 0,
      });
    }
    return views;
  }
  return undefined;
}

/** Every node answers, reports cluster_state:ok, and every master has an online replica. */
export async function redisHealth(hosts: readonly HostSpec[]): Promise<{ ok: boolean; problems: string[] }> {
  const problems: string[] = [];
  for (const h of hosts) {
    const res = await withRedis(h, async (r) => ({
      cluster: (await r.call('CLUSTER', 'INFO')) as string,
      repl: await r.info('replication'),
    }));
    if (!res) {
      problems.push(`${h.name} does not answer`);
      continue;
    }
    if (!/cluster_state:ok/.test(res.cluster)) problems.push(`${h.name} cluster_state not ok`);
    if (/role:master/.test(res.repl) && /cluster_slots_assigned/.test(res.cluster)) {
      const online = (res.repl.match(/^slave\d+:.*state=online/gm) ?? []).length;
      const hasSlots = /connected_slaves:(\d+)/.exec(res.repl);
      if (online === 0 && hasSlots && (await masterServesSlots(h)))
        problems.push(`${h.name} master without replica`);
    }
    if (/role:slave/.test(res.repl) && !/master_link_status:up/.test(res.repl))
      problems.push(`${h.name} replica link down`);
  }
  return { ok: problems.length === 0, problems };
}

/**
 * Every node lists every node, none failing, and each as a master serving slots or a
 * replica of a known master: the gossip of the cluster's creation has reached everyone.
 */
export async function redisViewsSettled(hosts: readonly HostSpec[]): Promise<boolean> {
  for (const h of hosts) {
    const text = await withRedis(h, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
    if (!text) return false;
    const nodes = parseClusterNodeLines(text);
    if (nodes.length !== hosts.length) return false;
    const ids = new Set(nodes.map((n) => n.id));
    const masterOf = masterIdsOf(text);
    for (const n of nodes) {
      if (n.failing || n.flags.includes('handshake') || n.flags.includes('noaddr')) return false;
      if (n.role === 'master' && n.slots === 0) return false;
      if (n.role === 'replica' && !ids.has(masterOf.get(n.id) ?? '-')) return false;
    }
  }
  return true;
}

async function masterServesSlots(h: HostSpec): Promise<boolean> {
  const text = await withRedis(h, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
  const me = text ? parseClusterNodeLines(text).find((n) => n.flags.includes('myself')) : undefined;
  return Boolean(me && me.slots > 0);
}

/** Polls `fn` until true; throws after `timeoutMs` naming `what`. */
export async function waitFor(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
