import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError } from '../errors';
import { loginThrottleKeys } from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';
import { loadSettings } from '../settings/load';

/**
 * Login back-off per user name and per client address (`POST /auth/token`). Each
 * guess costs the server a memory-hard scrypt run, so unlimited guessing is both a
 * password attack and a CPU attack: past a few free attempts, a subject must wait
 * before the next one, and the wait doubles with every further attempt. The state
 * lives in Redis (login-throttle.lua), so every function instance enforces the same.
 */
export interface BackoffRule {
  /** Attempts before back-off starts (the one reaching it starts the first wait). */
  free: number;
  /** First wait (ms); each further attempt doubles it. */
  baseMs: number;
  /** Longest wait (ms). */
  maxMs: number;
  /** How long a subject is remembered once its wait is over (ms). */
  idleMs: number;
}

export interface LoginThrottleConfig {
  /** Per user name: a success resets it. */
  user: BackoffRule;
  /** Per client address: a success refunds that attempt but never lifts a wait in force. */
  address: BackoffRule;
}

const admitScript = defineScript('loginThrottle', {
  keys: 1,
  parse: (r) => reply.integer('loginThrottle', r),
});
const settleScript = defineScript('loginSettle', { keys: 1, parse: (r) => reply.integer('loginSettle', r) });

/**
 * Defaults: a user gets 5 attempts, then waits 1 s, 2 s, 4 s... (at most 15 min); an
 * address gets 20 (several people may share one), then the same doubling.
 */
export function loadLoginThrottleConfig(env: NodeJS.ProcessEnv = process.env): LoginThrottleConfig {
  const s = loadSettings(env);
  return {
    user: {
      free: s.LOGIN_USER_FREE,
      baseMs: s.LOGIN_USER_BACKOFF_MS,
      maxMs: s.LOGIN_USER_MAX_BACKOFF_MS,
      idleMs: s.LOGIN_USER_FORGET_MS,
    },
    address: {
      free: s.LOGIN_ADDRESS_FREE,
      baseMs: s.LOGIN_ADDRESS_BACKOFF_MS,
      maxMs: s.LOGIN_ADDRESS_MAX_BACKOFF_MS,
      idleMs: s.LOGIN_ADDRESS_FORGET_MS,
    },
  };
}

/** `429 rate_limited` with the wait, in whole seconds, as `Retry-After`. */
export function loginRateLimited(waitMs: number, what: string): ApiError {
  const s = Math.max(1, Math.ceil(waitMs / 1000));
  return new ApiError(
    429,
    'rate_limited',
    `Too many login attempts for this ${what}; retry in ${s} s`,
    undefined,
    { 'Retry-After': String(s) },
  );
}

export class LoginThrottle {
  constructor(
    private readonly redis: Cluster | Redis,
    private readonly clock: Clock,
    private readonly config: LoginThrottleConfig,
  ) {}

  private admitOne(key: string, rule: BackoffRule): Promise<number> {
    return runScript(
      this.redis,
      admitScript,
      [key],
      [this.clock.now(), rule.free, rule.baseMs, rule.maxMs, rule.idleMs],
    );
  }

  /**
   * Counts one attempt against the address, then the user name; throws `429` when
   * either is backing off. Call it before any password hashing.
   */
  async admit(username: string, address: string): Promise<void> {
    const addressKey = loginThrottleKeys.address(address);
    const addressWait = await this.admitOne(addressKey, this.config.address);
    if (addressWait > 0) throw loginRateLimited(addressWait, 'address');
    const userWait = await this.admitOne(loginThrottleKeys.user(username), this.config.user);
    if (userWait > 0) {
      // Refused without a guess: it must not count against the address.
      await runScript(this.redis, settleScript, [addressKey], ['refund']);
      throw loginRateLimited(userWait, 'user');
    }
  }

  private failOne(key: string, rule: BackoffRule): Promise<number> {
    return runScript(
      this.redis,
      settleScript,
      [key],
      ['failed', this.clock.now(), rule.free, rule.baseMs, rule.maxMs, rule.idleMs],
    );
  }

  /**
   * A wrong password: the back-off its count calls for starts now. Without this, a
   * check slower than the first back-off (scrypt under load) would let the next guess
   * in at once.
   */
  async failed(username: string, address: string): Promise<void> {
    await Promise.all([
      this.failOne(loginThrottleKeys.user(username), this.config.user),
      this.failOne(loginThrottleKeys.address(address), this.config.address),
    ]);
  }

  /** A successful login: the user's back-off ends, the address gets its attempt back. */
  async succeeded(username: string, address: string): Promise<void> {
    await Promise.all([
      runScript(this.redis, settleScript, [loginThrottleKeys.user(username)], ['reset']),
      runScript(this.redis, settleScript, [loginThrottleKeys.address(address)], ['refund']),
    ]);
  }

  /**
   * Voting-credential sign-ins (`POST /auth/credential`) are throttled per client
   * address only: a 160-bit credential cannot be guessed, so there is no per-name
   * back-off to keep, but a flood from one address still waits (same rule as the
   * address's password logins, in its own bucket).
   */
  async admitCredential(address: string): Promise<void> {
    const wait = await this.admitOne(loginThrottleKeys.credentialAddress(address), this.config.address);
    if (wait > 0) throw loginRateLimited(wait, 'address');
  }

  /** An unknown, revoked or reissued credential: the address's back-off its count calls for starts now. */
  async credentialFailed(address: string): Promise<void> {
    await this.failOne(loginThrottleKeys.credentialAddress(address), this.config.address);
  }

  /** A credential sign-in that worked: the address gets its attempt back. */
  async credentialSucceeded(address: string): Promise<void> {
    await runScript(this.redis, settleScript, [loginThrottleKeys.credentialAddress(address)], ['refund']);
  }
}
