/**
 * Summary rows derived from the result files of the benchmark programs that do not
 * register their figures themselves (bench/summary.ts): the table must show every goal
 * whichever way a program reports. A program that calls `recordFigures` with the same
 * id replaces the derived row.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../local/stack';
import { type Figure, fmt } from './summary';

// biome-ignore lint/suspicious/noExplicitAny: result files are plain JSON written by the benches
type Json = Record<string, any>;

/** A result file and whether it is older than `since` (then its rows carry its date). */
function read(name: string, since: number): { r: Json; stale?: string } | null {
  const path = join(repoRoot, 'bench/results', `${name}.json`);
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Json;
    const at = statSync(path).mtime;
    return at.getTime() < since ? { r, stale: at.toISOString().slice(0, 16) } : { r };
  } catch {
    return null;
  }
}

/** Every row the existing result files give, older ones marked stale. */
export function derivedFigures(since: number): (Figure & { stale?: string })[] {
  const rows: (Figure & { stale?: string })[] = [];
  const add = (stale: string | undefined, f: Figure) => rows.push(stale ? { ...f, stale } : f);
  const p3 = read('pipeline-c3-m3', since);
  if (p3) {
    const { throughput: t, anchors: a, latency: l } = p3.r;
    const script = a.scriptPerSecond as number;
    add(p3.stale, {
      id: 'pipeline.throughput',
      figure: 'finalized votes/s, 3 coordinators, majority 2',
      value: `${fmt(t.perSecond)}/s`,
      anchor: `3-op atomic script ${fmt(script)}/s`,
      ratio: t.perSecond / script,
      goal: '>= 1.0x the 3-op atomic script, >= 15,000/s quiet',
      met: t.perSecond / script >= 1 && t.perSecond >= 15000,
    });
    add(p3.stale, {
      id: 'pipeline.vs-bullmq',
      figure: 'finalized votes/s vs BullMQ no-op jobs',
      value: `${fmt(t.perSecond)}/s`,
      anchor: `BullMQ ${fmt(a.bullmqPerSecond)}/s`,
      ratio: t.ratioToBullmq,
      goal: '>= 2.5x',
      met: t.ratioToBullmq >= 2.5,
    });
    add(p3.stale, {
      id: 'pipeline.latency-p99',
      figure: `accepted -> finalized p50 / p99 at ${fmt(l.offeredPerSecond)}/s offered`,
      value: `${fmt(l.acceptedToFinalized?.p50)} / ${fmt(l.acceptedToFinalized?.p99)} ms`,
      goal: 'p99 <= 100 ms',
      met: l.acceptedToFinalized?.p99 <= 100,
    });
  }
  const scaling = ['pipeline-c1-m3', 'pipeline-c3-m3', 'pipeline-c5-m3'].map((n) => read(n, since));
  const [c1, c3, c5] = scaling.map((s) => s?.r['throughput']?.perSecond as number | undefined);
  if (c3 !== undefined && c5 !== undefined) {
    add(scaling[2]?.stale ?? scaling[1]?.stale, {
      id: 'scaling.c5-vs-c3',
      figure: 'scaling: finalized votes/s with 1 / 3 / 5 coordinators',
      value: `${fmt(c1)} / ${fmt(c3)} / ${fmt(c5)}`,
      anchor: `3 coordinators ${fmt(c3)}/s`,
      ratio: c5 / c3,
      goal: '5 >= 0.95x 3',
      met: c5 / c3 >= 0.95,
    });
  }
  // Committees: each partition is judged by 3 coordinators and owned by one, so with 5
  // each coordinator should do 3/5 of the work per vote it did with 3.
  const cpu = scaling.map(
    (s) => s?.r['cost']?.throughputRun?.coordinatorCpuMsPerVoteMean as number | undefined,
  );
  if (cpu[1] !== undefined && cpu[2] !== undefined) {
    add(scaling[2]?.stale ?? scaling[1]?.stale, {
      id: 'scaling.cpu-per-coordinator',
      figure: 'CPU-ms per finalized vote per coordinator (mean), 3 -> 5 coordinators',
      value: `${fmt(cpu[1], 4)} -> ${fmt(cpu[2], 4)} ms`,
      anchor: `3/5 of 3's: ${fmt((cpu[1] * 3) / 5, 4)} ms`,
      ratio: cpu[2] / cpu[1],
      goal: 'falls as 3/N beyond 3 (ratio <= 0.6, 10% slack: <= 0.66)',
      met: cpu[2] / cpu[1] <= 0.66,
    });
  }
  const m6 = read('pipeline-c3-m6', since);
  if (m6)
    add(m6.stale, {
      id: 'scaling.m6',
      figure: 'scaling: 3 coordinators, 6 Redis masters',
      value: `${fmt(m6.r['throughput'].perSecond)}/s`,
      goal: 'recorded',
      met: null,
    });
  const http = read('http', since);
  if (http)
    add(http.stale, {
      id: 'http.submit',
      figure: 'HTTP vote submit through serverless-offline',
      value: `${fmt(http.r['submit'].perSecond)} req/s`,
      anchor: `trivial ${fmt(http.r['trivial'].perSecond)}/s`,
      ratio: http.r['ratio'],
      goal: '>= 0.8x trivial handler',
      met: http.r['met'],
    });
  const mutex = read('mutex', since);
  if (mutex)
    add(mutex.stale, {
      id: 'mutex',
      figure: 'mutex acquire+release with fencing',
      value: `${fmt(mutex.r['ours'])}/s`,
      anchor: `redis-semaphore ${fmt(mutex.r['theirs'])}/s`,
      ratio: mutex.r['ratio'],
      goal: '>= 1.0x redis-semaphore',
      met: mutex.r['met'],
    });
  const fan = read('fanout', since);
  if (fan) {
    const p99 = fan.r['delayMs']?.p99 as number;
    const perS = fan.r['tallyUpdatesPerSubscriber']?.perSecond as number;
    add(fan.stale, {
      id: 'fanout.delivery-p99',
      figure: `WebSocket fan-out delivery p99, ${fmt(fan.r['subscribers'])} subscribers, ${fmt(fan.r['votes']?.ratePerSecond)} votes/s`,
      value: `${fmt(p99)} ms`,
      goal: 'p99 <= 1,500 ms',
      met: p99 <= 1500,
    });
    add(fan.stale, {
      id: 'fanout.updates',
      figure: 'tally updates/s per subscriber',
      value: `${fmt(perS, 2)}/s`,
      goal: '>= 1/s',
      met: perS >= 1,
    });
  }
  const fo = read('failover', since);
  const agreed = fo?.r['failover']?.agreedMs;
  if (fo && agreed)
    add(fo.stale, {
      id: 'failover.leader',
      figure: 'leader failover median / max',
      value: `${fmt(agreed.median)} / ${fmt(agreed.max)} ms`,
      goal: '< 1,000 / < 2,000 ms',
      met: agreed.median < 1000 && agreed.max < 2000,
    });
  const rf = read('redis-failover', since);
  if (rf) {
    const r = rf.r;
    add(rf.stale, {
      id: 'redis-failover.stall',
      figure: 'Redis master SIGKILL: partitions without finalization / intake refused',
      value: `${fmt(r['victimPartitionsNoFinalizationMs'] / 1000, 2)} / ${fmt(r['intakeRefusedMs'] / 1000, 2)} s`,
      goal: 'recorded',
      met: null,
    });
    add(rf.stale, {
      id: 'redis-failover.exact',
      figure: 'Redis master SIGKILL: votes lost / counted twice',
      value: `${r['lost']} / ${r['countedTwice']}`,
      anchor: `${r['accepted']} accepted`,
      goal: '0 / 0',
      met: r['met'],
    });
  }
  const sp = read('secret-pipeline', since);
  if (sp)
    add(sp.stale, {
      id: 'secret-pipeline',
      figure: `finalized secret ballots/s (4 options, ${sp.r['coordinators']} validators)`,
      value: `${fmt(sp.r['secret']?.perSecond, 1)}/s`,
      anchor: `open ${fmt(sp.r['open']?.perSecond)}/s`,
      ratio: sp.r['ratioToOpen'],
      goal: '>= 500/s',
      met: sp.r['met'],
    });
  return rows;
}
