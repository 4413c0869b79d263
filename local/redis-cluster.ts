import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { type RedisAccess, redisAccessOptions } from '../shared/redis/access';
import { parseClusterNodeLines } from '../shared/redis/cluster-nodes';
import { portFree } from './ports';
import { ensureDebianPackage } from './system-packages';
import { type ManagedProcess, spawnManaged } from './processes';
import { type SecureRedis, secureRedisAccess, secureRedisCli, secureRedisConfig } from './redis-tls';

const execFileP = promisify(execFile);

/**
 * Launches and checks a local Redis Cluster of real `redis-server` processes
 * (3 masters + 3 replicas by default; `npm start` runs 3 masters + 6 replicas) on
 * loopback. Used by `npm start`, by the CLI (`npm run redis -- start|stop|status`) and
 * by the Jest global setup.
 */
export interface RedisClusterOptions {
  basePort?: number;
  /** Total nodes; with `replicas: 1`, half are masters. */
  nodes?: number;
  replicas?: number;
  /** Parent folder of the per-node data dirs. */
  dataDir?: string;
  nodeTimeoutMs?: number;
  /** Run each node as a daemon that outlives this process (CLI use). */
  daemonize?: boolean;
  /** Wipe existing data and create a new cluster. */
  fresh?: boolean;
  onLine?: (node: number, line: string) => void;
  log?: (msg: string) => void;
  readyTimeoutMs?: number;
  /**
   * Child mode: start a node again when it dies (it rejoins from its nodes.conf, as a
   * replica of whichever node took over its slots), so a master failover does not leave
   * the promoted master without a replica for good. Off by default: tests that kill a
   * node to watch the cluster without it must see it stay dead.
   */
  relaunch?: boolean;
  /** Delay before a dead node is started again (relaunch). */
  relaunchDelayMs?: number;
  /**
   * A node that dies more than `maxRestarts` times within `windowMs` is in a crash loop:
   * it is not started again and `onGiveUp` is told (npm start then stops with exit 1).
   * Without `onGiveUp`, nodes are relaunched however often they die.
   */
  relaunchLimit?: {
    maxRestarts: number;
    windowMs: number;
    onGiveUp(port: number, code: number | string): void;
  };
  /** Extra `redis-server` arguments for the node on `port` (tests: e.g. announce a proxy's port). */
  extraArgs?: (port: number) => string[];
  /**
   * TLS only (clients, bus, replication) and one ACL user, as ElastiCache with in-transit
   * encryption and AUTH (redis-tls.ts makes the material). Absent: plaintext, no AUTH.
   */
  secure?: SecureRedis;
}

export interface RedisClusterHandle {
  ports: number[];
  seeds: string;
  /** True when a healthy cluster was already running on these ports and was reused. */
  reused: boolean;
  /** Stops the nodes this handle started (a reused cluster is left running). */
  stop(): Promise<void>;
  /**
   * The node processes (child mode only), for fault injection; index i is port i. With
   * `relaunch`, a relaunched node's new process replaces the dead one in place.
   */
  processes: ManagedProcess[];
  /** Times a dead node was started again (relaunch), in total. */
  readonly relaunches: number;
  /** How clients connect (TLS, user, password): empty for a plaintext cluster. */
  access: RedisAccess;
}

export interface ClusterHealth {
  ok: boolean;
  state: 'ok' | 'fail' | 'down';
  masters: number;
  replicas: number;
  slotsCovered: number;
  nodes: { port: number; up: boolean; role?: string; state?: string; replicasOnline?: number }[];
  problems: string[];
}

const defaults = {
  basePort: 7000,
  nodes: 6,
  replicas: 1,
  dataDir: '.local/redis',
  nodeTimeoutMs: 2000,
  readyTimeoutMs: 30000,
  relaunchDelayMs: 300,
};

/**
 * The local stack's topology (`npm start`, `npm run redis`): 3 masters with 2 replicas
 * each, so a master's failover leaves the promoted master with a replica at once and
 * intake (a 202 needs a replica's WAIT) keeps going; the dead node is relaunched and
 * rejoins as a replica. Tests keep the library default (3 + 3) to spare the machine.
 */
export const LOCAL_TOPOLOGY = { nodes: 9, replicas: 2 } as const;

/** Makes sure `redis-server` exists; installs it with apt as root on Debian, else explains how. */
export function ensureRedisInstalled(log: (m: string) => void = console.log): void {
  ensureDebianPackage('redis-server', ['redis-server', 'redis-cli'], log);
}

