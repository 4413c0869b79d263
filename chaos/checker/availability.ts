/**
 * Availability from the history: how many client ops the system failed or left
 * unknown, and per fault window how long intake (no 202) and finalization (no audit
 * entry finalized) stopped. Correct refusals (409 already_voted, 422…) are not failures.
 */
import type { Op } from '../history';
import type { FinalState } from '../final-state';
import type { Pair } from './pairs';
import type { Availability, FaultWindow, WindowAvailability } from './types';
import { windowLabel } from './windows';

/** `fail` with a 4xx other than 429 is the system answering correctly. */
export const isRefusal = (p: Pair): boolean =>
  p.type === 'fail' && /^4(?!29)\d\d/.test(p.complete?.error ?? '');

/** Run time of a wall-clock instant, using the history's own pairing of the two clocks. */
export function wallToRun(history: readonly Op[]): (wall: number) => number {
  const offsets = history.map((o) => o.wall - o.time).sort((a, b) => a - b);
  const offset = offsets[Math.floor(offsets.length / 2)] ?? 0;
  return (wall) => wall - offset;
}

/** The longest stretch after `start` with no event, that began before `end` (events sorted). */
export function longestStop(events: readonly number[], start: number, end: number, last: number): number {
  let prev = start;
  let worst = 0;
  for (const t of events) {
    if (t <= start) continue;
    if (prev >= end) break;
    worst = Math.max(worst, t - prev);
    prev = t;
  }
  if (prev < end) worst = Math.max(worst, last - prev);
  return worst;
}

export function availability(
  history: readonly Op[],
  pairs: readonly Pair[],
  final: FinalState,
  windows: readonly FaultWindow[],
): Availability {
  const done = pairs.filter((p) => p.complete);
  const byF: Availability['byF'] = {};
  let ok = 0;
  let failed = 0;
  let refused = 0;
  let unknown = 0;
  for (const p of done) {
    byF[p.invoke.f] ??= { ok: 0, failed: 0, refused: 0, unknown: 0 };
    const c = byF[p.invoke.f]!;
    if (p.type === 'ok') {
      ok++;
      c.ok++;
    } else if (p.type === 'info') {
      unknown++;
      c.unknown++;
    } else if (isRefusal(p)) {
      refused++;
      c.refused++;
    } else {
      failed++;
      c.failed++;
    }
  }
  const last = history.reduce((t, o) => Math.max(t, o.time), 0);
  const acks = done
    .filter((p) => p.invoke.f === 'submit' && p.type === 'ok')
    .map((p) => p.end)
    .sort((a, b) => a - b);
  const toRun = wallToRun(history);
  const fins = Object.values(final.elections)
    .flatMap((e) => e.audit.map((a) => (a.finalizedAt ? toRun(Date.parse(a.finalizedAt)) : Number.NaN)))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const lastFin = Math.max(last, fins.at(-1) ?? 0);
  const perWindow: WindowAvailability[] = windows.map((w) => {
    const inside = done.filter((p) => p.end >= w.start && p.end <= Math.max(w.end, w.start));
    const bad = inside.filter((p) => p.type === 'info' || (p.type === 'fail' && !isRefusal(p))).length;
    // A fault of no duration (a clock step) is judged over what follows it until the next op settles.
    const end = Math.max(w.end, w.start + 1);
    return {
      window: windowLabel(w),
      start: w.start,
      end: w.end,
      ops: inside.length,
      failedShare: inside.length ? bad / inside.length : 0,
      intakeStopMs: Math.round(longestStop(acks, w.start, end, last)),
      finalizationStopMs: Math.round(longestStop(fins, w.start, end, lastFin)),
    };
  });
  return {
    ops: done.length,
    ok,
    failed,
    refused,
    unknown,
    failedShare: done.length ? (failed + unknown) / done.length : 0,
    byF,
    windows: perWindow,
  };
}
