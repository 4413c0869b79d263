/**
 * The checker's verdict as plain text for a terminal: one line per invariant, then each
 * violation (which vote, which fault window, which ops), then availability per fault.
 */
import { sec } from './pairs';
import type { CheckReport } from './types';

/** At most `maxPerInvariant` violations each: the first ones explain a run, the rest repeat. */
export function formatReport(r: CheckReport, maxPerInvariant = 10): string {
  const out: string[] = [];
  out.push(r.valid ? 'checker: every invariant holds' : 'checker: INVARIANTS BROKEN');
  for (const inv of r.invariants) {
    out.push(`  ${inv.valid ? 'ok  ' : 'FAIL'} ${inv.name}: ${inv.description}`);
    for (const v of inv.violations.slice(0, maxPerInvariant)) {
      out.push(
        `       - ${v.message}${v.faultWindow ? ` [fault: ${v.faultWindow}]` : ''}${v.ops ? ` [ops ${v.ops.join(', ')}]` : ''}`,
      );
    }
    if (inv.violations.length > maxPerInvariant)
      out.push(`       … and ${inv.violations.length - maxPerInvariant} more`);
  }
  const c = r.counts;
  out.push(
    `  submits ${c.submits}, acknowledged ${c.acknowledged}, acknowledged-lost ${c.acknowledgedLost}, ` +
      `double-counted ${c.doubleCounted}, counted after close ${c.countedAfterClose}, faults ${c.faults}`,
  );
  const a = r.availability;
  out.push(
    `  ops ${a.ops}: ok ${a.ok}, refused ${a.refused}, failed ${a.failed}, unknown ${a.unknown} ` +
      `(${(a.failedShare * 100).toFixed(1)}% failed or unknown)`,
  );
  for (const w of a.windows) {
    out.push(
      `    ${w.window}: ${w.ops} ops, ${(w.failedShare * 100).toFixed(1)}% failed, ` +
        `intake stopped ${sec(w.intakeStopMs)}, finalization stopped ${sec(w.finalizationStopMs)}`,
    );
  }
  return `${out.join('\n')}\n`;
}
