import type { Clock } from './clock';

/**
 * One Cristian-style exchange with the leader (ARCHITECTURE "Clock sync", PROTOCOL
 * "Clock"). `t0`/`t1` are read from this node's {@link ClockDiscipline} (not the base
 * clock) just before sending and just after receiving; `leaderTime` is the leader's
 * clock in the reply.
 */
export interface ClockSample {
  t0: number;
  t1: number;
  leaderTime: number;
}

/** Tuning of {@link ClockDiscipline}; every field has a default in {@link defaultClockSyncConfig}. */
export interface ClockSyncConfig {
  /** Samples kept for the median filter. */
  windowSize: number;
  /** |offset| below this: do nothing (chasing noise would only add jitter). */
  ignoreBelowMs: number;
  /**
   * |offset| at or above this: step at once (by the part the samples prove, see
   * `proven`); between `ignoreBelowMs` and this: slew.
   */
  stepAboveMs: number;
  /** Fastest slew, in ms of correction per second of elapsed time. */
  slewRatePerS: number;
  /** |offset| at or beyond this: out of sync (the node must not judge time). */
  maxOffsetMs: number;
  /** Consecutive agreeing samples needed before a step beyond `maxOffsetMs`. */
  confirmSamples: number;
  /** Samples with a larger round trip are discarded (their error bound, RTT/2, is useless). */
  maxRttMs: number;
}

/** The defaults of the brief; `maxOffsetMs` matches `CLOCK_MAX_OFFSET_MS`'s default. */
export const defaultClockSyncConfig: Readonly<ClockSyncConfig> = Object.freeze({
  windowSize: 8,
  ignoreBelowMs: 1,
  stepAboveMs: 100,
  slewRatePerS: 50,
  maxOffsetMs: 500,
  confirmSamples: 3,
  maxRttMs: 1000,
});

/** What the coordinator must react to: raise / clear the `clock` alarm, log steps. */
export type ClockSyncEvent =
  /** Entering out-of-sync: raise the alarm, stop validating (validators abstain). */
  | { type: 'outOfSync'; offsetMs: number }
  /** Becoming in sync (also the first time after start): clear the alarm. */
  | { type: 'inSync'; offsetMs: number }
  /** The correction jumped by `byMs` (time may have gone backwards). */
  | { type: 'stepped'; byMs: number };

/** What `addSample` did with a sample. */
export type ClockSyncAction = 'ignore' | 'slew' | 'step' | 'outOfSync' | 'discarded';

/** The reply of {@link ClockDiscipline.addSample}. */
export interface ClockSampleResult {
  /**
   * The offset (leader − this node's disciplined clock, ms) the action was decided on:
   * the filtered estimate, or while out of sync the estimate of the agreeing run, or
   * for a discarded sample its own raw offset.
   */
  offsetMs: number;
  /** This sample's round trip. */
  rttMs: number;
  action: ClockSyncAction;
  events: ClockSyncEvent[];
}

/** A snapshot for `/status` and `/metrics`. */
export interface ClockSyncStatus {
  /** Current filtered offset (leader − disciplined clock), or null without samples. */
  offsetMs: number | null;
  /** Round trip of the latest accepted sample, or null. */
  rttMs: number | null;
  /** Disciplined minus base clock, now. */
  correctionMs: number;
  inSync: boolean;
  /** Samples in the filter window. */
  samples: number;
  lastAction: string;
  /** Extra: how fast the base clock runs relative to the leader (ppm, + = fast), as compensated. */
  driftPpm: number;
  /** Extra: slew still to apply (ms). */
  slewRemainingMs: number;
}

/**
 * Largest frequency error we compensate (NTP uses the same bound): a crystal worse
 * than this is broken, and a bigger rate would be learned from noise, not drift.
 */
const MAX_FREQ = 500e-6;
/** Drift is only trusted once estimates span this long: ms-level jitter over 30 s still reads as tens of ppm. */
const DRIFT_MIN_SPAN_MS = 120_000;
const DRIFT_MIN_POINTS = 8;
/** Older estimates fade with this time constant, so a changing drift (temperature) is followed. */
const DRIFT_MEMORY_MS = 15 * 60_000;

/**
 * The correction as a function of base time from `b` on: `c` plus the slew done so
 * far (at most `slew`, at the configured rate) plus `freq`·elapsed. Between decisions
 * nothing is stored per tick, so `now()` is continuous and needs no timer.
 */
interface Segment {
  b: number;
  c: number;
  slew: number;
  freq: number;
}

