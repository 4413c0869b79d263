/**
 * Every component reads time through a `Clock` (ARCHITECTURE "Clock sync"), never
 * `Date.now()` directly, so tests can pin, skew and drift it.
 */
export interface Clock {
  /** Milliseconds since the epoch, as this component believes them. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

/**
 * A clock with an artificial skew (ms) and drift (ppm) over a base clock: used in
 * non-production builds to demo and test clock synchronization.
 */
export class SkewedClock implements Clock {
  private readonly start: number;
  constructor(
    private readonly base: Clock,
    public skewMs = 0,
    public driftPpm = 0,
  ) {
    this.start = base.now();
  }
  now(): number {
    const t = this.base.now();
    return t + this.skewMs + ((t - this.start) * this.driftPpm) / 1e6;
  }
  set(skewMs: number, driftPpm = this.driftPpm): void {
    this.skewMs = skewMs;
    this.driftPpm = driftPpm;
  }
}
