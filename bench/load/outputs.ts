import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { LoadOptions } from './options';
import { buildReport } from './report';
import type { LoadSummary } from './report-html';
import type { Vote } from './submitters';

/** Writes the files a run was asked for (--report HTML, --json summary) and names them on stdout. */
export function writeOutputs(
  o: LoadOptions,
  summary: LoadSummary,
  votes: Vote[],
  inFlight: [number, number][],
  t0: number,
): void {
  if (o.report) {
    const path = resolve(o.report);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, buildReport(o, summary, votes, inFlight, t0));
    process.stdout.write(`  report: ${path}\n`);
  }
  if (o.json) {
    const path = resolve(o.json);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify({ options: { ...o }, summary }, null, 2)}\n`);
    process.stdout.write(`  json: ${path}\n`);
  }
}
