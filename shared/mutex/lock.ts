import type { Clock } from '../clock';
import type { ScriptClient } from '../redis/scripts';
import { type LockLossReason, LockLostError, LockNotOwnedError } from './errors';
import type { MutexKeys } from './keys';
import { extendOnce, releaseOnce } from './mutex-scripts';

/** What a {@link Lock} needs from the mutex that made it. */
export interface LockContext {
  readonly redis: ScriptClient;
  /** Monotonic milliseconds: leases are durations, so never a clock that can be stepped. */
  readonly clock: Clock;
  /** Safety margin subtracted from every lease, for clock rate differences and latency. */
  readonly driftMs: (ttlMs: number) => number;
}

/**
 * A held lock: the handle `acquire` returns and `withLock` passes to its callback.
 *
 * - `fencingToken` is strictly greater than every token issued before for the same
 *   resource: pass it to fenced writes (`check_fence` in Lua) so a holder that lost the
 *   lock without knowing it (pause, partition) cannot write over a newer holder.
 * - `signal` aborts, with a {@link LockLostError} as its reason, as soon as the lock is
 *   known or presumed lost: an extension was refused, or the local lease ran out before
 *   one was confirmed. Long work should watch it and stop.
 *
 * What the lock does not promise: Redis replicates asynchronously, so a failover can
 * drop the lock key or the fence counter's last INCR (then two holders, or one token
 * issued twice, are possible). Correctness rests on fenced, idempotent writes; the
 * lock only makes conflicts rare (ARCHITECTURE "Be honest about Redis").
 */
export class Lock {
  /**
   * Made on first use of `signal`, and the expiry timer armed only then (or with the
   * watchdog): most locks are taken and released within milliseconds, and an
   * AbortController plus a timer per lock cost more than the lock's own Redis calls.
   * Without them, expiry is checked when `lost`, `throwIfLost` or `extend` look.
   */
  private controller: AbortController | undefined;
  private lossError: LockLostError | undefined;
  private timed = false;
  private isLost = false;
  private isReleased = false;
  private validUntilMs: number;
  private expiryTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private watchdogIntervalMs = 0;
  /** Bumped by stopWatchdog so a tick still in flight does not reschedule. */
  private watchdogRun = 0;

  /** @internal Made by `RedisMutex`; `acquiredAtMs` is when the winning attempt was sent. */
  constructor(
    private readonly ctx: LockContext,
    /** The resource name as given to the mutex. */
    readonly resource: string,
    /** The lock key and the fence counter key (same slot). */
    readonly keys: MutexKeys,
    /** This holder's random token: the lock key's value while held. */
    readonly token: string,
    /** Monotonic per resource; see the class comment. */
    readonly fencingToken: number,
    /** Lease length used by `extend()` and the watchdog. */
    readonly ttlMs: number,
    acquiredAtMs: number,
  ) {
    this.validUntilMs = acquiredAtMs + ttlMs - ctx.driftMs(ttlMs);
  }

  /** Aborts (reason: {@link LockLostError}) when the lock is lost; never on a normal release. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.lossError) this.controller.abort(this.lossError);
      else this.startTiming();
    }
    return this.controller.signal;
  }

  /** True once the lock is known or presumed lost. */
  get lost(): boolean {
    this.checkExpiry();
    return this.isLost;
  }

  /** True once `release()` has run. */
  get released(): boolean {
    return this.isReleased;
  }

  private get held(): boolean {
    return !this.isLost && !this.isReleased;
  }

  /** Until when (mutex clock, ms) the lease is safely ours, drift margin included. */
  get validUntil(): number {
    return this.validUntilMs;
  }

  /** Milliseconds of safe lease left (0 when lost or released). */
  remainingMs(): number {
    return this.held ? Math.max(0, this.validUntilMs - this.ctx.clock.now()) : 0;
  }

  /** Throws the {@link LockLostError} when the lock is lost: a cheap check between steps of long work. */
  throwIfLost(): void {
    this.checkExpiry();
    if (this.isLost) throw this.lossError;
  }

