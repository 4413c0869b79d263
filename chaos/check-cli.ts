/**
 * `npm run chaos:check -- <run folder> [--html]`: checks a saved chaos run again
 * (history.ndjson, final-state.json, leaders.json of the folder `npm run chaos` wrote),
 * so a verdict can be reproduced, or a run re-judged by a newer checker, without
 * running the faults again. Exit code 0 when every invariant holds, 1 when not, 2 on
 * bad usage.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, formatReport, type LeaderEvent } from './checker';
import type { FinalState } from './final-state';
import { readHistory } from './history';
import { renderReport } from './report-html';

function main(argv: string[]): number {
  const dir = argv.find((a) => !a.startsWith('--'));
  if (!dir || argv.includes('-h') || argv.includes('--help')) {
    process.stderr.write('Usage: npm run chaos:check -- <run folder> [--html]\n');
    return dir ? 0 : 2;
  }
  for (const f of ['history.ndjson', 'final-state.json']) {
    if (!existsSync(join(dir, f))) {
      process.stderr.write(`chaos:check: no ${f} in ${dir} (a folder written by npm run chaos)\n`);
      return 2;
    }
  }
  const history = readHistory(join(dir, 'history.ndjson'));
  const final = JSON.parse(readFileSync(join(dir, 'final-state.json'), 'utf8')) as FinalState;
  const leadersFile = join(dir, 'leaders.json');
  const leaderHistory = existsSync(leadersFile)
    ? (JSON.parse(readFileSync(leadersFile, 'utf8')) as LeaderEvent[])
    : undefined;
  const report = checkHistory({ history, final, ...(leaderHistory ? { leaderHistory } : {}) });
  process.stdout.write(formatReport(report));
  if (argv.includes('--html')) {
    const seedFile = join(dir, 'seed.txt');
    const seed = existsSync(seedFile) ? Number(readFileSync(seedFile, 'utf8').trim()) : 0;
    const out = join(dir, 'report-recheck.html');
    writeFileSync(
      out,
      renderReport({ history, report, final, title: `chaos run seed ${seed} (re-checked)`, seed }),
    );
    process.stdout.write(`report: ${out}\n`);
  }
  return report.valid ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
