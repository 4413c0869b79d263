/**
 * The distributed mutex (ARCHITECTURE "Mutex") and fenced writes. Partition
 * ownership (PROTOCOL "Finalize") is a lease taken with `RedisMutex` on the
 * partition's tag; its `fencingToken` goes into the finalize script's `check_fence`.
 */
export {
  LockLostError,
  type LockLossReason,
  LockNotAcquiredError,
  LockNotOwnedError,
  MutexError,
} from './errors';
export {
  checkFencingToken,
  type FencedWriteInput,
  type FencedWriteResult,
  fencedWrite,
  maxFencingToken,
} from './fencing';
export { hasHashTag, type MutexKeys, mutexKeys } from './keys';
export { Lock } from './lock';
export { type AcquireOptions, type MutexOptions, RedisMutex } from './redis-mutex';
