/**
 * Results reads never go back: a fresh sum (an admin's read) started after another
 * completed counts at least as many finalized votes, for every option, and the final
 * result counts at least what any read showed. A count that shrinks is a finalized
 * vote that disappeared, which the final recount alone would not show.
 */
import type { FinalState } from '../final-state';
import type { ResultsValue } from '../history';
import { type Pair, opsOf, sec } from './pairs';
import type { FaultWindow, InvariantResult, Violation } from './types';
import { windowsAt } from './windows';

/** The options whose total in `b` is below `a`'s, as `a 5 → 4`. */
function shrunk(a: Record<string, number>, b: Record<string, number>): string[] {
  return Object.keys(a)
    .filter((k) => (b[k] ?? 0) < (a[k] ?? 0))
    .map((k) => `${k} ${a[k]} → ${b[k] ?? 0}`);
}

export function checkResultsReads(
  pairs: readonly Pair[],
  final: FinalState,
  windows: readonly FaultWindow[],
): InvariantResult {
  const byElection = new Map<string, Pair[]>();
  for (const p of pairs) {
    const v = p.value as ResultsValue;
    if (p.invoke.f !== 'results' || p.type !== 'ok' || !v.fresh || !v.totals) continue;
    byElection.set(v.electionId, [...(byElection.get(v.electionId) ?? []), p]);
  }
  const violations: Violation[] = [];
  for (const [electionId, ps] of byElection) {
    ps.sort((a, b) => a.start - b.start);
    // The read with the highest finalized count among those completed before each read started.
    let best: Pair | undefined;
    let done = 0;
    const byEnd = [...ps].sort((a, b) => a.end - b.end);
    for (const p of ps) {
      while (done < byEnd.length && byEnd[done]!.end < p.start) {
        const c = byEnd[done++]!;
        if (
          !best ||
          ((c.value as ResultsValue).finalized ?? 0) > ((best.value as ResultsValue).finalized ?? 0)
        )
          best = c;
      }
      if (!best) continue;
      const a = best.value as ResultsValue;
      const b = p.value as ResultsValue;
      const less = shrunk(a.totals ?? {}, b.totals ?? {});
      if ((b.finalized ?? 0) >= (a.finalized ?? 0) && less.length === 0) continue;
      const w = windowsAt(windows, best.start, p.end);
      violations.push({
        electionId,
        ops: [...opsOf(best), ...opsOf(p)],
        ...(w ? { faultWindow: w } : {}),
        message:
          `election ${electionId}: results read at ${sec(best.end)} (op ${best.complete?.index}) counted ${a.finalized} finalized, ` +
          `a later read at ${sec(p.end)} (op ${p.complete?.index}) ${b.finalized}${less.length ? ` (${less.join(', ')})` : ''}`,
      });
    }
    const el = final.elections[electionId];
    const last = byEnd.at(-1);
    if (el?.results && last) {
      const top = byEnd.reduce((m, p) =>
        ((p.value as ResultsValue).finalized ?? 0) > ((m.value as ResultsValue).finalized ?? 0) ? p : m,
      );
      const t = top.value as ResultsValue;
      const less = shrunk(t.totals ?? {}, el.results.totals);
      if (el.results.finalized < (t.finalized ?? 0) || less.length) {
        violations.push({
          electionId,
          ops: opsOf(top),
          message:
            `election ${electionId}: a read at ${sec(top.end)} (op ${top.complete?.index}) counted ${t.finalized} finalized, ` +
            `the final result ${el.results.finalized}${less.length ? ` (${less.join(', ')})` : ''}`,
        });
      }
    }
  }
  return {
    name: 'monotonic-results',
    description:
      'fresh results never count fewer finalized votes than an earlier read, nor than the final result',
    valid: violations.length === 0,
    violations,
  };
}