async function probe<T>(
  port: number,
  fn: (r: Redis) => Promise<T>,
  access: RedisAccess = {},
): Promise<T | undefined> {
  const r = new Redis({
    ...redisAccessOptions(access),
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    // A TLS handshake and AUTH take a few round trips more than a plaintext connect.
    connectTimeout: access.tls ? 2000 : 500,
    commandTimeout: 1000,
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

function field(info: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return m?.[1]?.trim();
}

/** Reads the health of a cluster: every node up, all slots covered, every replica online. */
export async function clusterHealth(ports: number[], access: RedisAccess = {}): Promise<ClusterHealth> {
  const nodes: ClusterHealth['nodes'] = [];
  const problems: string[] = [];
  let slotsCovered = 0;
  let anyFail = false;
  for (const port of ports) {
    const res = await probe(
      port,
      async (r) => ({
        cluster: (await r.call('CLUSTER', 'INFO')) as string,
        repl: (await r.info('replication')) as string,
      }),
      access,
    );
    if (!res) {
      nodes.push({ port, up: false });
      problems.push(`node 127.0.0.1:${port} does not answer`);
      continue;
    }
    const state = field(res.cluster, 'cluster_state') ?? 'unknown';
    const role = field(res.repl, 'role') ?? 'unknown';
    slotsCovered = Math.max(slotsCovered, Number(field(res.cluster, 'cluster_slots_ok') ?? 0));
    const replicasOnline = (res.repl.match(/^slave\d+:.*state=online/gm) ?? []).length;
    if (state !== 'ok') {
      anyFail = true;
      problems.push(`node 127.0.0.1:${port} reports cluster_state:${state}`);
    }
    if (role === 'slave' && field(res.repl, 'master_link_status') !== 'up') {
      problems.push(`replica 127.0.0.1:${port} has no link to its master`);
    }
    nodes.push({ port, up: true, role: role === 'slave' ? 'replica' : role, state, replicasOnline });
  }
  const masters = nodes.filter((n) => n.role === 'master').length;
  const replicas = nodes.filter((n) => n.role === 'replica').length;
  for (const n of nodes) {
    if (n.role === 'master' && (n.replicasOnline ?? 0) === 0 && replicas > 0) {
      problems.push(`master 127.0.0.1:${n.port} has no online replica`);
    }
  }
  if (slotsCovered < 16384 && nodes.some((n) => n.up))
    problems.push(`only ${slotsCovered}/16384 slots covered`);
  const up = nodes.filter((n) => n.up).length;
  return {
    ok: problems.length === 0,
    state: up === 0 ? 'down' : anyFail || slotsCovered < 16384 ? 'fail' : 'ok',
    masters,
    replicas,
    slotsCovered,
    nodes,
    problems,
  };
}

/** True while another node still sees the node on `port` as a master serving slots. */
async function ownsSlots(port: number, ports: number[], access: RedisAccess): Promise<boolean> {
  for (const other of ports) {
    if (other === port) continue;
    const nodes = await probe(other, (r) => r.call('CLUSTER', 'NODES') as Promise<string>, access);
    if (!nodes) continue;
    const node = parseClusterNodeLines(nodes).find((n) => n.address.endsWith(`:${port}`));
    if (!node) return false;
    return node.role === 'master' && node.slotFields.length > 0;
  }
  return false;
}

async function waitHealthy(ports: number[], timeoutMs: number, access: RedisAccess): Promise<ClusterHealth> {
  const until = Date.now() + timeoutMs;
  let last: ClusterHealth | undefined;
  while (Date.now() < until) {
    last = await clusterHealth(ports, access);
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`Redis Cluster not ready after ${timeoutMs} ms: ${last?.problems.join('; ')}`);
}

async function waitAnswering(ports: number[], timeoutMs: number, access: RedisAccess): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const port of ports) {
    while ((await probe(port, (r) => r.ping(), access)) !== 'PONG') {
      if (Date.now() > until) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function redisPorts(basePort = defaults.basePort, nodes = defaults.nodes): number[] {
  return Array.from({ length: nodes }, (_, i) => basePort + i);
}

/** Starts (or reuses) a Redis Cluster and resolves once it is fully ready. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const o = { ...defaults, ...options };
  const log = o.log ?? (() => {});
  ensureRedisInstalled(log);
  const ports = redisPorts(o.basePort, o.nodes);
  const seeds = ports.map((p) => `127.0.0.1:${p}`).join(',');
  const access = o.secure ? secureRedisAccess(o.secure) : {};

  const busy: number[] = [];
  for (const p of ports) if (!(await portFree(p))) busy.push(p);
  if (busy.length === ports.length && !o.fresh) {
    const health = await clusterHealth(ports, access);
    if (health.ok) {
      log(`Redis Cluster already running on ${seeds}; reusing it`);
      return { ports, seeds, reused: true, processes: [], relaunches: 0, access, stop: async () => {} };
    }
  }
  if (busy.length > 0) {
    throw new Error(
      `Ports ${busy.join(', ')} are in use by something that is not a healthy Redis Cluster; ` +
        `stop it first (e.g. npm run redis -- stop) or choose another base port`,
    );
  }

  const root = resolve(o.dataDir);
  const dirs = ports.map((p) => join(root, String(p)));
  // A cluster made with TLS restarts only with TLS, and a plaintext one only without.
  const restart =
    !o.fresh &&
    dirs.every(
      (d) => existsSync(join(d, 'nodes.conf')) && existsSync(join(d, 'secure.conf')) === Boolean(o.secure),
    );
  if (!restart) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const d of dirs) mkdirSync(d, { recursive: true });

  const processes: ManagedProcess[] = [];
  // TLS and the ACL user go in a private config file (first argument), so the password
  // never shows in the process list; the --port below is then the TLS port's twin: 0.
  if (o.secure) {
    for (const [i, port] of ports.entries()) {
      writeFileSync(join(dirs[i]!, 'secure.conf'), secureRedisConfig(o.secure, port), { mode: 0o600 });
    }
  }
  const args = (port: number, dir: string): string[] => [
    ...(o.secure ? [join(dir, 'secure.conf')] : []),
    '--port',
    o.secure ? '0' : String(port),
    '--bind',
    '127.0.0.1',
    ...clusterNodeArgs(dir, o.nodeTimeoutMs),
    ...(o.daemonize
      ? ['--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log')]
      : ['--daemonize', 'no']),
    ...(o.extraArgs?.(port) ?? []),
  ];
  let stopping = false;
  let relaunches = 0;
  const deaths = ports.map((): number[] => []);
  const spawnNode = (i: number): ManagedProcess => {
    const port = ports[i]!;
    const proc = spawnManaged(`redis-${port}`, 'redis-server', args(port, dirs[i]!), {
      onLine: (line) => o.onLine?.(port, line),
    });
    processes[i] = proc;
    if (o.relaunch) {
      void proc.exited.then(async (code) => {
        if (stopping) return;
        const limit = o.relaunchLimit;
        if (limit) {
          const now = Date.now();
          const recent = deaths[i]!.filter((t) => t > now - limit.windowMs);
          recent.push(now);
          deaths[i] = recent;
          if (recent.length > limit.maxRestarts) {
            log(`redis-server on port ${port} exited (${code}) again and again; not relaunching it`);
            limit.onGiveUp(port, code);
            return;
          }
        }
        log(`redis-server on port ${port} exited (${code}); relaunching it once its slots moved`);
        await new Promise((r) => setTimeout(r, o.relaunchDelayMs));
        // A master back before the cluster failed it over would simply stay master; let
        // its replica take over first (bounded: with no replica, it must come back).
        const until = Date.now() + 3 * o.nodeTimeoutMs + 2000;
        while (!stopping && Date.now() < until && (await ownsSlots(port, ports, access))) {
          await new Promise((r) => setTimeout(r, 200));
        }
        if (stopping || processes[i] !== proc) return;
        log(`starting redis-server on port ${port} again (it rejoins as a replica)`);
        relaunches++;
        spawnNode(i);
      });
    }
    return proc;
  };
  const stopAll = async (): Promise<void> => {
    stopping = true;
    await Promise.all(processes.map((p) => p.stop(5000)));
  };
  try {
    for (const [i, port] of ports.entries()) {
      const dir = dirs[i]!;
      if (o.daemonize) {
        await execFileP('redis-server', args(port, dir));
      } else {
        spawnNode(i);
      }
    }
    await waitAnswering(ports, 10000, access);
    if (restart) {
      log(`Restarting the existing Redis Cluster from ${root}`);
    } else {
      log(`Creating a new Redis Cluster on ${seeds}${o.secure ? ' (TLS, ACL user)' : ''}`);
      const cli = o.secure ? secureRedisCli(o.secure) : { args: [], env: {} };
      await execFileP(
        'redis-cli',
        [
          ...cli.args,
          '--cluster',
          'create',
          ...ports.map((p) => `127.0.0.1:${p}`),
          '--cluster-replicas',
          String(o.replicas),
          '--cluster-yes',
        ],
        { env: { ...process.env, ...cli.env } },
      );
    }
    await waitHealthy(ports, o.readyTimeoutMs, access);
  } catch (err) {
    if (o.daemonize) await stopRedisCluster({ basePort: o.basePort, nodes: o.nodes, access });
    await stopAll();
    throw err;
  }
  return {
    ports,
    seeds,
    reused: false,
    processes,
    access,
    get relaunches() {
      return relaunches;
    },
    stop: stopAll,
  };
}

/** Stops a cluster by asking every node to shut down (works for daemonized nodes too). */
export async function stopRedisCluster(
  options: Pick<RedisClusterOptions, 'basePort' | 'nodes'> & { access?: RedisAccess } = {},
): Promise<number> {
  const ports = redisPorts(options.basePort, options.nodes);
  let stopped = 0;
  for (const port of ports) {
    const done = await probe(
      port,
      async (r) => {
        await r.call('SHUTDOWN', 'NOSAVE').catch(() => {});
        return true;
      },
      options.access,
    );
    if (done) stopped++;
  }
  for (const port of ports) {
    const until = Date.now() + 5000;
    while (!(await portFree(port)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  }
  return stopped;
}

/**
 * The arguments every cluster node of ours runs with, wherever it runs (here or on a
 * chaos host): cluster mode with its nodes.conf in `dir`, AOF fsynced every second
 * (what PROTOCOL.md's durability argument assumes, with WAIT), diskless replication so
 * a replica resyncs without touching the disk, and no protected mode (we bind ourselves).
 */
export function clusterNodeArgs(dir: string, nodeTimeoutMs: number): string[] {
  return [
    '--dir',
    dir,
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--repl-diskless-sync',
    'yes',
    '--repl-diskless-sync-delay',
    '0',
    '--protected-mode',
    'no',
  ];
}
