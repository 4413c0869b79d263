import type { Clock } from './clock';

/**
 * Elapsed-time clock for timers and leases: never jumps, unaffected by wall-clock
 * skew or corrections. Election timeouts and lease checks read this, not wall time.
 */
const origin = Date.now() - performance.now();
export const monotonicClock: Clock = { now: () => origin + performance.now() };
