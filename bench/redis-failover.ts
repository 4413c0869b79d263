/**
 * Redis master failover under load (issue 6 goal 5, issue 11): votes are submitted at a
 * steady rate through the submit code path (enqueue script on the master's connection,
 * then WAIT there for one replica: 202 only once a replica has the vote, else 503), a
 * Redis master is killed with SIGKILL mid-run, clients retry refused submissions with
 * the same idempotency key, and afterwards every accepted vote is looked up in the
 * audit log. Reports:
 *  - how long intake was refused (503) on the failed master's partitions: from the kill
 *    to the last refused attempt;
 *  - how long the failed master's partitions went without a finalization, and how long
 *    the whole system went without one;
 *  - votes lost (answered 202, never finalized) and votes counted twice: both must be 0.
 *
 *   node --import tsx bench/redis-failover.ts [--rate 600] [--seconds 12] [--kill-at 4]
 *     [--replicas 2] [--wait-ms 250]
 *
 * Starts and stops its own Redis Cluster (3 masters with --replicas replicas each; the
 * default 2 is `npm start`'s topology) whose dead nodes are relaunched as `npm start`
 * does, and 3 coordinators.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { findFreePortRange } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import { startRedisCluster } from '../local/redis-cluster';
import { systemClock } from '../shared/clock';
import { parseSeeds } from '../shared/config';
import { ElectionStore } from '../shared/elections/store';
import { ApiError } from '../shared/errors';
import { makeVoteId, partitionOf } from '../shared/elections/model';
import { createRedisCluster } from '../shared/redis/client';
import { partitionKeys } from '../shared/redis/keys';
import { plainBallot } from '../shared/votes/ballot';
import { readResults } from '../shared/votes/read';
import { submitVote } from '../shared/votes/submit';
import { decodeVoteLogEntry } from '../shared/votes/vote-log';
import { machine, benchOptions, runBench, sleep, startBenchCoordinators, writeResult } from './common';
import { loadSettings } from '../shared/settings/load';

const benchSettings = loadSettings();

const opts = benchOptions('node --import tsx bench/redis-failover.ts', {
  rate: { default: 600, rule: { above: 0 }, help: 'votes per second offered' },
  seconds: { default: 12, rule: { above: 0 }, help: 'submission time' },
  'kill-at': { default: 4, rule: { min: 0 }, help: 'seconds in when the master is killed' },
  replicas: { default: 2, rule: { int: true, min: 1, max: 2 }, help: 'replicas per master' },
  'wait-ms': { default: 250, rule: { min: 0 }, help: 'WAIT timeout of a submit' },
});
const RATE = opts.rate;
const SECONDS = opts.seconds;
const KILL_AT_S = opts['kill-at'];
const REPLICAS = opts.replicas;
const WAIT_MS = opts['wait-ms'];
const RETRY_FOR_MS = 30_000;
/** A probe sends a fresh vote to the failed master's partitions this often. */
const PROBE_EVERY_MS = 50;

// Spread arguments overflow the stack for the many refusal times of a long outage.
const min = (xs: number[]): number => xs.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
const max = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);

