import { existsSync } from 'node:fs';
import { generateClusterSecret } from '../coordinator/peer-secret';
import { join, resolve } from 'node:path';
import { ensureKeyPair } from '../shared/auth/keys';
import { portFree, waitForPortBusy } from './ports';
import { type ManagedProcess, spawnManaged } from './processes';
import { type RedisClusterHandle, type RedisClusterOptions, startRedisCluster } from './redis-cluster';
import { type WarmUpReport, warmFunctions } from './warm-up';
import { loadSettings } from '../shared/settings/load';

/**
 * Starts the parts of the stack as child processes: the Redis Cluster, coordinators
 * and serverless-offline. `npm start` and the end-to-end tests both use it, so what
 * the tests run is what users run.
 */
export const repoRoot = resolve(__dirname, '..');

export interface OfflinePorts {
  httpPort: number;
  wsPort: number;
  lambdaPort: number;
}

export type LineSink = (name: string, line: string) => void;

function requireBuild(): void {
  if (!existsSync(join(repoRoot, 'dist/functions/health.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first');
  }
}

export interface CoordinatorOptions {
  nodeId: string;
  adminPort: number;
  redisSeeds: string;
  members: string[];
  env?: NodeJS.ProcessEnv;
  onLine?: LineSink;
  /** Extra node flags, e.g. ['--cpu-prof'] when profiling. */
  nodeArgs?: string[];
}

/**
 * The cluster secret of coordinators this process starts when the caller supplies none
 * (CLUSTER_SECRET / CLUSTER_SECRET_FILE in `env` or the environment): one fresh random
 * secret per launcher process, so the coordinators it starts authenticate each other.
 */
export const launcherClusterSecret = generateClusterSecret();

function hasSecret(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['CLUSTER_SECRET'] || env['CLUSTER_SECRET_FILE']);
}

/**
 * Throws when a port a child is about to listen on is taken: waiting for "the port is
 * busy" would otherwise take someone else's listener for the child having started.
 */
async function requireFreePorts(what: string, ports: number[], host = '127.0.0.1'): Promise<void> {
  const taken: number[] = [];
  for (const p of ports) if (!(await portFree(p, host))) taken.push(p);
  if (taken.length > 0) {
    throw new Error(`Cannot start ${what}: port ${taken.join(', ')} is already in use`);
  }
}

/**
 * The child is up once its port answers and it is still alive: a child that fails at
 * start (its port taken after all, a bad setting) is reported as such, never as started.
 */
export async function waitStarted(
  proc: ManagedProcess,
  ports: number[],
  timeoutMs: number,
  died: (code: number | string) => Promise<never>,
  host = '127.0.0.1',
): Promise<void> {
  try {
    await Promise.race([
      Promise.all(ports.map((p) => waitForPortBusy(p, timeoutMs, host))),
      proc.exited.then(died),
    ]);
  } catch (err) {
    // A process that did not come up in time is stopped here: the caller never got it, so
    // nobody else could (a test's cluster would otherwise hang on it after the failure).
    if (proc.alive) await proc.stop();
    throw err;
  }
  if (!proc.alive) await died(await proc.exited);
}

/** Starts one coordinator process and waits until its admin port answers. */
export async function startCoordinator(o: CoordinatorOptions): Promise<ManagedProcess> {
  requireBuild();
  // A coordinator bound to another address (ADMIN_HOST) is looked for there.
  const bound = o.env?.['ADMIN_HOST'] ?? process.env['ADMIN_HOST'];
  const host = bound && bound !== '0.0.0.0' && bound !== '::' ? bound : '127.0.0.1';
  await requireFreePorts(`coordinator ${o.nodeId}`, [o.adminPort], host);
  const tail: string[] = [];
  const proc = spawnManaged(
    `coordinator-${o.nodeId}`,
    process.execPath,
    [...(o.nodeArgs ?? []), join(repoRoot, 'dist/coordinator/main.js')],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_ID: o.nodeId,
        ADMIN_PORT: String(o.adminPort),
        REDIS_SEEDS: o.redisSeeds,
        COORDINATORS: o.members.join(','),
        // The WebSocket fan-out invokes `broadcast` on serverless-offline with dummy credentials.
        AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'] ?? 'local',
        AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'] ?? 'local',
        ...(hasSecret(process.env) || hasSecret(o.env ?? {})
          ? {}
          : { CLUSTER_SECRET: launcherClusterSecret }),
        ...o.env,
      },
      onLine: (line) => {
        tail.push(line);
        if (tail.length > 10) tail.shift();
        o.onLine?.(o.nodeId, line);
      },
    },
  );
  await waitStarted(
    proc,
    [o.adminPort],
    15000,
    async (code) => {
      // 'exit' can come before the last output lines (the reason it refused to start).
      await new Promise((r) => setTimeout(r, 200));
      throw new Error(`coordinator ${o.nodeId} exited during start (${code}):\n${tail.join('\n')}`);
    },
    host,
  );
  return proc;
}

export interface OfflineOptions extends OfflinePorts {
  redisSeeds: string;
  env?: NodeJS.ProcessEnv;
  onLine?: LineSink;
  /**
   * Invoke every function once before returning (local/warm-up.ts), so the first
   * requests do not pay for loading the handlers; told how it went. `npm start` does.
   */
  warm?: (report: WarmUpReport) => void;
}

