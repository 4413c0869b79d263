import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { findFreePortRange } from '../../local/ports';
import {
  type RedisClusterHandle,
  type RedisClusterOptions,
  startRedisCluster,
} from '../../local/redis-cluster';
import { parseSeeds } from '../../shared/config';
import { parseClusterNodeLines, reachableNodes } from '../../shared/redis/cluster-nodes';

/**
 * Fault injection between one process and Redis: a TCP proxy the test controls.
 *
 * `cut()` is a network partition as the client sees it: the connections it has are
 * torn down (or frozen), and new ones are either accepted and never answered
 * ("blackhole": the client only notices by its own timeouts, like dropped packets) or
 * refused (the listener is closed: ECONNREFUSED). `restore()` heals it.
 */
export type CutMode = 'blackhole' | 'refuse';

export interface CutOptions {
  /** What happens to new connections while cut. Default `blackhole`. */
  mode?: CutMode;
  /**
   * What happens to the connections open at the cut: `destroy` (the client sees a
   * reset and reconnects into the cut) or `freeze` (kept open, nothing forwarded either
   * way: commands just time out), or `stall` (both sides kept open, nothing forwarded:
   * the upstream also still sees its peer connected, e.g. a master keeps counting a
   * replica whose replication link stalled). Default `destroy`.
   */
  existing?: 'destroy' | 'freeze' | 'stall';
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
}

export class TcpProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  /** Connections accepted (or frozen) during a cut; released at restore. */
  private readonly held = new Set<Socket>();
  private cutMode: CutMode | null = null;
  private closed = false;
  /** Connections accepted since start, for tests that want to see traffic went through. */
  accepted = 0;

  private constructor(
    readonly target: { host: string; port: number },
    private _port: number,
  ) {}

  /** Starts a proxy to `target` on `port` (0 = any free port on 127.0.0.1). */
  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    const p = new TcpProxy(target, port);
    await p.listen();
    return p;
  }

  /** The port the proxy listens on (stable across cut/restore). */
  get port(): number {
    return this._port;
  }

  get isCut(): boolean {
    return this.cutMode !== null;
  }

  /** Open client connections (forwarded or held). */
  get connections(): number {
    return this.pairs.size + this.held.size;
  }

  private listen(): Promise<void> {
    const server = createServer((client) => this.onConnection(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this._port, host: '127.0.0.1' }, () => {
        server.off('error', reject);
        const addr = server.address();
        if (typeof addr === 'object' && addr) this._port = addr.port;
        resolve();
      });
    });
  }

  private onConnection(client: Socket): void {
    this.accepted++;
    client.on('error', () => {});
    if (this.cutMode !== null || this.closed) {
      this.hold(client);
      return;
    }
    client.setNoDelay(true);
    const upstream = createConnection(this.target);
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const drop = (): void => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Keeps a socket open without forwarding or answering anything. */
  private hold(client: Socket): void {
    client.pause();
    this.held.add(client);
    client.once('close', () => this.held.delete(client));
  }

  /** Partitions the client from Redis (see {@link CutOptions}). */
  async cut(options: CutOptions = {}): Promise<void> {
    const mode = options.mode ?? 'blackhole';
    this.cutMode = mode;
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      if (options.existing === 'stall' && mode === 'blackhole' && pair.upstream) {
        pair.client.unpipe();
        pair.upstream.unpipe();
        this.hold(pair.client);
        this.hold(pair.upstream);
      } else if (options.existing === 'freeze' && mode === 'blackhole') {
        pair.client.unpipe();
        pair.upstream?.unpipe();
        pair.upstream?.destroy();
        this.hold(pair.client);
      } else {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
    }
    if (mode === 'refuse') {
      for (const s of this.held) s.destroy();
      await this.closeServer();
    }
  }

  /** Heals the partition: held connections are reset (the client reconnects), new ones are forwarded. */
  async restore(): Promise<void> {
    if (this.cutMode === null || this.closed) return;
    const wasRefusing = this.cutMode === 'refuse';
    this.cutMode = null;
    for (const s of [...this.held]) s.destroy();
    this.held.clear();
    if (wasRefusing) await this.listen();
  }

  private closeServer(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
    for (const s of this.held) s.destroy();
    this.held.clear();
    await this.closeServer();
  }
}

