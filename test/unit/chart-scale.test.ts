import {
  clockLabel,
  formatValue,
  nearestIndex,
  niceStep,
  timeTicks,
  valueAxis,
} from '../../web/src/chart-scale';

/**
 * The monitoring charts' axes (web/src/time-chart.tsx): round value steps that include
 * zero and every value, time labels at round clock seconds, and the sample a pointer or
 * the arrow keys land on.
 */
describe('chart scales', () => {
  it('picks 1, 2 or 5 times a power of ten as the value step', () => {
    expect(niceStep(10, 4)).toBe(5);
    expect(niceStep(1, 4)).toBe(0.5);
    expect(niceStep(7, 4)).toBe(2);
    expect(niceStep(300, 4)).toBe(100);
    expect(niceStep(0, 4)).toBe(1);
  });

  it('spans zero and every value with round ticks, printed without float noise', () => {
    expect(valueAxis([0.3, 0.7, null, 1.1])).toEqual({ min: 0, max: 1.5, ticks: [0, 0.5, 1, 1.5] });
    expect(valueAxis([0.1, 0.3])).toEqual({ min: 0, max: 0.3, ticks: [0, 0.1, 0.2, 0.3] });
    expect(valueAxis([-0.5, 1.2])).toEqual({ min: -0.5, max: 1.5, ticks: [-0.5, 0, 0.5, 1, 1.5] });
    const big = valueAxis([12_345]);
    expect(big.ticks[0]).toBe(0);
    expect(big.max).toBeGreaterThanOrEqual(12_345);
    expect(big.ticks.length).toBeLessThanOrEqual(6);
  });

  it('gives an empty or flat series an axis from 0 to 1', () => {
    expect(valueAxis([])).toEqual({ min: 0, max: 1, ticks: [0, 0.5, 1] });
    expect(valueAxis([0, 0, null])).toEqual({ min: 0, max: 1, ticks: [0, 0.5, 1] });
  });

  it('puts time labels at round clock seconds inside the span, at most five', () => {
    const from = Date.UTC(2026, 0, 1, 10, 0, 3, 400);
    expect(timeTicks(from, from + 20_000)).toEqual(
      [5, 10, 15, 20].map((s) => Date.UTC(2026, 0, 1, 10, 0, s)),
    );
    const long = timeTicks(from, from + 120_000);
    expect(long).toEqual([30, 60, 90, 120].map((s) => Date.UTC(2026, 0, 1, 10, 0, 0) + s * 1000));
    for (const [a, b] of [
      [from, from + 7_000],
      [from, from + 3_600_000],
    ] as const) {
      const t = timeTicks(a, b);
      expect(t.length).toBeGreaterThan(0);
      expect(t.length).toBeLessThanOrEqual(5);
      for (const x of t) expect(x >= a && x <= b).toBe(true);
    }
    expect(timeTicks(from, from)).toEqual([from]);
  });

  it('labels times as HH:MM:SS and finds the nearest sample', () => {
    expect(clockLabel(new Date(2026, 0, 1, 9, 5, 7).getTime())).toBe('09:05:07');
    expect(nearestIndex([1000, 3000, 5000], 3900)).toBe(1);
    expect(nearestIndex([1000, 3000, 5000], 4100)).toBe(2);
    expect(nearestIndex([1000, 3000, 5000], -10)).toBe(0);
    expect(nearestIndex([], 5)).toBe(-1);
  });

  it('prints values with their unit and says when there is none', () => {
    expect(formatValue(0.25, 'ms')).toBe('0.3 ms');
    expect(formatValue(3, '/s')).toBe('3 /s');
    expect(formatValue(1234.5, 'votes')).toBe('1235 votes');
    expect(formatValue(null, 'ms')).toBe('no value');
  });
});