/** Starts serverless-offline (HTTP, WebSocket, Lambda invoke) on the given ports. */
export async function startOffline(o: OfflineOptions): Promise<ManagedProcess> {
  requireBuild();
  // The token key pair is made here, once, before any function runs: functions only
  // read it (the issuer the private half, verifiers the public JWKS) and fail at start
  // when it is missing, instead of each generating a key of its own.
  await requireFreePorts('serverless-offline', [o.httpPort, o.wsPort, o.lambdaPort]);
  const env = { ...process.env, ...o.env };
  ensureKeyPair({ keyDir: resolve(repoRoot, env['JWT_KEY_DIR'] ?? '.local/keys'), env });
  const bin = join(repoRoot, 'node_modules/.bin/serverless');
  const proc = spawnManaged('offline', bin, ['offline', '--useInProcess'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      REDIS_SEEDS: o.redisSeeds,
      HTTP_PORT: String(o.httpPort),
      WS_PORT: String(o.wsPort),
      LAMBDA_PORT: String(o.lambdaPort),
      WS_ENDPOINT: `http://127.0.0.1:${o.wsPort}`,
      // A failed async invoke must not end the emulator (see local/offline-guard.cjs).
      NODE_OPTIONS:
        `${process.env['NODE_OPTIONS'] ?? ''} --require ${join(repoRoot, 'local/offline-guard.cjs')}`.trim(),
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'] ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'] ?? 'local',
      ...o.env,
    },
    onLine: (line) => o.onLine?.('offline', line),
  });
  await waitStarted(proc, [o.httpPort, o.lambdaPort], 60000, async (code) => {
    throw new Error(`serverless-offline exited during start (${code})`);
  });
  if (o.warm) {
    o.warm(await warmFunctions({ repoRoot, lambdaPort: o.lambdaPort, stage: loadSettings(env).STAGE }));
  }
  return proc;
}

export interface StackOptions {
  redis: RedisClusterOptions;
  coordinators: { nodeId: string; adminPort: number }[];
  offline: OfflinePorts;
  env?: NodeJS.ProcessEnv;
  onLine?: LineSink;
  /**
   * Relaunch a coordinator that dies, as a container orchestrator's restart policy
   * would: the cluster survives one, and killing the leader is a documented drill. A
   * coordinator that dies more than `maxRestarts` times within `windowMs` is a crash
   * loop: `onGiveUp` is called and it stays down. Absent: nothing is relaunched.
   */
  relaunchCoordinators?: CoordinatorRelaunch;
  /** Warm every function once serverless-offline listens (see {@link OfflineOptions.warm}). */
  warm?: (report: WarmUpReport) => void;
}

export interface CoordinatorRelaunch {
  maxRestarts: number;
  windowMs: number;
  /** Pause before a relaunch (an orchestrator's restart back-off). */
  delayMs: number;
  /** Told of every unexpected exit and every relaunch. */
  report(nodeId: string, what: string): void;
  onGiveUp(name: string, code: number | string): void;
}

export interface Stack {
  redis: RedisClusterHandle;
  coordinators: Map<string, ManagedProcess>;
  offline: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts everything; on any failure stops what already started. */
export async function startStack(o: StackOptions): Promise<Stack> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of started.reverse()) await p.stop().catch(() => {});
  };
  try {
    const redis = await startRedisCluster(o.redis);
    started.push(redis);
    const members = o.coordinators.map((c) => c.nodeId);
    const coordinators = new Map<string, ManagedProcess>();
    const procs = await Promise.all(
      o.coordinators.map((c) =>
        startCoordinator({
          ...c,
          redisSeeds: redis.seeds,
          members,
          env: { LAMBDA_ENDPOINT: `http://127.0.0.1:${o.offline.lambdaPort}`, ...o.env },
          onLine: o.onLine,
        }),
      ),
    );
    procs.forEach((p, i) => {
      coordinators.set(o.coordinators[i]!.nodeId, p);
    });
    // The current process of each coordinator (a relaunch replaces it) is stopped.
    let stopped = false;
    started.push({
      stop: async () => {
        stopped = true;
        await Promise.all([...coordinators.values()].map((p) => p.stop()));
      },
    });
    if (o.relaunchCoordinators) {
      const policy = o.relaunchCoordinators;
      for (const c of o.coordinators) {
        const exits: number[] = [];
        const watch = (p: ManagedProcess): void => {
          void p.exited.then(async (code) => {
            if (stopped || p.stopRequested) return;
            const now = Date.now();
            exits.push(now);
            while (exits.length && exits[0]! < now - policy.windowMs) exits.shift();
            if (exits.length > policy.maxRestarts) {
              policy.onGiveUp(p.name, code);
              return;
            }
            policy.report(
              c.nodeId,
              `${p.name} exited unexpectedly (${code}); relaunching it in ${policy.delayMs} ms`,
            );
            await new Promise((r) => setTimeout(r, policy.delayMs));
            if (stopped) return;
            try {
              const next = await startCoordinator({
                ...c,
                redisSeeds: redis.seeds,
                members,
                env: { LAMBDA_ENDPOINT: `http://127.0.0.1:${o.offline.lambdaPort}`, ...o.env },
                onLine: o.onLine,
              });
              if (stopped) {
                await next.stop();
                return;
              }
              coordinators.set(c.nodeId, next);
              policy.report(c.nodeId, `${p.name} relaunched (pid ${next.pid})`);
              watch(next);
            } catch (err) {
              if (!stopped) policy.onGiveUp(p.name, err instanceof Error ? err.message : String(err));
            }
          });
        };
        watch(coordinators.get(c.nodeId)!);
      }
    }
    const offline = await startOffline({
      ...o.offline,
      redisSeeds: redis.seeds,
      ...(o.env ? { env: o.env } : {}),
      ...(o.onLine ? { onLine: o.onLine } : {}),
      ...(o.warm ? { warm: o.warm } : {}),
    });
    started.push(offline);
    return { redis, coordinators, offline, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
