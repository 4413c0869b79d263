import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { monotonicClock } from '../monotonic';
import { type ScriptClient, ScriptReplyError } from '../redis/scripts';
import { LockLostError, LockNotAcquiredError, LockNotOwnedError } from './errors';
import { type MutexKeys, mutexKeys } from './keys';
import { Lock, type LockContext } from './lock';
import { acquireOnce, extendOnce, releaseOnce } from './mutex-scripts';

/** Per-call settings of {@link RedisMutex.acquire}; each defaults to the mutex's. */
export interface AcquireOptions {
  /** Lease length in ms (positive integer). */
  ttlMs?: number;
  /** How long `acquire` keeps retrying before {@link LockNotAcquiredError} (0: one attempt). */
  acquireTimeoutMs?: number;
  /** First retry delay in ms; doubles per attempt (with jitter) up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Start the watchdog on the returned lock (default: false for acquire, true for withLock). */
  watchdog?: boolean;
  /** Cancels waiting; `acquire` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Settings of a {@link RedisMutex}; the injectable parts exist for deterministic tests. */
export interface MutexOptions extends Omit<AcquireOptions, 'signal' | 'watchdog'> {
  /** Lease margin as a fraction of ttl (plus 2 ms), as in Redlock: default 0.01. */
  driftFactor?: number;
  /** Uniform [0, 1) source for retry jitter. */
  random?: () => number;
  /** Monotonic ms for timeouts and local lease tracking (default `monotonicClock`). */
  clock?: Clock;
  /** Waits between attempts; must reject with `signal.reason` when aborted. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Makes the random holder token of each acquire call. */
  newToken?: () => string;
  /** Receives the few events worth a line (a release that could not reach Redis). */
  logger?: Logger;
}

type Settings = Required<Omit<AcquireOptions, 'signal' | 'watchdog'>>;

const defaults: Settings = {
  ttlMs: 10_000,
  acquireTimeoutMs: 10_000,
  retryDelayMs: 50,
  maxRetryDelayMs: 1_000,
};

/**
 * The distributed mutex of ARCHITECTURE "Mutex", on one Redis (Cluster) master per
 * resource: `SET NX PX` with a random token and the fencing-token INCR in one script,
 * compare-and-delete release, compare-and-extend, an acquire timeout with jittered
 * exponential retry, a watchdog for long work, and {@link RedisMutex.withLock}.
 *
 * Not Redlock: one master decides, so a failover can lose a lock (see {@link Lock}).
 * Writes that must not overlap carry `lock.fencingToken` into a fenced Lua script.
 */
export class RedisMutex {
  private readonly settings: Settings;
  private readonly ctx: LockContext;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly newToken: () => string;
  private readonly logger: Logger | undefined;

  constructor(redis: ScriptClient, options: MutexOptions = {}) {
    this.settings = checkSettings({
      ttlMs: options.ttlMs ?? defaults.ttlMs,
      acquireTimeoutMs: options.acquireTimeoutMs ?? defaults.acquireTimeoutMs,
      retryDelayMs: options.retryDelayMs ?? defaults.retryDelayMs,
      maxRetryDelayMs: options.maxRetryDelayMs ?? defaults.maxRetryDelayMs,
    });
    const driftFactor = options.driftFactor ?? 0.01;
    this.ctx = {
      redis,
      clock: options.clock ?? monotonicClock,
      driftMs: (ttlMs) => Math.ceil(ttlMs * driftFactor) + 2,
    };
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? abortableSleep;
    this.newToken = options.newToken ?? (() => randomUUID());
    this.logger = options.logger;
  }