interface Outcome {
  voter: string;
  voteId?: string;
  receipt?: string;
  attempts: number;
  error?: string;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qv-bench-'));
  const nodes = 3 * (1 + REPLICAS);
  const cluster = await startRedisCluster({
    basePort: await findFreePortRange(nodes, 10000),
    nodes,
    replicas: REPLICAS,
    dataDir: dir,
    fresh: true,
    relaunch: true,
  });
  const procs: ManagedProcess[] = [];
  const redis = createRedisCluster(parseSeeds(cluster.seeds));
  const submitter = createRedisCluster(parseSeeds(cluster.seeds));
  submitter.on('error', () => {});
  redis.on('error', () => {});
  try {
    const members = ['r1', 'r2', 'r3'];
    procs.push(...(await startBenchCoordinators(cluster.seeds, members, { LOG_LEVEL: 'warn' })));
    await sleep(2500); // leader, partition ownership, clock sync
    const store = new ElectionStore(redis, systemClock, 16);
    const created = await store.create({
      title: 'Redis failover bench',
      options: [
        { id: 'a', label: 'A' },
        { id: 'b', label: 'B' },
      ],
      opensAt: null,
      closesAt: null,
      voters: null,
      hideTotalsUntilClosed: false,
    });
    const e = await store.open(created.id);
    // The victim: the master that holds partition 0.
    const slotOwner = (slot: number) => redis.slots[slot]?.[0] ?? '';
    await redis.get(partitionKeys(e.tags[0]!).gate);
    const victimKey = slotOwner(calculateSlot(e.tags[0]!));
    const victimPort = Number(victimKey.split(':')[1]);
    const victim = cluster.processes[cluster.ports.indexOf(victimPort)]!;
    const victimPartitions = e.tags
      .map((t, p) => ({ p, key: slotOwner(calculateSlot(t)) }))
      .filter((x) => x.key === victimKey)
      .map((x) => x.p);

    const voteIdPartition = (voter: string): number => partitionOf(voter, e.partitions, e.partitionSalt);
    const total = RATE * SECONDS;
    const outcomes: Outcome[] = [];
    const refusedAt: number[] = []; // times (ms from start) of refused attempts
    let refused503 = 0;
    const started = Date.now();
    let killedAt = Number.NaN;
    // The probe: one fresh vote at a time to the failed master's partitions, every 50 ms,
    // from start to end: when intake there is refused and when it resumes, to ~50 ms.
    const probe: { at: number; ok: boolean }[] = [];
    let probing = true;
    const prober = (async () => {
      for (let n = 0; probing; n++) {
        const voter = `probe-${n}`;
        if (!victimPartitions.includes(voteIdPartition(voter))) continue;
        const ok = await submitVote(
          submitter,
          systemClock,
          plainBallot,
          e,
          voter,
          { optionId: 'a' },
          `p-${n}`,
          {
            waitReplicas: 1,
            waitTimeoutMs: WAIT_MS,
          },
        ).then(
          () => true,
          () => false,
        );
        probe.push({ at: Date.now() - started, ok });
        await sleep(PROBE_EVERY_MS);
      }
    })();
    const one = async (i: number): Promise<void> => {
      const o: Outcome = { voter: `rf-${i}`, attempts: 0 };
      outcomes.push(o);
      const until = Date.now() + RETRY_FOR_MS;
      for (;;) {
        o.attempts++;
        try {
          const r = await submitVote(
            submitter,
            systemClock,
            plainBallot,
            e,
            o.voter,
            { optionId: i % 2 ? 'a' : 'b' },
            `idem-${i}`,
            { waitReplicas: 1, waitTimeoutMs: WAIT_MS },
          );
          o.voteId = r.voteId;
          o.receipt = r.receipt;
          delete o.error;
          okTick++;
          return;
        } catch (err) {
          o.error = (err as Error).message;
          if (err instanceof ApiError && err.status !== 503) return; // a refusal, not "retry"
          refused503++; // an ApiError 503, or a connection error the HTTP layer answers 503
          errTick++;
          lastErr = o.error.slice(0, 60);
          refusedAt.push(Date.now() - started);
          if (Date.now() > until) return;
          // As clients do: Retry-After (1 s). A retry storm would slow this process down.
          await sleep(err instanceof ApiError && err.headers?.['Retry-After'] ? 1000 : 200);
        }
      }
    };
    let okTick = 0;
    let errTick = 0;
    let lastErr = '';
    const ticker = setInterval(() => {
      if (benchSettings.BENCH_VERBOSE)
        console.log(
          `${((Date.now() - started) / 1000).toFixed(0)} s: ${okTick} ok, ${errTick} refused ${lastErr}`,
        );
      okTick = errTick = 0;
      lastErr = '';
    }, 1000);
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; ) {
      const due = Math.min(total, Math.floor(((Date.now() - started) * RATE) / 1000) + 1);
      for (; i < due; i++) inflight.push(one(i));
      if (Number.isNaN(killedAt) && Date.now() - started >= KILL_AT_S * 1000) {
        killedAt = Date.now() - started;
        victim.signal('SIGKILL');
        console.log(
          `SIGKILL to the master on port ${victimPort} (partitions ${victimPartitions.join(', ')})`,
        );
      }
      await sleep(5);
    }
    await Promise.all(inflight);
    probing = false;
    await prober;
    clearInterval(ticker);
    if (benchSettings.BENCH_VERBOSE) {
      const st = (c: typeof submitter) =>
        c
          .nodes('all')
          .map(
            (n) =>
              `${n.options.port}:${n.status}:${(n as unknown as { commandQueue: { length: number } }).commandQueue.length}`,
          );
      console.log('submitter nodes', st(submitter), 'status', submitter.status);
      console.log('victim slot owner now', submitter.slots[calculateSlot(e.tags[0]!)]);
    }
    const submittedS = (Date.now() - started) / 1000;
    const accepted = outcomes.filter((o) => o.voteId);
    console.log(
      `${accepted.length}/${total} accepted in ${submittedS.toFixed(1)} s; waiting for finalization...`,
    );
    const deadline = Date.now() + 90_000;
    let results = await readResults(redis, systemClock, e);
    const expected = accepted.length + probe.filter((x) => x.ok).length; // the probe's votes count too
    while (results.finalized + results.rejected < expected && Date.now() < deadline) {
      await sleep(250);
      results = await readResults(redis, systemClock, e);
    }

