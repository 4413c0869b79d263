/**
 * `npm run bench`: every benchmark in one run (each re-measures its own anchors),
 * one after another so they do not share the 2 cores. Prints each program's table and
 * writes bench/results/*.json. About 5 minutes on this machine (2026-11-27).
 *
 *   npm run bench                 # all
 *   npm run bench -- pipeline     # only the named ones: pipeline scaling http mutex failover
 *                                 # redis-failover fanout ballot-crypto ballot-browser
 *                                 # secret-pipeline
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../local/stack';
import { UsageError, parseFlags, parseOrExit } from '../local/cli';

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
  { name: 'ballot-crypto', file: 'ballot-crypto.ts', args: ['--ballots', '200', '--batch', '100'] },
  { name: 'ballot-browser', file: 'ballot-browser.ts', args: ['--ballots', '20'] },
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

/** One table over every result file: figure, value, anchor, ratio, goal, met. */
function printSummary(): void {
  // biome-ignore lint/suspicious/noExplicitAny: result files are plain JSON written by the benches
  const read = (name: string): Record<string, any> | null => {
    try {
      return JSON.parse(readFileSync(join(repoRoot, 'bench/results', `${name}.json`), 'utf8'));
    } catch {
      return null;
    }
  };
  const rows: string[][] = [];
  const f = (n: number | undefined, d = 0) =>
    typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '-';
  const met = (ok: boolean) => (ok ? 'met' : 'not met');
  const p3 = read('pipeline-c3-m3');
  if (p3) {
    const t = p3['throughput'];
    const a = p3['anchors'];
    const l = p3['latency'];
    rows.push([
      'finalized votes/s (3 coordinators)',
      f(t.perSecond),
      `streams ${f(a.streamsPerSecond)}/s`,
      f(t.ratioToStreams, 2),
      '>= 15000/s and >= 0.5x',
      met(t.perSecond >= 15000 && t.ratioToStreams >= 0.5),
    ]);
    rows.push([
      'finalized votes/s vs BullMQ',
      f(t.perSecond),
      `BullMQ ${f(a.bullmqPerSecond)}/s`,
      f(t.ratioToBullmq, 2),
      '>= 2.5x',
      met(t.ratioToBullmq >= 2.5),
    ]);
    rows.push([
      `accepted->finalized p50 / p99 at ${l.offeredPerSecond}/s offered`,
      `${f(l.acceptedToFinalized?.p50)} / ${f(l.acceptedToFinalized?.p99)} ms`,
      '-',
      '-',
      'p99 <= 100 ms',
      met(l.acceptedToFinalized?.p99 <= 100),
    ]);
    rows.push([
      '  same, seen by the injecting client p50 / p99',
      `${f(l.p50)} / ${f(l.p99)} ms`,
      '-',
      '-',
      'recorded',
      '-',
    ]);
  }
  const http = read('http');
  if (http) {
    rows.push([
      'HTTP submit req/s',
      f(http['submit'].perSecond),
      `trivial ${f(http['trivial'].perSecond)}/s`,
      f(http['ratio'], 2),
      '>= 0.8x',
      met(http['met']),
    ]);
  }
  const mutex = read('mutex');
  if (mutex) {
    rows.push([
      'mutex acquire+release/s',
      f(mutex['ours']),
      `redis-semaphore ${f(mutex['theirs'])}/s`,
      f(mutex['ratio'], 2),
      '>= 1.0x',
      met(mutex['met']),
    ]);
  }
  const s = read('failover')?.['failover']?.agreedMs;
  if (s) {
    rows.push([
      'leader failover median / max',
      `${f(s.median)} / ${f(s.max)} ms`,
      '-',
      '-',
      '< 1000 / < 2000 ms',
      met(s.median < 1000 && s.max < 2000),
    ]);
  }
  const rf = read('redis-failover');
  if (rf) {
    rows.push([
      'Redis master SIGKILL: its partitions without finalization',
      `${f(rf['victimPartitionsNoFinalizationMs'] / 1000, 2)} s`,
      '-',
      '-',
      'recorded',
      '-',
    ]);
    rows.push([
      'Redis master SIGKILL: intake refused (503) on its partitions',
      `${f(rf['intakeRefusedMs'] / 1000, 2)} s`,
      '-',
      '-',
      'recorded',
      '-',
    ]);
    rows.push([
      'Redis master SIGKILL: votes lost / counted twice',
      `${rf['lost']} / ${rf['countedTwice']}`,
      `${rf['accepted']} accepted`,
      '-',
      '0 / 0',
      met(rf['met']),
    ]);
  }
  const fan = read('fanout');
  if (fan)
    rows.push([
      'fan-out delay p99, 1000 subscribers',
      `${f(fan['delayMs']?.p99)} ms`,
      '-',
      '-',
      'recorded',
      '-',
    ]);
  const sp = read('secret-pipeline');
  if (sp) {
    rows.push([
      `finalized secret ballots/s (4 options, ${sp['coordinators']} validators), load ${sp['secret']?.loadBefore?.[0] ?? '-'}`,
      f(sp['secret']?.perSecond),
      `open ${f(sp['open']?.perSecond)}/s`,
      f(sp['ratioToOpen'], 3),
      '>= 500/s',
      met(sp['met']),
    ]);
  }
  for (const [name, label] of [
    ['pipeline-c1-m3', '1 coordinator, 3 masters'],
    ['pipeline-c3-m3', '3 coordinators, 3 masters'],
    ['pipeline-c5-m3', '5 coordinators, 3 masters'],
    ['pipeline-c3-m6', '3 coordinators, 6 masters'],
  ] as const) {
    const r = read(name);
    if (r) rows.push([`scaling: ${label}`, f(r['throughput'].perSecond), '-', '-', 'grows or holds', '-']);
  }
  console.log('\n| figure | value | anchor | ratio | goal | met |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}