  /**
   * Takes the lock, retrying until `acquireTimeoutMs`. Rejects with
   * {@link LockNotAcquiredError} on timeout (its `cause` is the last Redis error, if
   * attempts failed rather than found the lock taken), with `signal.reason` when
   * cancelled, and at once on errors that retrying cannot fix (script or usage errors).
   */
  async acquire(resource: string, options: AcquireOptions = {}): Promise<Lock> {
    const s = this.resolve(options);
    const keys = mutexKeys(resource);
    const token = this.newToken();
    const clock = this.ctx.clock;
    const start = clock.now();
    let attempts = 0;
    let failedAttempts = 0;
    let lastError: unknown;
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        attempts++;
        const sentAt = clock.now();
        let pttl = -1;
        try {
          const result = await acquireOnce(this.ctx.redis, keys, token, s.ttlMs);
          if (result.acquired)
            return this.makeLock(resource, keys, token, result.fencingToken, s, sentAt, options);
          pttl = result.pttl;
          lastError = undefined;
        } catch (err) {
          if (!isTransient(err)) throw err;
          failedAttempts++;
          lastError = err;
        }
        const now = clock.now();
        const left = start + s.acquireTimeoutMs - now;
        if (left <= 0) {
          throw new LockNotAcquiredError(
            resource,
            now - start,
            attempts,
            lastError ? { cause: lastError } : {},
          );
        }
        await this.sleep(Math.min(left, this.retryDelay(attempts, pttl, s)), options.signal);
      }
    } catch (err) {
      // An attempt that failed on the client may still have run on Redis (STACK.md):
      // free our token so such a ghost acquisition does not block others for a lease.
      if (failedAttempts > 0) void this.forget(keys, token);
      throw err;
    }
  }

  /** One attempt: the lock, or null when someone else holds it. Redis errors reject. */
  async tryAcquire(
    resource: string,
    options: Omit<AcquireOptions, 'acquireTimeoutMs'> = {},
  ): Promise<Lock | null> {
    try {
      return await this.acquire(resource, { ...options, acquireTimeoutMs: 0 });
    } catch (err) {
      if (err instanceof LockNotAcquiredError && err.cause === undefined) return null;
      if (err instanceof LockNotAcquiredError) throw err.cause;
      throw err;
    }
  }

  /**
   * Runs `fn` under the lock and always releases it, whether `fn` resolves or throws.
   * The watchdog is on by default, so `fn` may outlive the ttl; it should watch
   * `lock.signal` (or call `lock.throwIfLost()`) and stop when the lock is lost.
   *
   * Resolves with `fn`'s result. Rejects with `fn`'s error when it throws (a release
   * failure then is not reported), and with {@link LockLostError} when `fn` finished but
   * the release found the lock no longer ours: the work may have overlapped another
   * holder's. A release that cannot reach Redis is only logged: the lease runs out.
   */
  async withLock<T>(
    resource: string,
    fn: (lock: Lock) => Promise<T> | T,
    options: AcquireOptions = {},
  ): Promise<T> {
    const lock = await this.acquire(resource, { ...options, watchdog: options.watchdog ?? true });
    let result: T;
    try {
      result = await fn(lock);
    } catch (err) {
      await lock.release().catch(() => undefined);
      throw err;
    }
    try {
      await lock.release();
    } catch (err) {
      if (err instanceof LockNotOwnedError) {
        throw new LockLostError(resource, err.found === 'free' ? 'free' : 'held-by-other', { cause: err });
      }
      this.logger?.warn('mutex release failed; the lease will expire', { resource, err: String(err) });
    }
    return result;
  }

  /**
   * Releases by token, for a holder that kept only its token (e.g. across a restart).
   * Throws {@link LockNotOwnedError} when that token does not hold the lock.
   */
  async release(resource: string, token: string): Promise<void> {
    const result = await releaseOnce(this.ctx.redis, mutexKeys(resource), token);
    if (result !== 'ok') throw new LockNotOwnedError(resource, 'release', result);
  }

  /** Extends by token; throws {@link LockNotOwnedError} when that token does not hold the lock. */
  async extend(resource: string, token: string, ttlMs: number = this.settings.ttlMs): Promise<void> {
    checkTtl(ttlMs);
    const result = await extendOnce(this.ctx.redis, mutexKeys(resource), token, ttlMs);
    if (result !== 'ok') throw new LockNotOwnedError(resource, 'extend', result);
  }

  private makeLock(
    resource: string,
    keys: MutexKeys,
    token: string,
    fencingToken: number,
    s: Settings,
    sentAt: number,
    options: AcquireOptions,
  ): Lock {
    const lock = new Lock(this.ctx, resource, keys, token, fencingToken, s.ttlMs, sentAt);
    if (options.watchdog) lock.startWatchdog();
    return lock;
  }

  // Exponential backoff with equal jitter, never sleeping much past the holder's lease.
  private retryDelay(attempt: number, pttl: number, s: Settings): number {
    const ceiling = Math.min(s.maxRetryDelayMs, s.retryDelayMs * 2 ** Math.min(attempt - 1, 20));
    let delay = ceiling / 2 + (this.random() * ceiling) / 2;
    if (pttl >= 0) delay = Math.min(delay, pttl + this.random() * s.retryDelayMs);
    return Math.max(1, Math.round(delay));
  }

  private resolve(options: AcquireOptions): Settings {
    return checkSettings({
      ttlMs: options.ttlMs ?? this.settings.ttlMs,
      acquireTimeoutMs: options.acquireTimeoutMs ?? this.settings.acquireTimeoutMs,
      retryDelayMs: options.retryDelayMs ?? this.settings.retryDelayMs,
      maxRetryDelayMs: options.maxRetryDelayMs ?? this.settings.maxRetryDelayMs,
    });
  }

  private async forget(keys: MutexKeys, token: string): Promise<void> {
    try {
      await releaseOnce(this.ctx.redis, keys, token);
    } catch {
      // Best effort: the ghost lease, if any, expires by itself.
    }
  }
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)
    throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
}

function checkSettings(s: Settings): Settings {
  checkTtl(s.ttlMs);
  for (const [name, v] of Object.entries(s)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${v}`);
  }
  return s;
}

// Redis errors that a later attempt can outlive; anything else (a script's own error,
// a bad reply, bad arguments) fails the same way every time.
const transientReply = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|BUSY|NOSCRIPT|MOVED|ASK)\b/;

function isTransient(err: unknown): boolean {
  if (err instanceof ScriptReplyError || err instanceof TypeError || err instanceof RangeError) return false;
  if (err instanceof Error && err.name === 'ReplyError') return transientReply.test(err.message);
  return true;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
