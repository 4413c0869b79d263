/**
 * Typed mutex errors (CONVENTIONS 8, 11): each carries a machine `code` and the
 * resource, so callers branch on the type, never on message text.
 */

/** Why a lock is no longer held. */
export type LockLossReason =
  /** The local lease ran out before an extension was confirmed (Redis slow or unreachable). */
  | 'expired'
  /** Redis says the lock is free: the lease expired there. */
  | 'free'
  /** Redis says another token holds the lock. */
  | 'held-by-other';

/** Base class of the mutex errors. */
export abstract class MutexError extends Error {
  abstract readonly code: string;
  constructor(
    readonly resource: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `acquire` gave up: the lock stayed taken (or Redis failed) until the acquire timeout. */
export class LockNotAcquiredError extends MutexError {
  readonly code = 'lock_not_acquired';
  constructor(
    resource: string,
    readonly waitedMs: number,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(
      resource,
      `Lock on ${resource} not acquired after ${Math.round(waitedMs)} ms (${attempts} attempts)`,
      options,
    );
    this.name = 'LockNotAcquiredError';
  }
}

/**
 * A held lock was lost: an extension was refused or could not be confirmed in time.
 * Work done under it since may have overlapped another holder's; only fenced writes
 * are safe. It is also the reason of the lock's aborted `signal`.
 */
export class LockLostError extends MutexError {
  readonly code = 'lock_lost';
  constructor(
    resource: string,
    readonly reason: LockLossReason,
    options?: { cause?: unknown },
  ) {
    super(resource, `Lock on ${resource} lost (${reason})`, options);
    this.name = 'LockLostError';
  }
}

/** A release or extend named a token that does not hold the lock; nothing changed. */
export class LockNotOwnedError extends MutexError {
  readonly code = 'lock_not_owned';
  constructor(
    resource: string,
    readonly operation: 'release' | 'extend',
    /** What Redis found instead of the caller's token; `released` when the handle was already released. */
    readonly found: 'free' | 'held-by-other' | 'released',
  ) {
    super(resource, `Cannot ${operation} lock on ${resource}: not the holder (${found})`);
    this.name = 'LockNotOwnedError';
  }
}
