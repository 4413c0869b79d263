import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { type ManagedProcess, spawnManaged } from '../../local/processes';
import { RedisMutex } from '../../shared/mutex';
import { deleteNamespace, testRedis, uniqueNs } from '../helpers/redis';

/**
 * The mutex across real OS processes (test/helpers/mutex-worker.ts), each with its
 * own Redis connections, event loop and timers, as coordinators would be.
 */
const root = join(__dirname, '..', '..');
const worker = join(root, 'test', 'helpers', 'mutex-worker.ts');

interface WorkerEvent {
  pid: number;
  event: string;
  fencingToken?: number;
  iterations?: number;
}

describe('RedisMutex across processes', () => {
  let redis: Cluster;
  const namespaces: string[] = [];
  const procs: ManagedProcess[] = [];
  const output: string[] = [];

  function startWorker(ns: string, env: Record<string, string>, onEvent?: (e: WorkerEvent) => void) {
    const proc = spawnManaged(`mutex-worker-${procs.length}`, process.execPath, ['--import', 'tsx', worker], {
      cwd: root,
      env: { ...process.env, MUTEX_NS: ns, ...env },
      onLine: (line, stream) => {
        output.push(`${stream}: ${line}`);
        if (stream === 'stdout' && line.startsWith('{')) onEvent?.(JSON.parse(line) as WorkerEvent);
      },
    });
    procs.push(proc);
    return proc;
  }

  /** Fails with the workers' output if `p` takes longer than `ms`. */
  async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms:\n${output.join('\n')}`)), ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  beforeAll(() => {
    redis = testRedis();
  });

  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop(2000)));
    output.length = 0;
  });

  afterAll(async () => {
    for (const ns of namespaces) await deleteNamespace(redis, ns);
    await redis.quit();
  });

  /** Runs `workers` loop workers from one start signal; resolves when all exited cleanly. */
  async function runLoop(ns: string, mode: 'loop' | 'unlocked', workers: number, iterations: number) {
    const done: WorkerEvent[] = [];
    let ready = 0;
    let allReady: () => void = () => {};
    const readyP = new Promise<void>((resolve) => {
      allReady = resolve;
    });
    const env = { MUTEX_MODE: mode, ITERATIONS: String(iterations), GAP_MS: '5', TTL_MS: '5000' };
    const started = Array.from({ length: workers }, () =>
      startWorker(ns, env, (e) => {
        if (e.event === 'ready' && ++ready === workers) allReady();
        if (e.event === 'done') done.push(e);
      }),
    );
    await within(readyP, 30_000, 'worker start-up');
    await redis.set(`{${ns}}:go`, '1');
    const codes = await within(Promise.all(started.map((p) => p.exited)), 45_000, 'the workers');
    expect({ codes, output: codes.every((c) => c === 0) ? [] : output }).toEqual({
      codes: started.map(() => 0),
      output: [],
    });
    expect(done).toHaveLength(workers);
  }

  test('4 processes incrementing one counter under the lock never overlap and lose nothing', async () => {
    const ns = uniqueNs('mutex-procs');
    namespaces.push(ns);
    const workers = 4;
    const iterations = 25;
    await runLoop(ns, 'loop', workers, iterations);

    const k = (name: string): string => `{${ns}}:${name}`;
    expect(await redis.get(k('counter'))).toBe(String(workers * iterations));
    expect(await redis.get(k('overlaps'))).toBeNull();
    expect(await redis.get(k('inside'))).toBe('0');
    const tokens = (await redis.lrange(k('tokens'), 0, -1)).map(Number);
    expect(tokens).toHaveLength(workers * iterations);
    // In critical-section order, every token is higher than the one before.
    expect(tokens.every((t, i) => i === 0 || t > tokens[i - 1]!)).toBe(true);
  });

  test('control: the same workload without the lock overlaps and loses increments', async () => {
    // Shows the check above can fail: the gap inside the critical section is wide enough.
    const ns = uniqueNs('mutex-control');
    namespaces.push(ns);
    await runLoop(ns, 'unlocked', 4, 25);
    expect(Number(await redis.get(`{${ns}}:overlaps`))).toBeGreaterThan(0);
    expect(Number(await redis.get(`{${ns}}:counter`))).toBeLessThan(100);
  });

  test("a SIGKILLed holder's lock expires after its ttl and the next holder gets a higher token", async () => {
    const ns = uniqueNs('mutex-kill');
    namespaces.push(ns);
    const resource = `${ns}:res`;
    const ttlMs = 1500;
    let heldToken: number | undefined;
    const held = new Promise<void>((resolve) => {
      startWorker(ns, { MUTEX_MODE: 'hold', TTL_MS: String(ttlMs) }, (e) => {
        if (e.event === 'held') {
          heldToken = e.fencingToken;
          resolve();
        }
      });
    });
    await within(held, 20_000, 'the holder');
    const holder = procs[0]!;
    holder.signal('SIGKILL');
    expect(await within(holder.exited, 5000, 'the kill')).toBe('SIGKILL');

    // The waiter's sleeps are counted, not timed: its backoff is capped by the killed
    // holder's remaining lease, so all it asks to sleep adds up to about that lease, not
    // to its 10 s timeout (elapsed time on a shared machine proves nothing; it is printed).
    const slept: number[] = [];
    const mutex = new RedisMutex(redis, {
      retryDelayMs: 20,
      maxRetryDelayMs: 100,
      sleep: (ms) => {
        slept.push(ms);
        return new Promise((r) => setTimeout(r, ms));
      },
    });
    expect(await mutex.tryAcquire(resource)).toBeNull(); // nobody released it: the lease still runs

    const started = Date.now();
    const lock = await mutex.acquire(resource, { acquireTimeoutMs: 10_000 });
    try {
      const sleptMs = slept.reduce((a, b) => a + b, 0);
      // Each sleep ≤ PTTL seen + one jitter step (20 ms); +1 per sleep for rounding.
      expect(sleptMs).toBeLessThanOrEqual(ttlMs + 20 + slept.length);
      process.stdout.write(
        `[mutex-processes] killed holder: acquired after ${Date.now() - started} ms (lease ${ttlMs} ms, ${slept.length} sleeps, ${sleptMs} ms asked)\n`,
      );
      expect(lock.fencingToken).toBeGreaterThan(heldToken!);
    } finally {
      await lock.release();
    }
  });
});
