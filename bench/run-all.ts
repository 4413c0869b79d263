/**
 * `npm run bench`: every benchmark in one run (each re-measures its own anchors),
 * one after another so they do not share the 2 cores. Prints each program's table and
 * writes bench/results/*.json. About 10-15 minutes on this machine.
 *
 *   npm run bench                 # all
 *   npm run bench -- pipeline     # only the named ones: pipeline scaling http mutex failover fanout
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../local/stack';

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
  { name: 'mutex', file: 'mutex.ts', args: [] },
  { name: 'failover', file: 'failover.ts', args: ['--trials', '10'] },
  { name: 'fanout', file: 'fanout.ts', args: ['--subscribers', '1000', '--votes', '1000', '--rate', '100'] },
];

const only = process.argv.slice(2);
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
process.exit(failed ? 1 : 0);