    // Everything finalized, from the audit log; voters from the vote log.
    const audit = new Map<string, { outcome: string; receipt: string; at: number; partition: number }>();
    const voterOf = new Map<string, string>();
    for (const [p, tag] of e.tags.entries()) {
      const k = partitionKeys(tag);
      for (const [, f] of await redis.xrange(k.audit, '-', '+')) {
        const h: Record<string, string> = {};
        for (let j = 0; j + 1 < f.length; j += 2) h[f[j]!] = f[j + 1]!;
        audit.set(makeVoteId(e.id, p, h['vote'] ?? ''), {
          outcome: h['outcome'] ?? '',
          receipt: h['receipt'] ?? '',
          at: Date.parse(h['at'] ?? '') - started,
          partition: p,
        });
      }
      for (const [sid, f] of await redis.xrange(k.votes, '-', '+')) {
        voterOf.set(makeVoteId(e.id, p, sid), decodeVoteLogEntry(f).voter);
      }
    }
    // Every 202 was confirmed by a replica: none may be missing.
    const lost = accepted.filter((o) => audit.get(o.voteId!)?.receipt !== o.receipt);
    const countedPerVoter = new Map<string, number>();
    for (const [voteId, a] of audit) {
      if (a.outcome !== 'counted') continue;
      const voter = voterOf.get(voteId) ?? `?${voteId}`;
      countedPerVoter.set(voter, (countedPerVoter.get(voter) ?? 0) + 1);
    }
    const twice = [...countedPerVoter.values()].filter((n) => n > 1).length;

    // Finalization gaps after the kill: on the victim's partitions, and anywhere.
    const times = [...audit.values()].map((a) => ({
      at: a.at,
      victim: victimPartitions.includes(a.partition),
    }));
    const firstVictimAfter = min(times.filter((t) => t.victim && t.at > killedAt).map((t) => t.at));
    const all = times.map((t) => t.at).sort((a, b) => a - b);
    let longestGap = 0;
    for (let j = 1; j < all.length; j++) {
      if (all[j]! < killedAt) continue;
      longestGap = Math.max(longestGap, all[j]! - Math.max(all[j - 1]!, killedAt));
    }
    const refusedAfterKill = refusedAt.filter((t) => t >= killedAt);
    const refusalWindowMs = refusedAfterKill.length ? max(refusedAfterKill) - min(refusedAfterKill) : 0;
    // From the kill to the probe's first accepted vote after its last refused one.
    const lastProbeFail = max(probe.filter((x) => !x.ok && x.at >= killedAt).map((x) => x.at));
    const resumed = probe.find((x) => x.ok && x.at > lastProbeFail);
    const intakeRefusedMs = Number.isFinite(lastProbeFail) ? (resumed?.at ?? Number.NaN) - killedAt : 0;
    const probeRefused = probe.filter((x) => !x.ok).length;
    const result = {
      machine: machine(),
      offeredPerSecond: RATE,
      seconds: SECONDS,
      topology: `3 masters x ${REPLICAS} replicas, dead nodes relaunched`,
      waitMs: WAIT_MS,
      relaunches: cluster.relaunches,
      killedAtMs: killedAt,
      victim: { port: victimPort, partitions: victimPartitions },
      submitted: total,
      accepted: accepted.length,
      neverAccepted: outcomes.filter((o) => !o.voteId).length,
      errors: [...new Set(outcomes.filter((o) => o.error).map((o) => o.error))].slice(0, 5),
      retriedVoters: outcomes.filter((o) => o.attempts > 1).length,
      refusalWindowMs,
      intakeRefusedMs,
      probeRefused,
      refused503,
      victimPartitionsNoFinalizationMs: firstVictimAfter - killedAt,
      longestNoFinalizationAnywhereMs: longestGap,
      lost: lost.length,
      countedTwice: twice,
      finalized: results.finalized,
      rejected: results.rejected,
      met: lost.length === 0 && twice === 0,
    };
    console.log('\nRedis master SIGKILL under load');
    console.log('| figure | value | goal |');
    console.log('|---|---|---|');
    console.log(`| offered | ${RATE}/s for ${SECONDS} s, kill at ${(killedAt / 1000).toFixed(1)} s | - |`);
    console.log(`| topology | ${result.topology}, WAIT ${WAIT_MS} ms | - |`);
    console.log(
      `| intake refused (503) on the failed master's partitions | ${(intakeRefusedMs / 1000).toFixed(2)} s from the kill to the probe's next 202 (${refused503} refused attempts in all) | recorded |`,
    );
    console.log(
      `| failed master's partitions without finalization | ${(result.victimPartitionsNoFinalizationMs / 1000).toFixed(2)} s | recorded |`,
    );
    console.log(`| longest gap without any finalization | ${(longestGap / 1000).toFixed(2)} s | recorded |`);
    console.log(
      `| submissions refused for (then retried) | ${(refusalWindowMs / 1000).toFixed(2)} s | recorded |`,
    );
    console.log(`| accepted / never accepted | ${accepted.length} / ${result.neverAccepted} | - |`);
    console.log(`| votes lost (answered 202) | ${lost.length} | 0 |`);
    console.log(`| votes counted twice | ${twice} | 0 |`);
    writeResult('redis-failover', result);
  } finally {
    redis.disconnect();
    submitter.disconnect();
    await Promise.all(procs.map((p) => p.stop()));
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench(main);
