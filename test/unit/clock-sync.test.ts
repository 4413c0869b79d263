import fc from 'fast-check';
import { ManualClock, SkewedClock } from '../../shared/clock';
import {
  ClockDiscipline,
  type ClockSampleResult,
  type ClockSyncConfig,
  type ClockSyncEvent,
  defaultClockSyncConfig,
} from '../../shared/clock-sync';

/**
 * A simulated follower: `real` is true time and also the leader's clock (the leader is
 * the reference), `base` is the follower's own (skewed, drifting) clock, `disc` the
 * discipline under test. Network delays are chosen by the test, so asymmetry — the
 * only source of Cristian error — is explicit.
 */
interface Sim {
  real: ManualClock;
  base: SkewedClock;
  disc: ClockDiscipline;
  results: ClockSampleResult[];
  events: ClockSyncEvent[];
}

const EPOCH = 1_700_000_000_000;

function makeSim(skewMs: number, driftPpm = 0, config: Partial<ClockSyncConfig> = {}): Sim {
  const real = new ManualClock(EPOCH);
  const base = new SkewedClock(real, skewMs, driftPpm);
  return { real, base, disc: new ClockDiscipline(base, config), results: [], events: [] };
}

/** One exchange: request takes `up` ms, reply takes `down` ms. */
function exchange(sim: Sim, up: number, down: number): ClockSampleResult {
  const t0 = sim.disc.now();
  sim.real.advance(up);
  const leaderTime = sim.real.now();
  sim.real.advance(down);
  const t1 = sim.disc.now();
  const r = sim.disc.addSample({ t0, t1, leaderTime });
  sim.results.push(r);
  sim.events.push(...r.events);
  return r;
}

/** Disciplined clock minus the leader's, at this instant. */
const error = (sim: Sim): number => sim.disc.now() - sim.real.now();

/** Deterministic PRNG (mulberry32): tests pin their randomness. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Independent one-way delays: uniform in [min, max] ms, and with probability `spikeP`
 * (per direction) delayed by up to `spikeMs` more — RTT jitters, paths are asymmetric,
 * and now and then a reply is stuck behind a GC pause or a retransmit.
 */
function jitter(
  seed: number,
  min: number,
  max: number,
  spikeP = 0.05,
  spikeMs = 300,
): () => [number, number] {
  const rnd = prng(seed);
  const one = () => min + rnd() * (max - min) + (rnd() < spikeP ? rnd() * spikeMs : 0);
  return () => [one(), one()];
}

interface RunOptions {
  durationMs: number;
  periodMs: number;
  tickMs?: number;
  delays: () => [number, number];
  /** Called after every tick with the current error. */
  onTick?: (err: number) => void;
}

/**
 * Samples every `periodMs`, ticks every `tickMs` in between, and checks that the
 * disciplined clock never goes backwards except across a `stepped` event.
 */
function run(sim: Sim, o: RunOptions): void {
  const tickMs = o.tickMs ?? 50;
  const end = sim.real.now() + o.durationMs;
  let prev = sim.disc.now();
  while (sim.real.now() < end) {
    const started = sim.real.now();
    const [up, down] = o.delays();
    const r = exchange(sim, up, down);
    const now = sim.disc.now();
    if (!r.events.some((e) => e.type === 'stepped')) expect(now).toBeGreaterThanOrEqual(prev);
    prev = now;
    while (sim.real.now() < started + o.periodMs) {
      sim.real.advance(Math.min(tickMs, started + o.periodMs - sim.real.now()));
      expect(sim.disc.tick()).toEqual([]);
      const t = sim.disc.now();
      expect(t).toBeGreaterThanOrEqual(prev);
      prev = t;
      o.onTick?.(error(sim));
    }
  }
}

const count = (sim: Sim, type: ClockSyncEvent['type']): number =>
  sim.events.filter((e) => e.type === type).length;
const actions = (sim: Sim): string[] => sim.results.map((r) => r.action);

