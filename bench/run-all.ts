/**
 * `npm run bench`: every benchmark in one run (each re-measures its own anchors),
 * one after another so they do not share the 2 cores. Prints each program's table and
 * writes bench/results/*.json, then ONE summary table of every figure against its goal.
 * A benchmark program adds its figures to that table with `recordFigures` from
 * bench/summary.ts (see there); goals of issue 18 no program measured show as
 * "not measured". About 5 minutes on this machine at load 4 (2026-11-27), plus about a
 * minute expected for bench/memory.ts (5.6 min at load 48, 2026-12-02); the goal is under 15.
 *
 *   npm run bench                 # all
 *   npm run bench -- pipeline     # only the named ones: pipeline scaling http mutex failover
 *                                 # redis-failover fanout ballot-crypto ballot-browser
 *                                 # memory secret-pipeline voter-roll cold-start
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../local/stack';
import { UsageError, parseFlags, parseOrExit } from '../local/cli';
import { machine } from './common';
import { readFigures, summaryTable } from './summary';
import { derivedFigures } from './summary-results';

const runs: { name: string; file: string; args: string[] }[] = [
  {
    name: 'pipeline',
    file: 'pipeline.ts',
    args: ['--votes', '60000', '--latency-votes', '25000', '--rate', '5000'],
  },
  {
    name: 'scaling',
    file: 'pipeline.ts',
    args: ['--coordinators', '1', '--votes', '40000', '--latency-votes', '2000'],
  },
  {
    name: 'scaling',
    file: 'pipeline.ts',
    args: ['--coordinators', '5', '--votes', '40000', '--latency-votes', '2000'],
  },
  {
    name: 'scaling',
    file: 'pipeline.ts',
    args: ['--masters', '6', '--votes', '40000', '--latency-votes', '2000'],
  },
  { name: 'http', file: 'http.ts', args: [] },
  { name: 'read-flood', file: 'read-flood.ts', args: [] },
  { name: 'mutex', file: 'mutex.ts', args: [] },
  { name: 'failover', file: 'failover.ts', args: ['--trials', '10'] },
  { name: 'redis-failover', file: 'redis-failover.ts', args: ['--rate', '600', '--seconds', '12'] },
  { name: 'fanout', file: 'fanout.ts', args: ['--subscribers', '1000', '--votes', '1000', '--rate', '100'] },
  { name: 'cold-start', file: 'cold-start.ts', args: ['--votes', '1000', '--rate', '300'] },
  { name: 'ballot-crypto', file: 'ballot-crypto.ts', args: ['--ballots', '200', '--batch', '100'] },
  { name: 'ballot-browser', file: 'ballot-browser.ts', args: ['--ballots', '20'] },
  {
    name: 'memory',
    file: 'memory.ts',
    args: ['--votes', '30000', '--steps', '3', '--http-votes', '2000', '--idle', '100'],
  },
  { name: 'voter-roll', file: 'voter-roll.ts', args: ['--voters', '10000', '--rounds', '3'] },
  {
    name: 'secret-pipeline',
    file: 'secret-pipeline.ts',
    args: ['--ballots', '1000', '--open-votes', '20000'],
  },
];

const names = [...new Set(runs.map((r) => r.name))];
const usage = (): string =>
  [
    `Usage: npm run bench [-- NAME ...]   NAME: ${names.join(', ')}`,
    '  no NAME: every benchmark, one after another; results in bench/results/',
    '  -h, --help  this text',
  ].join('\n');
// A misspelt name must fail, not run nothing and print the previous results as if new.
const only = parseOrExit(() => {
  const { positionals } = parseFlags(process.argv.slice(2), {}, Number.POSITIVE_INFINITY);
  const unknown = positionals.filter((n) => !names.includes(n));
  if (unknown.length) throw new UsageError(`Unknown benchmark ${unknown.map((n) => `"${n}"`).join(', ')}`);
  return positionals;
}, usage);
const started = Date.now();
let failed = 0;
for (const r of runs) {
  if (only.length && !only.includes(r.name)) continue;
  console.log(`\n=== ${r.name}: node --import tsx bench/${r.file} ${r.args.join(' ')}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', r.file), ...r.args], {
    cwd: repoRoot,
    stdio: 'inherit',
    timeout: 6 * 60 * 1000,
  });
  if (res.status !== 0) {
    failed++;
    console.log(`=== ${r.name} failed (${res.status ?? res.signal})`);
  }
}
console.log(
  `\nAll benchmarks done in ${((Date.now() - started) / 60000).toFixed(1)} min; results in bench/results/.`,
);
printSummary();
process.exit(failed ? 1 : 0);

/**
 * One table over every figure of this run against its goal (bench/summary.ts): figures
 * the programs registered, and rows derived from the result files of those that do not.
 */
function printSummary(): void {
  const lines = summaryTable(readFigures(started), derivedFigures(started));
  console.log(
    `\nSummary (${machine()}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}):\n`,
  );
  for (const l of lines) console.log(l);
}
