import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { ManualClock } from '../../shared/clock';
import {
  fencedWrite,
  type Lock,
  LockLostError,
  LockNotAcquiredError,
  LockNotOwnedError,
  mutexKeys,
  RedisMutex,
} from '../../shared/mutex';
import { defineScript, hashedPart, runScript } from '../../shared/redis/scripts';
import { deleteNamespace, testRedis, uniqueNs } from '../helpers/redis';

/** Resolves when the signal aborts; fails the test if that takes longer than `ms`. */
function aborted(signal: AbortSignal, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(signal.reason);
    const timer = setTimeout(() => reject(new Error(`signal not aborted within ${ms} ms`)), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(signal.reason);
    });
  });
}

describe('mutexKeys', () => {
  test.each([
    ['e:abc:3', '{e:abc:3}:lock', '{e:abc:3}:lock-fence'],
    ['{e:abc:3}', '{e:abc:3}:lock', '{e:abc:3}:lock-fence'],
    ['part:{e:abc:3}:x', 'part:{e:abc:3}:x:lock', 'part:{e:abc:3}:x:lock-fence'],
    ['odd{}name', '{odd{}name}:lock', '{odd{}name}:lock-fence'],
  ])('%s → %s', (resource, lock, fence) => {
    const keys = mutexKeys(resource);
    expect(keys).toEqual({ lock, fence });
    expect(hashedPart(keys.lock)).toBe(hashedPart(keys.fence));
  });

  test('an empty resource is refused', () => {
    expect(() => mutexKeys('')).toThrow(RangeError);
  });
});

