/**
 * Mutex benchmark: acquire+release cycles per second with 20 concurrent workers, our
 * RedisMutex (with fencing tokens) against redis-semaphore's Mutex, in the same run on
 * the same cluster. Goal: at least as fast as redis-semaphore.
 *
 *   node --import tsx bench/mutex.ts [--seconds 4] [--workers 20] [--resources 20]
 */
import { Mutex as SemaphoreMutex } from 'redis-semaphore';
import { parseSeeds } from '../shared/config';
import { RedisMutex } from '../shared/mutex';
import { createRedisCluster } from '../shared/redis/client';
import { benchRedis, machine, benchOptions, runBench, writeResult } from './common';

const {
  seconds: SECONDS,
  workers: WORKERS,
  resources: RESOURCES,
} = benchOptions('node --import tsx bench/mutex.ts', {
  seconds: { default: 4, rule: { above: 0 }, help: 'measuring time per round' },
  workers: { default: 20, rule: { int: true, min: 1 }, help: 'concurrent workers' },
  resources: { default: 20, rule: { int: true, min: 1 }, help: 'distinct locks' },
});

async function cycles(run: (worker: number) => Promise<void>, seconds = SECONDS): Promise<number> {
  let n = 0;
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      while (Date.now() < until) {
        await run(w);
        n++;
      }
    }),
  );
  return n / ((Date.now() - started) / 1000);
}

async function main(): Promise<void> {
  const cluster = await benchRedis();
  const redis = createRedisCluster(parseSeeds(cluster.seeds));
  try {
    const mutex = new RedisMutex(redis, { ttlMs: 5000 });
    const oursCycle = async (w: number): Promise<void> => {
      const lock = await mutex.acquire(`bench-ours-${w % RESOURCES}`, { watchdog: false });
      await lock.release();
    };
    const theirsCycle = async (w: number): Promise<void> => {
      const m = new SemaphoreMutex(redis as never, `bench-theirs-${w % RESOURCES}`, {
        lockTimeout: 5000,
        acquireTimeout: 10000,
        retryInterval: 5,
      });
      await m.acquire();
      await m.release();
    };
    // Warm both up (connections, scripts loaded, JIT), then alternate two rounds each.
    await cycles(oursCycle, 1);
    await cycles(theirsCycle, 1);
    const oursRuns = [await cycles(oursCycle), 0];
    const theirsRuns = [await cycles(theirsCycle), 0];
    oursRuns[1] = await cycles(oursCycle);
    theirsRuns[1] = await cycles(theirsCycle);
    const ours = Math.max(...oursRuns);
    const theirs = Math.max(...theirsRuns);
    const ratio = ours / theirs;
    console.log('\nmutex benchmark (acquire + release)');
    console.log(`| implementation | cycles/s | ratio | goal |`);
    console.log('|---|---|---|---|');
    console.log(
      `| quorumvote RedisMutex (fencing tokens) | ${Math.round(ours)} | ${ratio.toFixed(2)} | ≥ 1.00 |`,
    );
    console.log(`| redis-semaphore Mutex | ${Math.round(theirs)} | 1.00 | anchor |`);
    writeResult('mutex', { machine: machine(), workers: WORKERS, ours, theirs, ratio, met: ratio >= 1 });
  } finally {
    redis.disconnect();
    await cluster.dispose();
  }
}

runBench(main);