  /**
   * Renews the lease to `ttlMs` from now (compare-and-extend). Throws
   * {@link LockNotOwnedError} when Redis no longer has this token (the lock is then
   * marked lost), {@link LockLostError} when it was already lost, and Redis errors
   * unchanged (the lease then simply runs on; the expiry timer still guards it).
   */
  async extend(ttlMs: number = this.ttlMs): Promise<void> {
    if (this.isReleased) throw new LockNotOwnedError(this.resource, 'extend', 'released');
    this.throwIfLost();
    const sentAt = this.ctx.clock.now();
    const result = await extendOnce(this.ctx.redis, this.keys, this.token, ttlMs);
    if (this.isReleased) return; // released while in flight: the answer changes nothing
    this.throwIfLost();
    if (result !== 'ok') {
      this.markLost(result);
      throw new LockNotOwnedError(this.resource, 'extend', result);
    }
    this.validUntilMs = sentAt + ttlMs - this.ctx.driftMs(ttlMs);
    if (this.timed) this.armExpiry();
  }

  /**
   * Frees the lock (compare-and-delete) and stops the watchdog; later calls are no-ops.
   * Throws {@link LockNotOwnedError} when Redis no longer has this token: the lease had
   * expired (and maybe another holder came and went), so the lock is also marked lost.
   * Redis errors reject unchanged; the lease then runs out by itself.
   *
   * Even a lock presumed lost (local lease ran out first) releases normally when Redis
   * still had its token: nobody else can have held it in between.
   */
  async release(): Promise<void> {
    if (this.isReleased) return;
    this.isReleased = true;
    this.stopTimers();
    const result = await releaseOnce(this.ctx.redis, this.keys, this.token);
    if (result !== 'ok') {
      this.isLost = true;
      this.abort(result);
      throw new LockNotOwnedError(this.resource, 'release', result);
    }
  }

  /**
   * Extends the lease every `intervalMs` (default ttl/3) until release or loss. A
   * refused extension marks the lock lost at once; failed calls (Redis unreachable)
   * are retried at the next tick, and if no extension is confirmed before the lease
   * runs out the lock is marked lost (`expired`).
   */
  startWatchdog(intervalMs: number = Math.max(1, Math.floor(this.ttlMs / 3))): void {
    if (!this.held || this.watchdogTimer) return;
    this.startTiming();
    this.watchdogIntervalMs = intervalMs;
    this.scheduleWatchdog();
  }

  /** Stops extending; the lease then runs out by itself unless released. */
  stopWatchdog(): void {
    clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
    this.watchdogIntervalMs = 0;
    this.watchdogRun++;
  }

  private scheduleWatchdog(): void {
    const run = this.watchdogRun;
    this.watchdogTimer = setTimeout(() => void this.watchdogTick(run), this.watchdogIntervalMs);
    this.watchdogTimer.unref();
  }

  private async watchdogTick(run: number): Promise<void> {
    if (!this.held) return;
    try {
      await this.extend();
    } catch {
      // Refusal: extend() already marked the lock lost. Anything else: retry next
      // tick; the expiry timer decides when it is too late.
    }
    if (this.held && run === this.watchdogRun) this.scheduleWatchdog();
  }

  /** From now on, loss by expiry is noticed by a timer (someone may be listening). */
  private startTiming(): void {
    if (this.timed) return;
    this.timed = true;
    if (this.held) this.armExpiry();
  }

  private checkExpiry(): void {
    if (this.held && this.ctx.clock.now() >= this.validUntilMs) this.markLost('expired');
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    const left = this.validUntilMs - this.ctx.clock.now();
    if (left <= 0) {
      this.markLost('expired');
      return;
    }
    this.expiryTimer = setTimeout(() => this.markLost('expired'), left);
    this.expiryTimer.unref();
  }

  private markLost(reason: LockLossReason): void {
    if (!this.held) return;
    this.isLost = true;
    this.stopTimers();
    this.abort(reason);
  }

  private abort(reason: LockLossReason): void {
    if (this.lossError) return;
    this.lossError = new LockLostError(this.resource, reason);
    this.controller?.abort(this.lossError);
  }

  private stopTimers(): void {
    this.stopWatchdog();
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }
}
