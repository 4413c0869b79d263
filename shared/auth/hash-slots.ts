import { unavailable } from '../errors';
import { loadSettings } from '../settings/load';

/**
 * A small per-process bound on concurrent password hashing. scrypt at OWASP cost needs
 * 128 MiB and ~0.4 s of one core per run: without a bound, a flood of logins (even
 * ones the throttle would later refuse) piles hashes onto the thread pool and the CPU
 * that vote intake needs. Up to `max` hashes run at once, up to `maxWaiting` callers
 * wait (at most `waitMs`); anyone beyond that is told to come back (`503` with
 * `Retry-After`) instead of joining an unbounded queue.
 */
export interface HashSlotsOptions {
  /** Hashes at once (per process). */
  max: number;
  /** Callers that may wait for a slot. */
  maxWaiting: number;
  /** Longest wait for a slot (ms). */
  waitMs: number;
}

/**
 * `LOGIN_HASH_CONCURRENCY` (1), `LOGIN_HASH_QUEUE` (4), `LOGIN_HASH_WAIT_MS` (2000).
 * One at a time: locally every function shares one process on 2 cores, and a Lambda
 * instance serves one request at a time anyway; one hash leaves the other core to intake.
 */
export function loadHashSlotsOptions(env: NodeJS.ProcessEnv = process.env): HashSlotsOptions {
  const s = loadSettings(env);
  return { max: s.LOGIN_HASH_CONCURRENCY, maxWaiting: s.LOGIN_HASH_QUEUE, waitMs: s.LOGIN_HASH_WAIT_MS };
}

export class HashSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly options: HashSlotsOptions) {}

  /** Hashes running right now (for tests and metrics). */
  get active(): number {
    return this.running;
  }

  /** Runs `fn` in a slot, or throws `503 unavailable` (Retry-After: 1) when none frees up in time. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private busy(): Error {
    return unavailable('Too many logins are being checked right now; retry shortly', 1);
  }

  private acquire(): Promise<void> {
    if (this.running < this.options.max) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(this.busy());
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(this.busy());
      }, this.options.waitMs);
      this.waiting.push(wake);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `running` stays the same.
    if (next) next();
    else this.running--;
  }
}
