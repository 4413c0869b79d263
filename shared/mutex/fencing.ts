import { type ScriptClient, defineScript, reply, runScript } from '../redis/scripts';

/**
 * Fenced writes (ARCHITECTURE invariant 3): a write carries a fencing token — a mutex
 * `lock.fencingToken` or a leader's Raft term — and the Lua script that performs it
 * refuses a token older than the newest one recorded in the same slot
 * (`check_fence`, shared/redis/lua/includes/check-fence.lua). A holder that was paused
 * or cut off past its lease thus cannot overwrite its successor's work.
 */

/** Result of {@link fencedWrite}: written, or refused with the newer fence. */
export type FencedWriteResult = { written: true } | { written: false; currentFence: number };

/** What {@link fencedWrite} writes and under which fence. */
export interface FencedWriteInput {
  /**
   * String key holding the highest token seen. Passing a mutex's `lock.keys.fence`
   * (its token counter) refuses an old holder as soon as a newer one has *acquired*,
   * even before the newer one writes; a dedicated key (a partition's `T:fence`,
   * `{qv}:leader-fence`) refuses it once a newer token has *written*.
   */
  fenceKey: string;
  /** The string key to SET; must share the fence key's hash tag. */
  key: string;
  /** Non-negative safe integer of at most 15 digits. */
  token: number;
  value: string;
}

const fencedWriteScript = defineScript('mutexFencedWrite', {
  keys: 2,
  parse: (raw): FencedWriteResult => {
    const parts = reply.array('mutexFencedWrite', raw, 1);
    if (reply.oneOf('mutexFencedWrite', parts[0], [0, 1]) === 1) return { written: true };
    return { written: false, currentFence: reply.integer('mutexFencedWrite', parts[1]) };
  },
});

/**
 * SETs `key` to `value` only if `token` is not older than the fence (which then
 * records it). The reference use of `check_fence`; the coordinator uses it for
 * leader-term fencing (token = term).
 */
export function fencedWrite(redis: ScriptClient, input: FencedWriteInput): Promise<FencedWriteResult> {
  checkFencingToken(input.token);
  return runScript(redis, fencedWriteScript, [input.fenceKey, input.key], [input.token, input.value]);
}

/** Largest token `check_fence` accepts: 15 decimal digits stay exact in Lua's doubles. */
export const maxFencingToken = 999_999_999_999_999;

/** Throws a RangeError unless `token` is a valid fencing token for `check_fence`. */
export function checkFencingToken(token: number): void {
  if (!Number.isSafeInteger(token) || token < 0 || token > maxFencingToken) {
    throw new RangeError(`A fencing token must be an integer in [0, ${maxFencingToken}], got ${token}`);
  }
}