/**
 * An accepted sample, referred to the base clock: `offset` = leader − base at base time
 * `b`. Corrections change the disciplined clock, not the base, so such a sample stays
 * valid while we slew — it cannot be double-counted.
 */
interface Measured {
  b: number;
  offset: number;
  rtt: number;
}

/** Consecutive out-of-range samples whose Cristian intervals [o ± rtt/2] all overlap. */
interface Run {
  lo: number;
  hi: number;
  samples: Measured[];
}

/** Weighted online linear regression (Welford form) of base offset against base time. */
interface DriftFit {
  x0: number;
  lastX: number;
  n: number;
  w: number;
  mx: number;
  my: number;
  sxx: number;
  sxy: number;
}

type State = 'unsynced' | 'synced' | 'outOfSync';

/**
 * A follower's clock disciplined to the leader's (ARCHITECTURE "Clock sync"). It is a
 * `Clock`, so every component that judges time (vote windows, leases, event times)
 * reads it instead of the base clock.
 *
 * Why this shape:
 * - **Cristian + median of the lowest-RTT half.** A sample's error is at most RTT/2
 *   (asymmetric delays), so fast exchanges are the trustworthy ones; the median then
 *   drops the occasional asymmetric one. One slow reply cannot move the estimate.
 * - **Samples are stored against the base clock.** `t0`/`t1` come from this (moving)
 *   clock; converting each sample to leader − base with the correction in force at its
 *   midpoint keeps old samples valid while slewing, so a pending slew is never counted
 *   twice and the window need not be emptied on every adjustment.
 * - **Tiers.** Tiny offsets are noise; small ones are slewed (the clock runs at most
 *   `slewRatePerS` ms/s faster or slower, never backwards, never past the target) so
 *   time stays monotonic; large ones are stepped because slewing 300 ms would take
 *   seconds of wrong time — but only by what the samples prove (offset − RTT/2), so a
 *   step never overshoots and time never jumps back and forth; an offset that is large
 *   but unproven (one slow, lopsided reply) is slewed until better samples arrive.
 *   Beyond `maxOffsetMs` the node fences itself (not in sync, so it abstains from
 *   validating) at the first such sample, and steps only once `confirmSamples`
 *   consecutive samples agree — a wrong multi-second step is worse than waiting a few
 *   hundred ms. It is in sync again once a fresh estimate is proven within the limit.
 * - **Drift.** The slope of the base offset over minutes is the base clock's frequency
 *   error; compensating it keeps the clock right between samples and while the leader
 *   is unreachable, instead of re-slewing every few seconds.
 *
 * Pure: no timers, no I/O; time comes only from `base`. Take samples one at a time
 * (at most one in flight): a sample that started before a step is discarded, which is
 * exact for forward steps; with several in flight across a backward step it cannot be
 * told apart from a fresh one.
 */
export class ClockDiscipline implements Clock {
  readonly config: Readonly<ClockSyncConfig>;
  private readonly rate: number;
  /** Newest last; older entries are kept ~2·maxRtt to refer in-flight samples. */
  private segments: Segment[];
  private lastBase: number;
  private window: Measured[] = [];
  private run: Run | null = null;
  private fit: DriftFit | null = null;
  private state: State = 'unsynced';
  /** Disciplined time right after the latest step: samples sent before it are stale. */
  private staleBefore = Number.NEGATIVE_INFINITY;
  private lastRtt: number | null = null;
  private lastAction = 'none';

  constructor(
    private readonly base: Clock,
    config: Partial<ClockSyncConfig> = {},
  ) {
    this.config = Object.freeze(validate({ ...defaultClockSyncConfig, ...config }));
    this.rate = this.config.slewRatePerS / 1000;
    this.lastBase = base.now();
    this.segments = [{ b: this.lastBase, c: 0, slew: 0, freq: 0 }];
  }

  /**
   * Base time plus the correction. Continuous except at steps: while slewing it runs
   * at 1 ± slewRatePerS/1000 (plus drift compensation), so it never goes backwards.
   */
  now(): number {
    const b = this.base.now();
    return b + this.correctionAt(b, this.current());
  }

  /** Whether this node may judge time (validate votes): false before the first sample and while out of sync. */
  get inSync(): boolean {
    return this.state === 'synced';
  }