describe('RedisMutex on the Redis Cluster', () => {
  let redis: Cluster;
  let mutex: RedisMutex;
  const ns = uniqueNs('mutex');
  const res = (name: string): string => `${ns}:${name}`;
  const held: Lock[] = [];
  const track = (lock: Lock): Lock => {
    held.push(lock);
    return lock;
  };

  beforeAll(() => {
    redis = testRedis();
    mutex = new RedisMutex(redis, { retryDelayMs: 10, maxRetryDelayMs: 50 });
  });

  afterEach(async () => {
    // Stop watchdogs and timers of anything a failed test left held.
    await Promise.all(held.splice(0).map((l) => l.release().catch(() => undefined)));
  });

  afterAll(async () => {
    await deleteNamespace(redis, ns);
    await redis.quit();
  });

  test('acquire sets the token with a ttl; tryAcquire refuses while held; release frees it', async () => {
    const r = res('basic');
    const lock = track(await mutex.acquire(r, { ttlMs: 5000 }));
    expect(lock.fencingToken).toBe(1);
    expect(lock.keys).toEqual(mutexKeys(r));
    expect(await redis.get(lock.keys.lock)).toBe(lock.token);
    const pttl = await redis.pttl(lock.keys.lock);
    expect(pttl).toBeGreaterThan(4000);
    expect(pttl).toBeLessThanOrEqual(5000);

    expect(await mutex.tryAcquire(r)).toBeNull();

    await lock.release();
    expect(lock.released).toBe(true);
    expect(lock.lost).toBe(false);
    expect(await redis.get(lock.keys.lock)).toBeNull();
    await lock.release(); // a second release is a no-op

    const next = track((await mutex.tryAcquire(r))!);
    expect(next).not.toBeNull();
    expect(next.fencingToken).toBe(2);
    expect(next.token).not.toBe(lock.token);
    await next.release();
  });

  test('fencing tokens strictly increase across acquirers on separate connections', async () => {
    const r = `{${ns}:p:3}`; // a partition-style resource that carries its own hash tag
    const clients = [testRedis(), testRedis(), testRedis()];
    try {
      const mutexes = clients.map((c) => new RedisMutex(c, { retryDelayMs: 5, maxRetryDelayMs: 20 }));
      const order: number[] = [];
      await Promise.all(
        mutexes.map(async (m) => {
          for (let i = 0; i < 10; i++) {
            await m.withLock(r, async (lock) => {
              order.push(lock.fencingToken);
              await sleep(1);
            });
          }
        }),
      );
      expect(order).toHaveLength(30);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(new Set(order).size).toBe(30);
      expect(await redis.get(`{${ns}:p:3}:lock-fence`)).toBe('30');
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  test("a dead holder's lock expires and the next holder gets a higher token", async () => {
    const r = res('dead');
    const dead = track(await mutex.acquire(r, { ttlMs: 300 })); // never released, no watchdog
    expect(await mutex.tryAcquire(r)).toBeNull();

    // The waiter's backoff is capped by the holder's remaining lease (the PTTL each
    // attempt returns): all it asks to sleep adds up to about the 300 ms lease, not to
    // its 5 s timeout. Counted from its sleeps, not timed (elapsed time on a shared
    // machine proves nothing); the time is printed.
    const slept: number[] = [];
    const waiter = new RedisMutex(redis, {
      sleep: (ms) => {
        slept.push(ms);
        return sleep(ms);
      },
    });
    const started = Date.now();
    const next = track(await waiter.acquire(r, { acquireTimeoutMs: 5000 }));
    expect(next.fencingToken).toBe(dead.fencingToken + 1);
    const sleptMs = slept.reduce((a, b) => a + b, 0);
    // Each sleep ≤ PTTL seen + one jitter step (retryDelayMs 50), and PTTL shrinks by at
    // least what was slept before; +1 per sleep for rounding and early timers.
    expect(sleptMs).toBeLessThanOrEqual(300 + 50 + slept.length);
    process.stdout.write(
      `[mutex] dead holder's 300 ms lease: acquired after ${Date.now() - started} ms (${slept.length} sleeps, ${sleptMs} ms asked)\n`,
    );

    // The old handle learns it lost the lock (its local lease ran out) ...
    expect(await aborted(dead.signal, 500)).toBeInstanceOf(LockLostError);
    expect(dead.lost).toBe(true);
    expect(() => dead.throwIfLost()).toThrow(LockLostError);
    // ... and cannot release or extend the new holder's lock.
    await expect(dead.extend()).rejects.toBeInstanceOf(LockLostError);
    await expect(dead.release()).rejects.toMatchObject({
      name: 'LockNotOwnedError',
      operation: 'release',
      found: 'held-by-other',
    });
    expect(await redis.get(next.keys.lock)).toBe(next.token);
    await next.release();
  });

  test('release and extend by a non-owner are refused with LockNotOwnedError', async () => {
    const r = res('owner');
    const lock = track(await mutex.acquire(r, { ttlMs: 5000 }));

    const release = mutex.release(r, 'not-the-token');
    await expect(release).rejects.toBeInstanceOf(LockNotOwnedError);
    await expect(release).rejects.toMatchObject({ code: 'lock_not_owned', found: 'held-by-other' });
    await expect(mutex.extend(r, 'not-the-token', 60_000)).rejects.toMatchObject({
      name: 'LockNotOwnedError',
      operation: 'extend',
      found: 'held-by-other',
    });
    expect(await redis.get(lock.keys.lock)).toBe(lock.token);
    expect(await redis.pttl(lock.keys.lock)).toBeLessThanOrEqual(5000);

    // The owner may, by handle or by token.
    await mutex.extend(r, lock.token, 8000);
    expect(await redis.pttl(lock.keys.lock)).toBeGreaterThan(5000);
    await lock.extend(); // back to the lock's own ttl
    expect(await redis.pttl(lock.keys.lock)).toBeLessThanOrEqual(5000);
    await lock.release();

    // Once released, the same token owns nothing.
    await expect(lock.extend()).rejects.toMatchObject({ name: 'LockNotOwnedError', found: 'released' });
    await expect(mutex.release(r, lock.token)).rejects.toMatchObject({ found: 'free' });
    await expect(mutex.extend(r, lock.token)).rejects.toMatchObject({ found: 'free' });
    expect(await redis.exists(lock.keys.lock)).toBe(0); // extend never revives an expired lock
  });

  test('acquire gives up with LockNotAcquiredError after its timeout', async () => {
    const r = res('timeout');
    const lock = track(await mutex.acquire(r));
    // An injected clock that only the waiter's sleeps move: it must give up exactly at
    // its timeout, never sleeping past it (asserted on the clock, not on elapsed time).
    const clock = new ManualClock(0);
    const slept: number[] = [];
    const waiter = new RedisMutex(redis, {
      clock,
      sleep: async (ms) => {
        slept.push(ms);
        clock.advance(ms);
      },
    });
    const err = await waiter.acquire(r, { acquireTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockNotAcquiredError);
    const e = err as LockNotAcquiredError;
    expect(e.code).toBe('lock_not_acquired');
    expect(e.waitedMs).toBe(200);
    expect(slept.reduce((a, b) => a + b, 0)).toBe(200);
    expect(e.attempts).toBe(slept.length + 1);
    expect(e.attempts).toBeGreaterThan(1);
    expect(e.cause).toBeUndefined(); // Redis answered every time: the lock was simply taken
    expect(await redis.get(lock.keys.lock)).toBe(lock.token);
    await lock.release();
  });

  test('acquire stops waiting when its signal aborts', async () => {
    const r = res('abort');
    const lock = track(await mutex.acquire(r));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    await expect(mutex.acquire(r, { acquireTimeoutMs: 5000, signal: controller.signal })).rejects.toThrow(
      'shutting down',
    );
    await lock.release();
  });

  test('retry delays follow the injected random and clock (exponential, equal jitter, capped)', async () => {
    const r = res('jitter');
    const holder = track(await mutex.acquire(r, { ttlMs: 10_000 }));
    const clock = new ManualClock(1_000);
    const delays: number[] = [];
    const scripted = new RedisMutex(redis, {
      clock,
      random: () => 0,
      retryDelayMs: 10,
      maxRetryDelayMs: 80,
      acquireTimeoutMs: 200,
      sleep: async (ms) => {
        delays.push(ms);
        clock.advance(ms);
      },
    });
    const err = (await scripted.acquire(r).catch((e: unknown) => e)) as LockNotAcquiredError;
    expect(err).toBeInstanceOf(LockNotAcquiredError);
    // ceiling 10, 20, 40, 80, 80, ... halved by random() = 0; the last sleep is cut to the deadline.
    expect(delays).toEqual([5, 10, 20, 40, 40, 40, 40, 5]);
    expect(err.attempts).toBe(9);
    expect(err.waitedMs).toBe(200);
    await holder.release();
  });

  test("a stale holder's fenced writes are refused once a newer holder acquired or wrote", async () => {
    const r = `{${ns}:p:7}`;
    const fenceKey = `{${ns}:p:7}:fence`;
    const key = `{${ns}:p:7}:data`;
    const stale = track(await mutex.acquire(r, { ttlMs: 300 }));
    expect(await fencedWrite(redis, { fenceKey, key, token: stale.fencingToken, value: 'stale-1' })).toEqual({
      written: true,
    });

    const fresh = track(await mutex.acquire(r, { acquireTimeoutMs: 5000 })); // after the stale lease expired
    expect(fresh.fencingToken).toBe(stale.fencingToken + 1);

    // Fenced by the mutex's own counter: refused as soon as the newer holder acquired.
    expect(
      await fencedWrite(redis, {
        fenceKey: stale.keys.fence,
        key,
        token: stale.fencingToken,
        value: 'stale-2',
      }),
    ).toEqual({ written: false, currentFence: fresh.fencingToken });

    // Fenced by a key only writers update (a partition's T:fence): refused once the newer holder wrote.
    expect(await fencedWrite(redis, { fenceKey, key, token: fresh.fencingToken, value: 'fresh' })).toEqual({
      written: true,
    });
    expect(await fencedWrite(redis, { fenceKey, key, token: stale.fencingToken, value: 'stale-3' })).toEqual({
      written: false,
      currentFence: fresh.fencingToken,
    });
    expect(await redis.get(key)).toBe('fresh');
    expect(await redis.get(fenceKey)).toBe(String(fresh.fencingToken));
    await fresh.release();
  });

  test('check_fence: missing fence is 0, equal tokens pass, older ones are refused, bad input aborts', async () => {
    const fenceKey = `{${ns}:fence}:f`;
    const key = `{${ns}:fence}:v`;
    const write = (token: number, value: string) => fencedWrite(redis, { fenceKey, key, token, value });
    expect(await write(0, 'a')).toEqual({ written: true });
    expect(await redis.get(fenceKey)).toBeNull(); // 0 = missing: nothing to record
    expect(await write(5, 'b')).toEqual({ written: true });
    expect(await write(5, 'c')).toEqual({ written: true }); // the same term/holder writes again
    expect(await write(4, 'd')).toEqual({ written: false, currentFence: 5 });
    expect(await write(12, 'e')).toEqual({ written: true });
    expect(await redis.get(fenceKey)).toBe('12');
    expect(await redis.get(key)).toBe('e');

    expect(() => write(1.5, 'x')).toThrow(RangeError);
    expect(() => write(-1, 'x')).toThrow(RangeError);

    // The Lua side refuses on its own, before writing anything.
    const raw = defineScript('mutexFencedWrite', { keys: 2, parse: (r) => r });
    await expect(runScript(redis, raw, [fenceKey, key], ['12.5', 'x'])).rejects.toThrow(
      /check_fence: token must be a non-negative integer/,
    );
    await redis.set(`{${ns}:fence}:bad`, 'not-a-number');
    await expect(runScript(redis, raw, [`{${ns}:fence}:bad`, key], ['99', 'x'])).rejects.toThrow(
      /holds a non-number/,
    );
    expect(await redis.get(key)).toBe('e');

    // Keys of different slots are refused before reaching Redis.
    await expect(runScript(redis, raw, [`{${ns}:a}:f`, `{${ns}:b}:v`], ['1', 'x'])).rejects.toThrow(
      /one hash tag/,
    );
  });

  test('scripts survive a SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const fenceKey = `{${ns}:pipe}:f`;
    const key = `{${ns}:pipe}:v`;
    expect(await fencedWrite(redis, { fenceKey, key, token: 1, value: 'a' })).toEqual({ written: true });
    // What a failover to a fresh replica or a restarted node looks like to the client.
    await Promise.all(redis.nodes('master').map((node) => node.script('FLUSH')));
    expect(await fencedWrite(redis, { fenceKey, key, token: 2, value: 'b' })).toEqual({ written: true });

    // Also when the cluster client wraps the NOSCRIPT answer because its retries of the
    // command are used up ("Too many Cluster redirections. Last error: ... NOSCRIPT"), as
    // at the end of a failover: maxRedirections 0 makes the first answer the last one.
    const exhausted = testRedis({ maxRedirections: 0 });
    try {
      await Promise.all(redis.nodes('master').map((node) => node.script('FLUSH')));
      const wrapped = await exhausted
        .evalsha('0'.repeat(40), 2, `{${ns}:wrap}:f`, `{${ns}:wrap}:v`, 1, 'x')
        .catch((e: unknown) => e as Error);
      expect(String(wrapped)).toMatch(/Too many Cluster redirections\. Last error: .*NOSCRIPT/);
      const wrap = { fenceKey: `{${ns}:wrap}:f`, key: `{${ns}:wrap}:v`, token: 1, value: 'w' };
      expect(await fencedWrite(exhausted, wrap)).toEqual({ written: true });
      expect(await redis.get(wrap.key)).toBe('w');
    } finally {
      exhausted.disconnect();
    }
  });

  test('withLock returns the result and releases; releases when fn throws', async () => {
    const r = res('with');
    const keys = mutexKeys(r);
    const result = await mutex.withLock(r, async (lock) => {
      expect(await redis.get(keys.lock)).toBe(lock.token);
      return lock.fencingToken * 10;
    });
    expect(result).toBe(10);
    expect(await redis.get(keys.lock)).toBeNull();

    await expect(
      mutex.withLock(r, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await redis.get(keys.lock)).toBeNull();
    const again = track((await mutex.tryAcquire(r))!);
    expect(again.fencingToken).toBe(3);
    await again.release();
  });

  test("the watchdog keeps a long task's lock past its ttl", async () => {
    const r = res('watchdog');
    const rival = new RedisMutex(redis);
    const result = await mutex.withLock(
      r,
      async (lock) => {
        for (let i = 0; i < 6; i++) {
          await sleep(150); // 900 ms in all: three times the ttl
          expect(await rival.tryAcquire(r)).toBeNull();
          expect(lock.signal.aborted).toBe(false);
        }
        expect(await redis.pttl(lock.keys.lock)).toBeGreaterThan(0);
        return 'done';
      },
      { ttlMs: 300 },
    );
    expect(result).toBe('done');
    expect(await redis.exists(mutexKeys(r).lock)).toBe(0);
  });

  test('a refused extension marks the lock lost and aborts its signal', async () => {
    const r = res('stolen');
    const lock = track(await mutex.acquire(r, { ttlMs: 600, watchdog: true }));
    await redis.set(lock.keys.lock, 'intruder', 'PX', 5000); // as if it expired and another took it
    const reason = await aborted(lock.signal, 1500);
    expect(reason).toBeInstanceOf(LockLostError);
    expect(reason).toMatchObject({ code: 'lock_lost', reason: 'held-by-other', resource: r });
    expect(lock.lost).toBe(true);
    expect(lock.remainingMs()).toBe(0);
    await expect(lock.release()).rejects.toBeInstanceOf(LockNotOwnedError);
    expect(await redis.get(lock.keys.lock)).toBe('intruder'); // never deletes another holder's lock
    await redis.del(lock.keys.lock);
  });

  test('withLock reports a lock lost during fn as LockLostError', async () => {
    const r = res('lost-in-fn');
    // fn that watches its signal
    await expect(
      mutex.withLock(
        r,
        async (lock) => {
          await redis.set(lock.keys.lock, 'intruder', 'PX', 5000);
          await aborted(lock.signal, 1500);
          lock.throwIfLost();
        },
        { ttlMs: 600 },
      ),
    ).rejects.toMatchObject({ name: 'LockLostError', reason: 'held-by-other' });
    expect(await redis.get(mutexKeys(r).lock)).toBe('intruder');

    // fn that ignores it: the release finds the lock not ours
    await redis.del(mutexKeys(r).lock);
    await expect(
      mutex.withLock(
        r,
        async (lock) => {
          await redis.set(lock.keys.lock, 'intruder', 'PX', 5000);
          return 'finished anyway';
        },
        { watchdog: false },
      ),
    ).rejects.toBeInstanceOf(LockLostError);
    expect(await redis.get(mutexKeys(r).lock)).toBe('intruder');
    await redis.del(mutexKeys(r).lock);
  });
});
