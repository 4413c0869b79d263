import { generateClusterSecret } from '../../coordinator/peer-secret';
import type { CoordinatorStatus } from '../../shared/membership/coordinator-status';
import { findFreePortRange, freePort } from '../../local/ports';
import type { ManagedProcess } from '../../local/processes';
import { startCoordinator, startOffline } from '../../local/stack';

/**
 * End-to-end helpers: serverless-offline and coordinators on free ports against the
 * test run's Redis Cluster. Every process started here is stopped by `stop()`.
 */
export function testSeeds(): string {
  const seeds = process.env['TEST_REDIS_SEEDS'];
  if (!seeds) throw new Error('TEST_REDIS_SEEDS is not set: run through jest (global setup)');
  return seeds;
}

const verbose = process.env['TEST_VERBOSE'] === '1';
const sink = (name: string, line: string): void => {
  if (verbose) process.stderr.write(`${name} | ${line}\n`);
};

export interface TestOffline {
  proc: ManagedProcess;
  httpUrl: string;
  wsUrl: string;
  lambdaUrl: string;
  httpPort: number;
  wsPort: number;
  lambdaPort: number;
  stop(): Promise<void>;
}

export async function startTestOffline(
  env: NodeJS.ProcessEnv = {},
  redisSeeds = testSeeds(),
): Promise<TestOffline> {
  const base = await findFreePortRange(3);
  const ports = { httpPort: base, wsPort: base + 1, lambdaPort: base + 2 };
  const proc = await startOffline({
    ...ports,
    redisSeeds,
    env: { LOG_LEVEL: verbose ? 'info' : 'warn', ...env },
    onLine: sink,
  });
  return {
    proc,
    ...ports,
    httpUrl: `http://127.0.0.1:${ports.httpPort}`,
    wsUrl: `ws://127.0.0.1:${ports.wsPort}`,
    lambdaUrl: `http://127.0.0.1:${ports.lambdaPort}`,
    stop: () => proc.stop(),
  };
}

export interface TestCoordinator {
  id: string;
  adminPort: number;
  url: string;
  proc: ManagedProcess;
}

export class TestCluster {
  readonly nodes = new Map<string, TestCoordinator>();
  /** This cluster's CLUSTER_NAME: its keys never mix with another test cluster's. */
  readonly name: string;
  /** The cluster secret its coordinators authenticate each other with (tests sign with it too). */
  readonly secret = generateClusterSecret();
  /** Every output line of each coordinator (all of its runs), for tests that look for an event. */
  readonly output = new Map<string, string[]>();
  constructor(
    readonly members: string[],
    readonly env: NodeJS.ProcessEnv = {},
    readonly redisSeeds = testSeeds(),
    name?: string,
  ) {
    this.name = name ?? `t${Math.random().toString(36).slice(2, 8)}`;
  }

  /** What serverless-offline needs to work with this cluster: its name and committee. */
  offlineEnv(): NodeJS.ProcessEnv {
    return { CLUSTER_NAME: this.name, COORDINATORS: this.members.join(',') };
  }

  static async start(n: number, env: NodeJS.ProcessEnv = {}, redisSeeds?: string): Promise<TestCluster> {
    const prefix = `t${Math.random().toString(36).slice(2, 6)}`;
    const members = Array.from({ length: n }, (_, i) => `${prefix}-c${i + 1}`);
    const cluster = new TestCluster(members, env, redisSeeds, prefix);
    try {
      await Promise.all(members.map((id) => cluster.startNode(id)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  async startNode(id: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<TestCoordinator> {
    const adminPort = this.nodes.get(id)?.adminPort ?? (await freePort());
    const lines = this.output.get(id) ?? [];
    this.output.set(id, lines);
    const proc = await startCoordinator({
      nodeId: id,
      adminPort,
      redisSeeds: this.redisSeeds,
      members: this.members,
      // No WebSocket fan-out unless a test passes its serverless-offline's LAMBDA_ENDPOINT.
      env: {
        LOG_LEVEL: verbose ? 'info' : 'warn',
        LAMBDA_ENDPOINT: 'off',
        CLUSTER_NAME: this.name,
        CLUSTER_SECRET: this.secret,
        ...this.env,
        ...extraEnv,
      },
      onLine: (name, line) => {
        lines.push(line);
        sink(name, line);
      },
    });
    const node = { id, adminPort, url: `http://127.0.0.1:${adminPort}`, proc };
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): TestCoordinator {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  async status(id: string): Promise<CoordinatorStatus | undefined> {
    try {
      const res = await fetch(`${this.node(id).url}/status`, { signal: AbortSignal.timeout(1000) });
      return (await res.json()) as CoordinatorStatus;
    } catch {
      return undefined;
    }
  }

  /** Statuses of every live node. */
  async statuses(): Promise<CoordinatorStatus[]> {
    const all = await Promise.all(
      [...this.nodes.values()].filter((n) => n.proc.alive).map((n) => this.status(n.id)),
    );
    return all.filter((s): s is CoordinatorStatus => s !== undefined);
  }

  /** Waits until every live node agrees on one leader; returns it and its term. */
  async waitForLeader(timeoutMs = 10000, exclude?: string): Promise<{ leader: string; term: number }> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const st = await this.statuses();
      const leaders = st.filter((s) => s.role === 'leader');
      if (leaders.length === 1) {
        const l = leaders[0]!;
        const agreed = st.every((s) => s.leader === l.id && s.term === l.term);
        if (agreed && l.id !== exclude) return { leader: l.id, term: l.term };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no agreed leader within ${timeoutMs} ms: ${JSON.stringify(await this.statuses())}`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.proc.stop()));
  }
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 10000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
