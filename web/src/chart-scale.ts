/**
 * The arithmetic of the monitoring page's time charts (time-chart.tsx), kept apart
 * from React so it is unit-tested on its own: value axes with round tick steps, time
 * ticks at round clock seconds, the sample under a pointer, and clock labels.
 */

/** A value axis: its domain (from the lowest to the highest tick) and the ticks on it. */
export interface ValueAxis {
  min: number;
  max: number;
  ticks: number[];
}

/** 1, 2 or 5 times a power of ten: steps a person reads off an axis without arithmetic. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * power;
}

/**
 * A value axis covering every value and zero (a rate or a queue length read against a
 * zero line is not exaggerated), with about `count` intervals of a nice step. An empty
 * or flat series still gets an axis from 0 to 1.
 */
export function valueAxis(values: readonly (number | null)[], count = 4): ValueAxis {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (hi === lo) hi = lo + 1;
  const step = niceStep(hi - lo, count);
  const first = Math.floor(lo / step);
  const last = Math.ceil(hi / step);
  // Rounded to the step's precision: 3 * 0.1 must be 0.3, not 0.30000000000000004.
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(digits)));
  return { min: ticks[0] ?? 0, max: ticks[ticks.length - 1] ?? 1, ticks };
}

const TIME_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/**
 * Times (epoch ms) at whole multiples of a round step (1 s, 5 s, 15 s, 1 min, ...)
 * within [from, to], at most `max` of them: where the time axis puts its labels.
 */
export function timeTicks(from: number, to: number, max = 5): number[] {
  if (!(to > from)) return Number.isFinite(from) ? [from] : [];
  const spanS = (to - from) / 1000;
  const stepS = TIME_STEPS_S.find((s) => spanS / s <= Math.max(1, max - 1)) ?? 3600;
  const step = stepS * 1000;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

/** `HH:MM:SS` in the browser's time zone, 24-hour: short and unambiguous on an axis. */
export function clockLabel(t: number): string {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The index of the sample whose time is nearest to `t` (-1 without samples). */
export function nearestIndex(times: readonly number[], t: number): number {
  let best = -1;
  let bestDistance = Number.POSITIVE_INFINITY;
  times.forEach((x, i) => {
    const d = Math.abs(x - t);
    if (d < bestDistance) {
      best = i;
      bestDistance = d;
    }
  });
  return best;
}

/** A value as the axis and the tooltip print it: at most one decimal, none for large values. */
export function formatValue(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return 'no value';
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Number.isInteger(v) ? String(v) : v.toFixed(1);
  return unit ? `${n} ${unit}` : n;
}
