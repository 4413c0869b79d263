/**
 * A separate OS process that contends for a RedisMutex, for the multi-process tests
 * in test/integration/mutex-processes.test.ts. Run with `node --import tsx`.
 *
 * Environment:
 *   TEST_REDIS_SEEDS  the test cluster
 *   MUTEX_MODE        `loop`: ITERATIONS times withLock → read-modify-write of a shared
 *                     counter with an await gap in the middle; `unlocked`: the same
 *                     without the lock (the test's negative control); `hold`: acquire
 *                     once with TTL_MS, never release, wait to be killed
 *   MUTEX_NS          namespace: resource `<ns>:res`, bookkeeping keys under `{<ns>}`
 *   ITERATIONS, TTL_MS, GAP_MS (max random gap inside the critical section)
 *
 * Bookkeeping (test reads it): `{ns}:counter` (the counter), `{ns}:inside` (holders
 * inside the critical section right now), `{ns}:overlaps` (entries that found someone
 * inside), `{ns}:tokens` (fencing tokens in critical-section order).
 * Loop modes print {"event":"ready"} and start only once `{ns}:go` exists, so all
 * workers contend from the same moment. Prints JSON lines: {"event":"held",...} in
 * hold mode, {"event":"done",...} at the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseSeeds } from '../../shared/config';
import { RedisMutex } from '../../shared/mutex';
import { createRedisCluster } from '../../shared/redis/client';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`mutex-worker: ${name} is required`);
  return v;
};

const say = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ pid: process.pid, ...event })}\n`);
};

async function main(): Promise<void> {
  const ns = env('MUTEX_NS');
  const mode = env('MUTEX_MODE', 'loop');
  const ttlMs = Number(env('TTL_MS', '5000'));
  const redis = createRedisCluster(parseSeeds(env('TEST_REDIS_SEEDS')));
  const stop = (): void => {
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const mutex = new RedisMutex(redis, {
    ttlMs,
    acquireTimeoutMs: 30_000,
    retryDelayMs: 5,
    maxRetryDelayMs: 40,
  });
  const resource = `${ns}:res`;
  const k = (name: string): string => `{${ns}}:${name}`;

  if (mode === 'hold') {
    const lock = await mutex.acquire(resource);
    say({ event: 'held', fencingToken: lock.fencingToken });
    setInterval(() => {}, 60_000); // stay alive, holding, until killed
    return;
  }

  const iterations = Number(env('ITERATIONS', '25'));
  const gapMs = Number(env('GAP_MS', '5'));
  const criticalSection = async (fencingToken: number, throwIfLost: () => void): Promise<void> => {
    if ((await redis.incr(k('inside'))) !== 1) await redis.incr(k('overlaps'));
    const value = Number((await redis.get(k('counter'))) ?? '0');
    await sleep(Math.floor(Math.random() * (gapMs + 1))); // the window a broken lock would expose
    throwIfLost();
    await redis.set(k('counter'), String(value + 1));
    await redis.rpush(k('tokens'), String(fencingToken));
    await redis.decr(k('inside'));
  };
  say({ event: 'ready' });
  while (!(await redis.exists(k('go')))) await sleep(10);
  for (let i = 0; i < iterations; i++) {
    if (mode === 'unlocked') await criticalSection(0, () => {});
    else
      await mutex.withLock(resource, (lock) => criticalSection(lock.fencingToken, () => lock.throwIfLost()));
  }
  say({ event: 'done', iterations });
  await redis.quit();
}

main().catch((err: unknown) => {
  process.stderr.write(`mutex-worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