  /** Feeds one exchange with the leader; returns what was done and the events to act on. */
  addSample(s: ClockSample): ClockSampleResult {
    const b = this.observeBase();
    const rtt = s.t1 - s.t0;
    const raw = s.leaderTime - (s.t0 + s.t1) / 2;
    if (
      !Number.isFinite(rtt) ||
      !Number.isFinite(raw) ||
      rtt < 0 ||
      rtt > this.config.maxRttMs ||
      s.t0 < this.staleBefore
    ) {
      this.lastAction = 'discarded';
      return { offsetMs: raw, rttMs: rtt, action: 'discarded', events: [] };
    }
    this.lastRtt = rtt;
    const cNow = this.correctionAt(b, this.current());
    const m = this.refer(s, raw, rtt, b, cNow);
    this.window.push(m);
    if (this.window.length > this.config.windowSize) this.window.shift();
    const sampleOffset = this.project(m, b) - cNow;
    const events: ClockSyncEvent[] = [];
    const done = (action: ClockSyncAction, offsetMs: number): ClockSampleResult => {
      this.lastAction = action;
      return { offsetMs, rttMs: rtt, action, events };
    };

    if (Math.abs(sampleOffset) >= this.config.maxOffsetMs) {
      // Fence at once: judging votes with a clock that may be seconds off is what
      // must never happen; abstaining for a few samples is cheap.
      this.enter('outOfSync', sampleOffset, events);
      const run = this.extendRun(m);
      const runFilter = this.filter(run.samples, b);
      const runOffset = runFilter.value - cNow;
      if (run.samples.length < this.config.confirmSamples) return done('outOfSync', runOffset);
      this.step(b, cNow, proven(runOffset, runFilter.bound), events);
      return done('step', runOffset);
    }
    this.run = null;

    const filtered = this.filter(this.window, b);
    const estimate = filtered.value - cNow;
    if (Math.abs(estimate) >= this.config.maxOffsetMs) {
      // The window still remembers out-of-range samples; wait for it to agree.
      this.enter('outOfSync', estimate, events);
      return done('outOfSync', estimate);
    }
    this.trackDrift(b, estimate + cNow);
    const freq = this.current().freq;
    let action: ClockSyncAction;
    if (Math.abs(estimate) < this.config.ignoreBelowMs) {
      // Close enough: stop any slew still running (it aimed at an older estimate).
      this.setSegment({ b, c: cNow, slew: 0, freq });
      action = 'ignore';
    } else if (Math.abs(proven(estimate, filtered.bound)) < this.config.stepAboveMs) {
      // Replaces (does not add to) the pending slew: the estimate is relative to the
      // correction already applied. Also taken when the offset is large but not proven
      // large (right after a step the window holds one sample, maybe a slow, lopsided
      // one): a slew is gentle and the next samples can still redirect it; a jump can't
      // be taken back without another jump.
      this.setSegment({ b, c: cNow, slew: estimate, freq });
      action = 'slew';
    } else {
      this.step(b, cNow, proven(estimate, filtered.bound), events);
      action = 'step';
    }
    // Only a clock proven within the limit (estimate plus its error bound) may start
    // judging time again; once in sync, only an out-of-range sample fences it.
    if (Math.abs(estimate) + filtered.bound < this.config.maxOffsetMs) this.enter('synced', estimate, events);
    return done(action, estimate);
  }

  /**
   * Housekeeping; the correction is a function of base time, so slewing advances by
   * itself in `now()` and nothing is lost if ticks are late. Returns events for the
   * same loop that handles `addSample`'s (currently none arise here).
   */
  tick(): ClockSyncEvent[] {
    const b = this.observeBase();
    const seg = this.current();
    // Fold a finished slew so the active segment stays short and history prunable.
    if (seg.slew !== 0 && Math.abs(seg.slew) <= this.rate * (b - seg.b)) {
      this.setSegment({ b, c: this.correctionAt(b, seg), slew: 0, freq: seg.freq });
    }
    return [];
  }

  /**
   * The leader is its own reference: forget the estimate and drift, freeze the
   * correction where it is (no jump for anyone following this clock), and be in sync.
   * The frequency compensation is dropped: the leader's own base clock rate (normally
   * NTP-disciplined) is the best guess of real time's.
   */
  becomeReference(): ClockSyncEvent[] {
    const b = this.observeBase();
    this.setSegment({ b, c: this.correctionAt(b, this.current()), slew: 0, freq: 0 });
    this.window = [];
    this.run = null;
    this.fit = null;
    this.lastRtt = null;
    this.lastAction = 'reference';
    // A reply to a request sent before now came from the previous reference.
    this.staleBefore = b + this.current().c;
    const events: ClockSyncEvent[] = [];
    this.enter('synced', 0, events);
    return events;
  }

