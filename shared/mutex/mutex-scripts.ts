import { type ScriptClient, defineScript, reply, runScript } from '../redis/scripts';
import type { MutexKeys } from './keys';

/**
 * Typed wrappers of the mutex Lua scripts (shared/redis/lua/mutex-*.lua): they build
 * KEYS/ARGV and check the reply's shape. The lock classes build on these.
 */

/** Outcome of one acquire attempt. */
export type AcquireReply = { acquired: true; fencingToken: number } | { acquired: false; pttl: number };

/** Outcome of a compare-and-delete or compare-and-extend: done, or what Redis found instead. */
export type OwnerReply = 'ok' | 'free' | 'held-by-other';

const acquireScript = defineScript('mutexAcquire', {
  keys: 2,
  parse: (raw): AcquireReply => {
    const [flag, value] = reply.array('mutexAcquire', raw, 2);
    const n = reply.integer('mutexAcquire', value);
    return reply.oneOf('mutexAcquire', flag, [0, 1]) === 1
      ? { acquired: true, fencingToken: n }
      : { acquired: false, pttl: n };
  },
});

const parseOwner =
  (name: string) =>
  (raw: unknown): OwnerReply => {
    const code = reply.oneOf(name, raw, [1, 0, -1]);
    return code === 1 ? 'ok' : code === 0 ? 'free' : 'held-by-other';
  };

const releaseScript = defineScript('mutexRelease', { keys: 1, parse: parseOwner('mutexRelease') });
const extendScript = defineScript('mutexExtend', { keys: 1, parse: parseOwner('mutexExtend') });

/** One atomic attempt: SET NX PX and, only when taken, INCR of the fence counter. */
export function acquireOnce(redis: ScriptClient, keys: MutexKeys, token: string, ttlMs: number) {
  return runScript(redis, acquireScript, [keys.lock, keys.fence], [token, ttlMs]);
}

/** Compare-and-delete of the lock key. */
export function releaseOnce(redis: ScriptClient, keys: MutexKeys, token: string) {
  return runScript(redis, releaseScript, [keys.lock], [token]);
}

/** Compare-and-extend of the lock key's lease to `ttlMs` from now. */
export function extendOnce(redis: ScriptClient, keys: MutexKeys, token: string, ttlMs: number) {
  return runScript(redis, extendScript, [keys.lock], [token, ttlMs]);
}