describe('ClockDiscipline', () => {
  describe('configuration and maths', () => {
    it('uses the documented defaults', () => {
      expect(new ClockDiscipline(new ManualClock()).config).toEqual({
        windowSize: 8,
        ignoreBelowMs: 1,
        stepAboveMs: 100,
        slewRatePerS: 50,
        maxOffsetMs: 500,
        confirmSamples: 3,
        maxRttMs: 1000,
      });
      expect(defaultClockSyncConfig.maxOffsetMs).toBe(500);
    });

    it.each<[string, Partial<ClockSyncConfig>]>([
      ['a slew that would run time backwards', { slewRatePerS: 1000 }],
      ['a zero slew rate', { slewRatePerS: 0 }],
      ['an empty window', { windowSize: 0 }],
      ['tiers out of order', { stepAboveMs: 600 }],
      ['no confirmation', { confirmSamples: 0 }],
      ['a non-positive RTT limit', { maxRttMs: 0 }],
    ])('rejects %s', (_, config) => {
      expect(() => new ClockDiscipline(new ManualClock(), config)).toThrow(RangeError);
    });

    it('starts not in sync: no time judging before the first measurement', () => {
      const sim = makeSim(0);
      expect(sim.disc.inSync).toBe(false);
      expect(sim.disc.status()).toMatchObject({
        offsetMs: null,
        rttMs: null,
        correctionMs: 0,
        inSync: false,
        samples: 0,
        lastAction: 'none',
      });
      expect(sim.disc.now()).toBe(EPOCH);
    });

    it('computes offset = leaderTime − (t0 + t1)/2 and rtt = t1 − t0', () => {
      const sim = makeSim(40);
      // The follower is 40 ms ahead; 3 ms out and 7 ms back bias the midpoint by 2 ms.
      const r = exchange(sim, 3, 7);
      expect(r.rttMs).toBeCloseTo(10, 3);
      expect(r.offsetMs).toBeCloseTo(-42, 3);
      expect(r.action).toBe('slew');
    });

    it('ignores tiny offsets', () => {
      const sim = makeSim(0.4);
      const r = exchange(sim, 5, 5);
      expect(r).toMatchObject({ action: 'ignore', events: [{ type: 'inSync' }] });
      expect(r.offsetMs).toBeCloseTo(-0.4, 3); // doubles near 1.7e12 resolve ~0.25 µs
      run(sim, { durationMs: 10_000, periodMs: 200, delays: () => [5, 5] });
      expect(new Set(actions(sim))).toEqual(new Set(['ignore']));
      expect(sim.disc.status().correctionMs).toBe(0);
      expect(sim.disc.inSync).toBe(true);
    });

    it('discards samples with a negative or too large RTT, or non-finite values', () => {
      const sim = makeSim(0);
      const t = sim.disc.now();
      expect(sim.disc.addSample({ t0: t, t1: t - 1, leaderTime: t }).action).toBe('discarded');
      expect(sim.disc.addSample({ t0: t, t1: t + 1001, leaderTime: t }).action).toBe('discarded');
      expect(sim.disc.addSample({ t0: t, t1: t + 2, leaderTime: Number.NaN }).action).toBe('discarded');
      expect(sim.disc.status()).toMatchObject({ samples: 0, inSync: false, lastAction: 'discarded' });
    });
  });

  describe('slewing (+20 ms)', () => {
    it('slews without stepping, never goes backwards and never overshoots', () => {
      const sim = makeSim(20);
      let minCorrection = 0;
      let last = { real: sim.real.now(), c: 0 };
      run(sim, {
        durationMs: 5_000,
        periodMs: 100, // samples keep arriving (and in flight, 40 ms RTT) while slewing
        tickMs: 10,
        delays: () => [20, 20],
        onTick: () => {
          const c = sim.disc.status().correctionMs;
          minCorrection = Math.min(minCorrection, c);
          // Never faster than 50 ms of correction per second.
          expect(Math.abs(c - last.c)).toBeLessThanOrEqual((50 * (sim.real.now() - last.real)) / 1000 + 1e-9);
          last = { real: sim.real.now(), c };
        },
      });
      expect(count(sim, 'stepped')).toBe(0);
      expect(actions(sim)).not.toContain('step');
      expect(actions(sim)[0]).toBe('slew');
      // Samples measured mid-slew are referred to the base clock, so the pending slew
      // is not counted twice: the correction stops at −20, not beyond.
      expect(minCorrection).toBeGreaterThanOrEqual(-20 - 1e-6);
      expect(sim.disc.status().correctionMs).toBeCloseTo(-20, 6);
      expect(Math.abs(error(sim))).toBeLessThan(1e-6);
      expect(count(sim, 'inSync')).toBe(1);
    });

    it('takes about |offset| / slewRate to converge (−20 ms: speeds up)', () => {
      const sim = makeSim(-20);
      exchange(sim, 1, 1);
      sim.real.advance(200);
      expect(sim.disc.status().correctionMs).toBeCloseTo(10, 6); // 50 ms/s × 0.2 s
      sim.real.advance(1_000);
      expect(sim.disc.status().correctionMs).toBeCloseTo(20, 3);
      expect(sim.disc.status().slewRemainingMs).toBe(0);
    });
  });

  describe('stepping (+300 ms, jittered RTT)', () => {
    it('steps at once, then converges to within 5 ms of the leader and stays there', () => {
      const sim = makeSim(300);
      const worst: number[] = [];
      run(sim, {
        durationMs: 120_000,
        periodMs: 200,
        delays: jitter(1, 0.5, 8),
        onTick: (err) => {
          if (sim.real.now() > EPOCH + 10_000) worst.push(Math.abs(err));
        },
      });
      expect(sim.results[0]).toMatchObject({ action: 'step' });
      expect(sim.events.slice(0, 2).map((e) => e.type)).toEqual(['stepped', 'inSync']);
      // Steps go by what the samples prove (offset − RTT/2), so they never overshoot:
      // with this seed the first reply was slow and lopsided (RTT 171 ms), so it took
      // a second, smaller step in the same direction — never one back.
      const steps = sim.events.flatMap((e) => (e.type === 'stepped' ? [e.byMs] : []));
      expect(steps.every((by) => by < 0)).toBe(true);
      expect(steps.reduce((a, by) => a + by, 0)).toBeGreaterThanOrEqual(-300 - 5);
      expect(steps[0]).toBeLessThanOrEqual(-300 + sim.results[0]!.rttMs);
      expect(count(sim, 'outOfSync')).toBe(0);
      expect(Math.max(...worst)).toBeLessThanOrEqual(5);
      expect(sim.disc.status().samples).toBe(8);
      expect(sim.disc.inSync).toBe(true);
    });

    it('steps only by what the samples prove, and slews what they cannot', () => {
      const base = new ManualClock(EPOCH);
      const disc = new ClockDiscipline(base);
      const feed = (offset: number, rtt: number) => {
        base.advance(200);
        const t0 = disc.now();
        base.advance(rtt);
        const t1 = disc.now();
        return disc.addSample({ t0, t1, leaderTime: (t0 + t1) / 2 + offset });
      };
      // −300 ± 20: the truth is at least 280 ms away, so jump 280 and no further.
      const r1 = feed(-300, 40);
      expect(r1.action).toBe('step');
      expect(r1.events[0]).toEqual({ type: 'stepped', byMs: expect.closeTo(-280, 3) });
      // A lone slow reply (after a step the window is empty): 150 ± 140 proves only 10.
      const r2 = feed(150, 280);
      expect(r2).toMatchObject({ action: 'slew', events: [] });
      // The next fast sample outranks it and redirects the slew.
      const r3 = feed(-20, 4);
      expect(r3.action).toBe('slew');
      // (−20.1: the 0.1 ms slewed while it was in flight is accounted for.)
      expect(r3.offsetMs).toBeCloseTo(-20, 0);
      expect(disc.status().slewRemainingMs).toBeCloseTo(r3.offsetMs, 6);
    });

    it('is in sync only once the estimate is proven within maxOffsetMs', () => {
      const base = new ManualClock(EPOCH);
      const disc = new ClockDiscipline(base);
      const feed = (offset: number, rtt: number) => {
        base.advance(200);
        const t0 = disc.now();
        base.advance(rtt);
        const t1 = disc.now();
        return disc.addSample({ t0, t1, leaderTime: (t0 + t1) / 2 + offset });
      };
      // 300 ± 450: the truth may be 750 ms away. Slew (unproven), but don't validate.
      expect(feed(300, 900)).toMatchObject({ action: 'slew', events: [] });
      expect(disc.inSync).toBe(false);
      expect(feed(3, 4).events).toEqual([{ type: 'inSync', offsetMs: expect.any(Number) }]);
      expect(disc.inSync).toBe(true);
    });

    it('discards a sample that was in flight across a forward step', () => {
      const sim = makeSim(-300);
      const t0 = sim.disc.now(); // old, 300 ms behind clock
      exchange(sim, 2, 2); // steps +300
      const r = sim.disc.addSample({ t0, t1: sim.disc.now(), leaderTime: sim.real.now() });
      expect(r.action).toBe('discarded');
    });
  });

  describe('out of sync (+5 s)', () => {
    it('fences at the first sample, steps after 3 agreeing samples, then is in sync again', () => {
      const sim = makeSim(5_000);
      const r1 = exchange(sim, 3, 5);
      expect(r1.action).toBe('outOfSync');
      expect(r1.events).toEqual([{ type: 'outOfSync', offsetMs: expect.closeTo(-5001, 0) }]);
      expect(sim.disc.inSync).toBe(false); // no validating
      sim.real.advance(200);
      expect(exchange(sim, 4, 2)).toMatchObject({ action: 'outOfSync', events: [] });
      expect(sim.disc.inSync).toBe(false);
      sim.real.advance(200);
      const r3 = exchange(sim, 2, 3);
      expect(r3.action).toBe('step');
      expect(r3.events).toEqual([{ type: 'stepped', byMs: expect.closeTo(-5000, -1) }]);
      expect(sim.disc.inSync).toBe(false); // until a fresh sample confirms it
      sim.real.advance(200);
      const r4 = exchange(sim, 3, 3);
      expect(r4.events).toEqual([{ type: 'inSync', offsetMs: expect.any(Number) }]);
      expect(sim.disc.inSync).toBe(true);
      expect(Math.abs(error(sim))).toBeLessThan(5);
      run(sim, { durationMs: 20_000, periodMs: 200, delays: jitter(2, 1, 10) });
      expect(count(sim, 'outOfSync')).toBe(1);
      expect(count(sim, 'inSync')).toBe(1);
      expect(count(sim, 'stepped')).toBe(1);
      expect(Math.abs(error(sim))).toBeLessThan(5);
    });

    it.each([5_000, -5_000])(
      'fences immediately when the base clock jumps by %i ms while in sync',
      (jump) => {
        const sim = makeSim(0);
        run(sim, { durationMs: 5_000, periodMs: 200, delays: jitter(3, 1, 10) });
        expect(sim.disc.inSync).toBe(true);
        sim.base.set(jump); // the host clock was stepped under us (-5 s: base goes backwards)
        const r = exchange(sim, 2, 2);
        expect(r.action).toBe('outOfSync');
        expect(r.events).toEqual([{ type: 'outOfSync', offsetMs: expect.closeTo(-jump, -1) }]);
        expect(sim.disc.inSync).toBe(false);
        run(sim, { durationMs: 10_000, periodMs: 200, delays: jitter(4, 1, 10) });
        expect(count(sim, 'stepped')).toBe(1);
        expect(count(sim, 'outOfSync')).toBe(1);
        expect(count(sim, 'inSync')).toBe(2); // start, and after recovering
        expect(sim.disc.inSync).toBe(true);
        expect(Math.abs(error(sim))).toBeLessThan(5);
      },
    );

    it('steps only on consecutive samples that agree', () => {
      const base = new ManualClock(EPOCH);
      const disc = new ClockDiscipline(base);
      const feed = (offset: number, rtt = 10) => {
        base.advance(200);
        const t0 = disc.now();
        base.advance(rtt);
        const t1 = disc.now();
        return disc.addSample({ t0, t1, leaderTime: (t0 + t1) / 2 + offset }).action;
      };
      // 7000 disagrees with 5000 (intervals ±rtt/2 don't overlap): the run restarts.
      expect([5000, 7000, 5000, 5000].map((o) => feed(o))).toEqual([
        'outOfSync',
        'outOfSync',
        'outOfSync',
        'outOfSync',
      ]);
      expect(feed(5002, 6)).toBe('step');
      // The median of the lower-RTT half of the run, 5002 (rtt 6) and one 5000 (rtt 10),
      // less its error bound (RTT/2 = 5): what these samples prove.
      expect(disc.status().correctionMs).toBeCloseTo(4996, 3);
      expect(feed(0.2)).toBe('ignore');
      expect(disc.inSync).toBe(true);
    });

    it('a good sample before confirmation brings it back without a step', () => {
      const base = new ManualClock(EPOCH);
      const disc = new ClockDiscipline(base);
      const feed = (offset: number) => {
        base.advance(200);
        const t0 = disc.now();
        base.advance(4);
        const t1 = disc.now();
        return disc.addSample({ t0, t1, leaderTime: (t0 + t1) / 2 + offset });
      };
      for (let i = 0; i < 6; i++) feed(0);
      expect(feed(900)).toMatchObject({ action: 'outOfSync', events: [{ type: 'outOfSync' }] });
      expect(feed(0)).toMatchObject({ action: 'ignore', events: [{ type: 'inSync' }] });
      expect(disc.status().correctionMs).toBe(0);
    });
  });

  describe('outliers', () => {
    it('high-RTT samples do not disturb the estimate', () => {
      const sim = makeSim(0);
      run(sim, { durationMs: 5_000, periodMs: 200, delays: jitter(5, 1, 3) });
      const before = sim.disc.status().correctionMs;
      expect(Math.abs(before)).toBeLessThan(1);
      sim.results = [];
      // Every other reply is stuck for ~0.8 s on the way back: each alone says −390 ms.
      const rnd = prng(6);
      for (let i = 0; i < 100; i++) {
        const r =
          i % 2 === 0 ? exchange(sim, 5, 790 + rnd() * 10) : exchange(sim, 1 + rnd() * 2, 1 + rnd() * 2);
        sim.real.advance(200);
        expect(Math.abs(error(sim))).toBeLessThan(2);
        expect(r.action === 'ignore' || r.action === 'slew').toBe(true);
      }
      expect(count(sim, 'stepped')).toBe(0);
      expect(count(sim, 'outOfSync')).toBe(0);
      // And beyond maxRttMs they are not even considered.
      expect(exchange(sim, 5, 1100).action).toBe('discarded');
    });
  });

  describe('drift', () => {
    it.each([200, -150])('learns a %i ppm drift and keeps time between samples', (ppm) => {
      const sim = makeSim(0, ppm);
      const late: number[] = [];
      run(sim, {
        durationMs: 10 * 60_000,
        periodMs: 1_000,
        tickMs: 250,
        delays: jitter(7, 1, 5),
        onTick: (err) => {
          if (sim.real.now() > EPOCH + 5 * 60_000) late.push(Math.abs(err));
        },
      });
      expect(sim.disc.status().driftPpm).toBeGreaterThan(ppm - 10);
      expect(sim.disc.status().driftPpm).toBeLessThan(ppm + 10);
      expect(Math.max(...late)).toBeLessThan(2);
      // Slews become rare once the rate is compensated.
      const lastFiveMinutes = sim.results.slice(-300).filter((r) => r.action === 'slew').length;
      expect(lastFiveMinutes).toBeLessThan(30);
      // The leader is unreachable for a minute: uncompensated, 200 ppm would be 12 ms.
      for (let i = 0; i < 60 * 10; i++) {
        sim.real.advance(100);
        sim.disc.tick();
      }
      expect(Math.abs(error(sim))).toBeLessThan(2);
    });
  });

  describe('leadership', () => {
    it('becomeReference keeps the correction, forgets the estimate and is in sync', () => {
      const sim = makeSim(5_000);
      exchange(sim, 2, 2);
      expect(sim.disc.inSync).toBe(false);
      const before = sim.disc.now();
      expect(sim.disc.becomeReference()).toEqual([{ type: 'inSync', offsetMs: 0 }]);
      expect(sim.disc.now()).toBe(before);
      expect(sim.disc.status()).toMatchObject({
        offsetMs: null,
        samples: 0,
        inSync: true,
        lastAction: 'reference',
        slewRemainingMs: 0,
        driftPpm: 0,
      });
      expect(sim.disc.becomeReference()).toEqual([]);
      sim.real.advance(60_000);
      expect(sim.disc.now()).toBe(before + 60_000); // a frozen correction: the base's rate
    });

    it('a stepped-down leader follows the new one again', () => {
      const sim = makeSim(30);
      sim.disc.becomeReference();
      run(sim, { durationMs: 5_000, periodMs: 200, delays: jitter(8, 1, 4) });
      expect(sim.events).toEqual([]); // already in sync: nothing to raise or clear
      expect(Math.abs(error(sim))).toBeLessThan(2);
    });
  });

  it('keeps within 5 ms when slow, lopsided replies crowd the fast half of the window', () => {
    // Found by the property below (seed 723206): around t = 53 s five of eight samples
    // were spikes (RTT 40-260 ms, mostly late on one side) and the median of the
    // lower-RTT half slewed the clock 7 ms off for 100 ms, though one 4.7 ms sample in
    // the same window proved the offset to ±2.4 ms.
    const sim = makeSim(0, 0);
    const worst: number[] = [];
    run(sim, {
      durationMs: 60_000,
      periodMs: 200,
      delays: jitter(723206, 0.5, 8),
      onTick: (err) => {
        if (sim.real.now() > EPOCH + 20_000) worst.push(Math.abs(err));
      },
    });
    expect(Math.max(...worst)).toBeLessThanOrEqual(5);
  });

  it('property: converges within 5 ms and is monotonic between steps, for any skew and drift', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -450, max: 450 }),
        fc.integer({ min: -100, max: 100 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (skew, ppm, seed) => {
          const sim = makeSim(skew, ppm);
          const worst: number[] = [];
          run(sim, {
            durationMs: 60_000,
            periodMs: 200,
            delays: jitter(seed, 0.5, 8),
            onTick: (err) => {
              if (sim.real.now() > EPOCH + 20_000) worst.push(Math.abs(err));
            },
          });
          expect(Math.max(...worst)).toBeLessThanOrEqual(5);
          // Near the limit a slow, lopsided reply (up to +150 ms here) may fence the
          // node until the next samples: fail-safe, and at most once.
          expect(count(sim, 'outOfSync')).toBeLessThanOrEqual(Math.abs(skew) + 150 < 500 ? 0 : 1);
          // Steps (if any) all go one way and never overshoot the skew.
          const steps = sim.events.flatMap((e) => (e.type === 'stepped' ? [e.byMs] : []));
          expect(steps.every((by) => Math.sign(by) === -Math.sign(skew))).toBe(true);
          expect(Math.abs(steps.reduce((x, by) => x + by, 0))).toBeLessThanOrEqual(Math.abs(skew) + 5);
          expect(sim.disc.inSync).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});
