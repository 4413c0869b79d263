import {
  FAULT_CLASSES,
  FAULT_KINDS,
  type FaultKind,
  makeSchedule,
  parseFaultClasses,
} from '../../chaos/schedule';
import { parseRunArgs } from '../../chaos/run-options';

/**
 * The nemesis schedule is a function of the seed (a failing run is replayed from its
 * seed), every enabled fault kind comes up in the first round, and closes are bounded
 * by the elections that may be closed.
 */
describe('chaos nemesis schedule', () => {
  test('the same seed gives the same schedule; another seed a different one', () => {
    const a = makeSchedule(42, FAULT_CLASSES, 40);
    expect(makeSchedule(42, FAULT_CLASSES, 40)).toEqual(a);
    expect(makeSchedule(43, FAULT_CLASSES, 40)).not.toEqual(a);
  });

  test('the first round injects every kind of the enabled classes once, each within its duration range', () => {
    const kinds = Object.keys(FAULT_KINDS) as FaultKind[];
    const s = makeSchedule(7, FAULT_CLASSES, kinds.length);
    expect(s.map((f) => f.kind).sort()).toEqual([...kinds].sort());
    for (const f of s) {
      const [lo, hi] = FAULT_KINDS[f.kind].ms;
      expect(f.durationMs).toBeGreaterThanOrEqual(lo);
      expect(f.durationMs).toBeLessThanOrEqual(hi);
      expect(f.choice).toBeGreaterThanOrEqual(0);
      expect(f.choice).toBeLessThan(1);
    }
  });

  test('only the chosen classes, and no more closes than allowed', () => {
    const s = makeSchedule(9, ['pause', 'close'], 30, 2);
    expect(new Set(s.map((f) => FAULT_KINDS[f.kind].cls))).toEqual(new Set(['pause', 'close']));
    expect(s.filter((f) => FAULT_KINDS[f.kind].cls === 'close')).toHaveLength(2);
    expect(s.length).toBeGreaterThan(2);
  });

  test('--faults names known classes only', () => {
    expect(parseFaultClasses('kill, clock')).toEqual(['kill', 'clock']);
    expect(() => parseFaultClasses('kill,meteor')).toThrow('unknown fault class "meteor"');
    expect(parseFaultClasses(undefined)).toEqual([...FAULT_CLASSES]);
  });

  test('run options: defaults, flags, and a named error for a bad one', () => {
    const o = parseRunArgs(['--duration', '600', '--seed', '5', '--faults', 'partition'], {
      outDir: '/tmp/x',
    });
    expect(o).toMatchObject({ durationS: 600, seed: 5, faults: ['partition'], outDir: '/tmp/x' });
    expect(o.voters * o.elections).toBeGreaterThanOrEqual(600 * 12);
    expect(() => parseRunArgs(['--duration', 'soon'], { outDir: '/tmp' })).toThrow(
      '--duration needs an integer',
    );
    expect(() => parseRunArgs(['--speed', '1'], { outDir: '/tmp' })).toThrow('unknown option --speed');
  });
});