  status(): ClockSyncStatus {
    const b = this.base.now();
    const seg = this.current();
    const c = this.correctionAt(b, seg);
    return {
      offsetMs: this.window.length > 0 ? this.filtered(this.window, b) - c : null,
      rttMs: this.lastRtt,
      correctionMs: c,
      inSync: this.inSync,
      samples: this.window.length,
      lastAction: this.lastAction,
      driftPpm: seg.freq === 0 ? 0 : -seg.freq * 1e6,
      slewRemainingMs: this.remaining(seg, b),
    };
  }

  private current(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private correctionAt(b: number, seg: Segment): number {
    const dt = Math.max(0, b - seg.b);
    return seg.c + Math.sign(seg.slew) * Math.min(Math.abs(seg.slew), this.rate * dt) + seg.freq * dt;
  }

  /** The correction in force at an earlier base time (for samples in flight across a change). */
  private correctionAtPast(b: number): number {
    for (let i = this.segments.length - 1; i > 0; i--) {
      const seg = this.segments[i]!;
      if (seg.b <= b) return this.correctionAt(b, seg);
    }
    return this.correctionAt(b, this.segments[0]!);
  }

  private setSegment(seg: Segment): void {
    const last = this.current();
    if (last.b >= seg.b) this.segments[this.segments.length - 1] = seg;
    else this.segments.push(seg);
    const keepFrom = seg.b - 2 * this.config.maxRttMs;
    while (this.segments.length > 1 && this.segments[1]!.b <= keepFrom) this.segments.shift();
  }

  /**
   * Reads the base clock; if it went backwards (host clock stepped, skew changed) the
   * history is meaningless, so restart it at the correction reached so far.
   */
  private observeBase(): number {
    const b = this.base.now();
    if (b < this.lastBase) {
      const seg = this.current();
      const c = this.correctionAt(this.lastBase, seg);
      this.segments = [{ b, c, slew: this.remaining(seg, this.lastBase), freq: seg.freq }];
      this.fit = null;
      // Older disciplined readings may now lie ahead of fresh ones; don't discard those.
      this.staleBefore = Math.min(this.staleBefore, b + c);
    }
    this.lastBase = b;
    return b;
  }

  /** Converts a sample to leader − base, using the correction at its midpoint. */
  private refer(s: ClockSample, raw: number, rtt: number, b: number, cNow: number): Measured {
    const dMid = (s.t0 + s.t1) / 2;
    let bMid = Math.min(b, dMid - cNow);
    // Two fixed-point steps suffice: the correction moves far slower than time.
    for (let i = 0; i < 2; i++) bMid = Math.min(b, dMid - this.correctionAtPast(bMid));
    return { b: bMid, offset: raw + this.correctionAtPast(bMid), rtt };
  }

  /** A sample's base offset carried forward to base time `b` with the drift learned so far. */
  private project(m: Measured, b: number): number {
    return m.offset + this.current().freq * (b - m.b);
  }

  /** Median of the lower-RTT half (rounded up) of `samples`, projected to `b`, as leader − base. */
  private filtered(samples: readonly Measured[], b: number): number {
    return this.filter(samples, b).value;
  }

  /**
   * The filtered value and its Cristian error bound: half the largest RTT it was drawn from.
   *
   * The median is then kept inside what every sample proves (Marzullo's intersection):
   * the truth lies within RTT/2 of each sample, so within all their intervals at once.
   * When slow, lopsided replies crowd the lower-RTT half, their median can sit several
   * ms off while one fast sample pins the truth to ±RTT/2; clamping moves the value only
   * towards the truth, so the bound still holds. Intervals that do not intersect (a
   * clock that jumped, drift not yet learned) leave the median as it is.
   */
  private filter(samples: readonly Measured[], b: number): { value: number; bound: number } {
    const best = [...samples].sort((x, y) => x.rtt - y.rtt).slice(0, Math.ceil(samples.length / 2));
    const values = best.map((m) => this.project(m, b)).sort((x, y) => x - y);
    const mid = values.length >> 1;
    const median = values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
    let lo = Number.NEGATIVE_INFINITY;
    let hi = Number.POSITIVE_INFINITY;
    for (const m of samples) {
      const half = m.rtt / 2 + this.config.ignoreBelowMs;
      const at = this.project(m, b);
      lo = Math.max(lo, at - half);
      hi = Math.min(hi, at + half);
    }
    const value = lo <= hi ? Math.min(hi, Math.max(lo, median)) : median;
    return { value, bound: best[best.length - 1]!.rtt / 2 };
  }

  /**
   * Two samples agree when their Cristian intervals overlap (the true offset is within
   * RTT/2 of each, plus `ignoreBelowMs` for rounding); a disagreeing one restarts the run.
   */
  private extendRun(m: Measured): Run {
    const half = m.rtt / 2 + this.config.ignoreBelowMs;
    const lo = m.offset - half;
    const hi = m.offset + half;
    const run = this.run;
    if (run && lo <= run.hi && hi >= run.lo) {
      run.lo = Math.max(run.lo, lo);
      run.hi = Math.min(run.hi, hi);
      run.samples.push(m);
    } else {
      this.run = { lo, hi, samples: [m] };
    }
    return this.run!;
  }

  /**
   * Jumps the correction. Everything measured before is dropped: a step usually means
   * the base clock itself jumped, so older samples (and the drift fit) describe a clock
   * that no longer exists.
   */
  private step(b: number, cNow: number, byMs: number, events: ClockSyncEvent[]): void {
    const c = cNow + byMs;
    this.setSegment({ b, c, slew: 0, freq: this.current().freq });
    this.window = [];
    this.run = null;
    this.fit = null;
    this.staleBefore = b + c;
    events.push({ type: 'stepped', byMs });
  }

  private enter(state: State, offsetMs: number, events: ClockSyncEvent[]): void {
    if (this.state === state) return;
    this.state = state;
    if (state === 'outOfSync') events.push({ type: 'outOfSync', offsetMs });
    if (state === 'synced') events.push({ type: 'inSync', offsetMs });
  }

  /**
   * Fits leader − base against base time; its slope is the rate to add to the
   * correction. Regression over many estimates (fading with `DRIFT_MEMORY_MS`) averages
   * out the jitter that any two-point difference would turn into ppm.
   */
  private trackDrift(b: number, baseOffset: number): void {
    if (!this.fit) this.fit = { x0: b, lastX: 0, n: 0, w: 0, mx: 0, my: 0, sxx: 0, sxy: 0 };
    const f = this.fit;
    const x = b - f.x0;
    const fade = Math.exp(-Math.max(0, x - f.lastX) / DRIFT_MEMORY_MS);
    f.w *= fade;
    f.sxx *= fade;
    f.sxy *= fade;
    f.lastX = x;
    f.n += 1;
    f.w += 1;
    const dx = x - f.mx;
    f.mx += dx / f.w;
    f.my += (baseOffset - f.my) / f.w;
    f.sxx += dx * (x - f.mx);
    f.sxy += dx * (baseOffset - f.my);
    if (f.n < DRIFT_MIN_POINTS || x < DRIFT_MIN_SPAN_MS || f.sxx <= 0) return;
    const freq = Math.max(-MAX_FREQ, Math.min(MAX_FREQ, f.sxy / f.sxx));
    const seg = this.current();
    this.setSegment({ b, c: this.correctionAt(b, seg), slew: this.remaining(seg, b), freq });
  }

  private remaining(seg: Segment, b: number): number {
    const slewed = Math.min(Math.abs(seg.slew), this.rate * Math.max(0, b - seg.b));
    return Math.sign(seg.slew) * (Math.abs(seg.slew) - slewed);
  }
}

/**
 * The part of `offset` its samples prove: each is within RTT/2 of the truth, so is their
 * median, so stepping by `|offset| − bound` can't overshoot; the rest is left to
 * the next samples (slewed, usually). Overshooting would make time jump back and forth.
 */
function proven(offset: number, bound: number): number {
  return Math.sign(offset) * Math.max(0, Math.abs(offset) - bound);
}

function validate(c: ClockSyncConfig): ClockSyncConfig {
  const fail = (why: string): never => {
    throw new RangeError(`ClockSyncConfig: ${why}`);
  };
  if (!Number.isInteger(c.windowSize) || c.windowSize < 1) fail('windowSize must be an integer >= 1');
  if (!Number.isInteger(c.confirmSamples) || c.confirmSamples < 1)
    fail('confirmSamples must be an integer >= 1');
  if (!(c.ignoreBelowMs >= 0 && c.ignoreBelowMs <= c.stepAboveMs && c.stepAboveMs <= c.maxOffsetMs)) {
    fail('need 0 <= ignoreBelowMs <= stepAboveMs <= maxOffsetMs');
  }
  if (!(c.maxRttMs > 0)) fail('maxRttMs must be > 0');
  // Slewing (plus drift compensation) must leave the clock moving forwards.
  if (!(c.slewRatePerS > 0 && c.slewRatePerS < 1000 * (1 - MAX_FREQ))) {
    fail('slewRatePerS must be > 0 and < 999.5, or time would run backwards while slewing');
  }
  return c;
}
