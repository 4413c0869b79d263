import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisClusterHandle, startRedisCluster } from '../local/redis-cluster';
import { freePort, findFreePortRange } from '../local/ports';
import { type ManagedProcess, stopManagedOnSignals } from '../local/processes';
import { repoRoot, startCoordinator } from '../local/stack';
import { numberFlag, parseFlags, parseOrExit } from '../local/cli';
import type { NumberRule } from '../shared/settings/env-values';

/** Shared bits of the benchmark programs: own Redis Cluster, options, output. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One numeric flag of a benchmark: its default, the values it accepts, what it means. */
export interface BenchOption {
  default: number;
  rule: NumberRule;
  help: string;
}

/**
 * The benchmark's flags from `process.argv`, parsed like every other CLI (local/cli.ts):
 * `--help` prints them (exit 0); an unknown flag or a bad value prints why (exit 2)
 * instead of measuring something else than was asked.
 */
export function benchOptions<K extends string>(
  command: string,
  specs: Record<K, BenchOption>,
  argv: string[] = process.argv.slice(2),
): Record<K, number> {
  const names = Object.keys(specs) as K[];
  const usage = (): string =>
    [
      `Usage: ${command} ${names.map((n) => `[--${n} N]`).join(' ')}`,
      ...names.map((n) => `  --${n.padEnd(14)} ${specs[n].help} (default ${specs[n].default})`),
      `  ${'-h, --help'.padEnd(16)} this text`,
    ].join('\n');
  return parseOrExit(() => {
    const flags = parseFlags(argv, Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])));
    return Object.fromEntries(
      names.map((n) => [n, numberFlag(flags, n, specs[n].rule) ?? specs[n].default]),
    ) as Record<K, number>;
  }, usage);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A fresh Redis Cluster on free ports in a temp dir; `stop()` removes everything. */
export async function benchRedis(masters = 3): Promise<RedisClusterHandle & { dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'qv-bench-'));
  const base = await findFreePortRange(masters * 2, 10000);
  const h = await startRedisCluster({ basePort: base, nodes: masters * 2, dataDir: dir, fresh: true });
  return {
    ...h,
    dispose: async () => {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a benchmark's JSON result to bench/results/<name>.json. */
export function writeResult(name: string, data: unknown): void {
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(join(repoRoot, `bench/results/${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

export const machine = (): string => `${process.platform} ${process.arch}, node ${process.version}, 2 cores`;

/**
 * Runs a benchmark program: Ctrl-C or SIGTERM stops every process it started, and the
 * exit code says whether it finished (0) or failed (1, with the error printed).
 */
export function runBench(main: () => Promise<void>): void {
  stopManagedOnSignals();
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exit(1);
    },
  );
}

/** Starts one coordinator per member (admin ports free), one after another. */
export async function startBenchCoordinators(
  seeds: string,
  members: string[],
  env: NodeJS.ProcessEnv,
): Promise<ManagedProcess[]> {
  const procs: ManagedProcess[] = [];
  for (const id of members) {
    procs.push(
      await startCoordinator({ nodeId: id, adminPort: await freePort(), redisSeeds: seeds, members, env }),
    );
  }
  return procs;
}

/** One HTTP request on loopback through `agent` (keep-alive): status and body text. */
export function httpCall(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** What a closed-loop run measured: completed requests per second, latency, failures. */
export interface ClosedLoop {
  perSecond: number;
  p50: number;
  p99: number;
  /** Answers of 400 or more, and requests that failed outright. */
  errors: number;
}

/**
 * `concurrency` clients each sending the next request as soon as the last one answered,
 * for `seconds`; `one(i)` sends request number i and resolves with its HTTP status.
 */
export async function closedLoop(
  seconds: number,
  concurrency: number,
  one: (i: number) => Promise<number>,
): Promise<ClosedLoop> {
  const lat: number[] = [];
  let n = 0;
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const i = n++;
        const t = performance.now();
        const status = await one(i).catch(() => 0);
        lat.push(performance.now() - t);
        if (status >= 400 || status === 0) errors++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return {
    perSecond: lat.length / ((performance.now() - started) / 1000),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    errors,
  };
}