/** `host:port` of every node a Redis Cluster announces (CLUSTER NODES of the first seed that answers). */
export async function announcedNodes(seeds: string): Promise<{ host: string; port: number }[]> {
  let lastError: unknown;
  for (const seed of parseSeeds(seeds)) {
    const r = new Redis({ ...seed, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    try {
      await r.connect();
      const text = (await r.call('CLUSTER', 'NODES')) as string;
      const out = reachableNodes(parseClusterNodeLines(text), seed.host).map(({ host, port }) => ({
        host,
        port,
      }));
      if (out.length > 0) return out;
    } catch (err) {
      lastError = err;
    } finally {
      r.disconnect();
    }
  }
  throw new Error(`No seed of ${seeds} answered CLUSTER NODES: ${String(lastError)}`);
}

/**
 * One proxy per Redis Cluster node, plus what makes a coordinator talk to Redis only
 * through them: `REDIS_SEEDS` (the proxies) and `REDIS_NAT_MAP` (every announced
 * address mapped to its proxy, so redirections and slot refreshes also go through).
 * Nodes added to the cluster later are not mapped.
 */
export interface RedisProxies {
  proxies: TcpProxy[];
  /** REDIS_SEEDS value: the proxies. */
  seeds: string;
  /** REDIS_NAT_MAP value: `announcedHost:port=127.0.0.1:proxyPort,...`. */
  natMap: string;
  /** The two variables above, ready to pass as a coordinator's extra environment. */
  env: { REDIS_SEEDS: string; REDIS_NAT_MAP: string };
  cut(options?: CutOptions): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function proxyRedisCluster(seeds: string): Promise<RedisProxies> {
  const nodes = await announcedNodes(seeds);
  const proxies: TcpProxy[] = [];
  try {
    for (const n of nodes) proxies.push(await TcpProxy.start(n));
  } catch (err) {
    await Promise.all(proxies.map((p) => p.close()));
    throw err;
  }
  const proxySeeds = proxies.map((p) => `127.0.0.1:${p.port}`).join(',');
  const natMap = proxies.map((p) => `${p.target.host}:${p.target.port}=127.0.0.1:${p.port}`).join(',');
  return {
    proxies,
    seeds: proxySeeds,
    natMap,
    env: { REDIS_SEEDS: proxySeeds, REDIS_NAT_MAP: natMap },
    cut: async (options) => {
      await Promise.all(proxies.map((p) => p.cut(options)));
    },
    restore: async () => {
      await Promise.all(proxies.map((p) => p.restore()));
    },
    close: async () => {
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}

/**
 * A Redis Cluster (3 masters + 3 replicas) of this test file's own, on free ports in a
 * temp folder. Coordinator tests need one: the cluster-wide keys (`{qv}:leader-fence`,
 * `{qv}:leader`, `{qv}:members`) are global per Redis, so two coordinator clusters on
 * the run's shared Redis (Jest runs files in parallel) would fence each other's leaders
 * in turn and see each other's members.
 */
export interface IsolatedRedis {
  handle: RedisClusterHandle;
  seeds: string;
  ports: number[];
  stop(): Promise<void>;
}

export async function startIsolatedRedis(
  options: Omit<RedisClusterOptions, 'basePort' | 'dataDir' | 'fresh'> = {},
): Promise<IsolatedRedis> {
  const basePort = await findFreePortRange(options.nodes ?? 6, 10000);
  const dataDir = mkdtempSync(join(tmpdir(), 'qv-test-redis-own-'));
  try {
    const handle = await startRedisCluster({ ...options, basePort, dataDir, fresh: true });
    return {
      handle,
      seeds: handle.seeds,
      ports: handle.ports,
      stop: async () => {
        await handle.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
