/**
 * The time series the chaos report draws, from the history: per time bucket, submits
 * acknowledged / failed / unknown and the latency of acknowledged submits.
 */
import type { Op } from './history';
import { isRefusal, wallToRun } from './checker/availability';
import { pairOps } from './checker/pairs';
import type { FinalState } from './final-state';

/** One bucket of the timeline. */
export interface SeriesPoint {
  /** Bucket start, ms of run time. */
  t: number;
  ok: number;
  /** Failed by the system (5xx, 429); correct refusals (409 already_voted…) are not drawn. */
  failed: number;
  unknown: number;
  /** Latency (ms) of the submits acknowledged in this bucket; null when none were. */
  p50: number | null;
  max: number | null;
  /** Votes finalized in this bucket (audit log `finalizedAt`), when the final state is given. */
  finalized: number;
}

const quantile = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** Submits bucketed by completion time (`bucketMs` default: 1/100 of the run, at least 250 ms). */
export function submitSeries(
  history: readonly Op[],
  bucketMs?: number,
  final?: FinalState,
): { bucketMs: number; points: SeriesPoint[] } {
  const pairs = pairOps(history).filter((p) => p.invoke.f === 'submit' && p.complete);
  const end = history.reduce((t, o) => Math.max(t, o.time), 0);
  const size = bucketMs ?? Math.max(250, Math.ceil(end / 100 / 250) * 250);
  const n = Math.max(1, Math.ceil((end + 1) / size));
  const lat: number[][] = Array.from({ length: n }, () => []);
  const points: SeriesPoint[] = Array.from({ length: n }, (_, i) => ({
    t: i * size,
    ok: 0,
    failed: 0,
    unknown: 0,
    p50: null,
    max: null,
    finalized: 0,
  }));
  const toRun = wallToRun(history);
  for (const e of Object.values(final?.elections ?? {})) {
    for (const a of e.audit) {
      const t = a.finalizedAt ? toRun(Date.parse(a.finalizedAt)) : Number.NaN;
      if (Number.isFinite(t) && t >= 0) points[Math.min(n - 1, Math.floor(t / size))]!.finalized++;
    }
  }
  for (const p of pairs) {
    const i = Math.min(n - 1, Math.floor(p.end / size));
    const pt = points[i]!;
    if (p.type === 'ok') {
      pt.ok++;
      lat[i]!.push(p.end - p.start);
    } else if (p.type === 'info') pt.unknown++;
    else if (!isRefusal(p)) pt.failed++;
  }
  points.forEach((pt, i) => {
    const xs = lat[i]!.sort((a, b) => a - b);
    if (xs.length) {
      pt.p50 = quantile(xs, 0.5);
      pt.max = xs.at(-1)!;
    }
  });
  return { bucketMs: size, points };
}
