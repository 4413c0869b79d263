/**
 * Memory and cost benchmark: what a bigger election costs an operator.
 *
 *  1. Cost per finalized vote through the whole stack: votes over HTTP through
 *     serverless-offline, judged by 3 coordinators (majority 2), finalized; CPU-ms per
 *     finalized vote of each process kind (/proc utime+stime deltas of the coordinators,
 *     serverless-offline and every redis-server) and Redis commands per finalized vote
 *     (INFO commandstats deltas over the masters), over the stretch from the first
 *     submit until the last vote is finalized.
 *  2. Redis memory per finalized vote, by key kind (MEMORY USAGE of every partition key,
 *     exact: SAMPLES 0) and in total (INFO memory used_memory deltas over the masters),
 *     at growing sizes of ONE election, votes injected straight into the queue (the
 *     submit script, no HTTP) and finalized by the coordinators: is the growth linear?
 *     10 million votes is extrapolated from the measured slope, and said so.
 *  3. Redis memory per idle election (created and opened, no vote).
 *
 *   node --import tsx bench/memory.ts [--votes 100000] [--steps 4] [--http-votes 3000]
 *        [--idle 200]
 *
 * Starts and stops its own Redis Cluster (3 masters, 1 replica each), coordinators and
 * serverless-offline on free ports. Figures go to bench/results/memory.json and to the
 * `npm run bench` summary table.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { findFreePortRange } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import { startOffline } from '../local/stack';
import { mintToken } from '../shared/auth/tokens';
import { systemClock } from '../shared/clock';
import { parseSeeds } from '../shared/config';
import { ElectionStore, type ElectionRecord } from '../shared/elections/store';
import { createRedisCluster } from '../shared/redis/client';
import { electionKeys, partitionKeys } from '../shared/redis/keys';
import { loadSettings } from '../shared/settings/load';
import { plainBallot } from '../shared/votes/ballot';
import { readResults } from '../shared/votes/read';
import { submitVote } from '../shared/votes/submit';
import {
  benchOptions,
  benchRedis,
  httpCall,
  machine,
  runBench,
  sleep,
  startBenchCoordinators,
  writeResult,
} from './common';
import { type CostPerUnit, costDelta, redisPids, snapshot } from './cost-meter';
import { fmt, recordFigures } from './summary';

const opts = benchOptions('node --import tsx bench/memory.ts', {
  votes: { default: 100000, rule: { int: true, min: 1000 }, help: 'votes in the one big election' },
  steps: { default: 4, rule: { int: true, min: 2 }, help: 'equal steps to that size (memory read at each)' },
  'http-votes': { default: 3000, rule: { int: true, min: 0 }, help: 'votes over HTTP for the cost figures' },
  idle: { default: 200, rule: { int: true, min: 1 }, help: 'idle elections created and opened' },
});
const PARTITIONS = loadSettings().PARTITIONS;

/** Sum of `used_memory` over the masters (the data; each replica holds a copy). */
async function usedMemory(redis: Cluster): Promise<number> {
  let total = 0;
  for (const node of redis.nodes('master')) {
    const m = /^used_memory:(\d+)/m.exec((await node.info('memory')) as string);
    total += Number(m?.[1] ?? 0);
  }
  return total;
}

/** Exact bytes of each key kind of an election (every partition's key of that kind). */
async function bytesByKind(redis: Cluster, e: ElectionRecord): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const add = async (kind: string, key: string) => {
    const n = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
    out[kind] = (out[kind] ?? 0) + (n ?? 0);
  };
  for (const tag of e.tags) {
    const k = partitionKeys(tag);
    for (const [kind, key] of Object.entries(k)) await add(kind, key);
  }
  for (const [kind, key] of Object.entries(electionKeys(e.id))) await add(`election ${kind}`, key);
  return out;
}

const options = [
  { id: 'a', label: 'A' },
  { id: 'b', label: 'B' },
  { id: 'c', label: 'C' },
];

async function createOpen(store: ElectionStore, title: string): Promise<ElectionRecord> {
  const e = await store.create({
    title,
    options,
    opensAt: null,
    closesAt: null,
    voters: null,
    hideTotalsUntilClosed: false,
  });
  return store.open(e.id);
}

/**
 * Waits until at least `count` votes of `e` are finalized (or rejected) and none is
 * pending (a vote answered 503 may still be stored, and counts once finalized);
 * returns how many are finalized, or null on timeout.
 */
async function settled(
  redis: Cluster,
  e: ElectionRecord,
  count: number,
  ms = 300000,
): Promise<number | null> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const r = await readResults(redis, systemClock, e);
    if (r.finalized + r.rejected >= count && r.pending === 0) return r.finalized + r.rejected;
    await sleep(100);
  }
  return null;
}

async function main(): Promise<void> {
  const cluster = await benchRedis();
  const keyDir = mkdtempSync(join(tmpdir(), 'qv-bench-keys-'));
  const procs: ManagedProcess[] = [];
  const redis = createRedisCluster(parseSeeds(cluster.seeds));
  const inject = createRedisCluster(parseSeeds(cluster.seeds), { enableAutoPipelining: true });
  try {
    const members = ['m1', 'm2', 'm3'];
    // No CLUSTER_NAME of its own: this process's ElectionStore must name the same keys.
    const env = { LOG_LEVEL: 'warn' };
    const coordinators = await startBenchCoordinators(cluster.seeds, members, env);
    procs.push(...coordinators);
    const base = await findFreePortRange(3);
    const offline = await startOffline({
      httpPort: base,
      wsPort: base + 1,
      lambdaPort: base + 2,
      redisSeeds: cluster.seeds,
      env: {
        ...env,
        COORDINATORS: members.join(','),
        JWT_KEY_DIR: keyDir,
        RATE_LIMIT_VOTER: '0',
        RATE_LIMIT_IP: '0',
      },
    });
    procs.push(offline);
    await redis.cluster('INFO');
    const kinds = {
      coordinators: coordinators.map((c) => c.pid),
      'serverless-offline': [offline.pid],
      // Every node, replicas too (ioredis only knows the masters): they replay every write.
      'redis-server': cluster.processes.length ? cluster.processes.map((p) => p.pid) : await redisPids(redis),
    };
    const store = new ElectionStore(redis, systemClock, PARTITIONS);
    await sleep(2500); // leader, ownership and clock sync settle
    console.log(`stack up: 3 coordinators, serverless-offline, ${kinds['redis-server'].length} Redis nodes`);

    // 1. Cost per finalized vote, whole stack.
    let cost: CostPerUnit | null = null;
    const HTTP_VOTES = opts['http-votes'];
    if (HTTP_VOTES > 0) {
      const e = await createOpen(store, 'cost');
      const agent = new Agent({ keepAlive: true, maxSockets: 16 });
      const tokens = await Promise.all(
        Array.from({ length: HTTP_VOTES + 200 }, (_, i) =>
          mintToken({ sub: `c${i}`, role: 'voter' }, { keyDir }),
        ),
      );
      const post = (i: number) =>
        httpCall(
          agent,
          base,
          'POST',
          `/elections/${e.id}/votes`,
          { authorization: `Bearer ${tokens[i]!}`, 'content-type': 'application/json' },
          `{"optionId":"${options[i % 3]!.id}"}`,
        );
      // Warm-up (handler instances load their bundle on first use): start-up, not cost.
      let w = HTTP_VOTES;
      let warmed = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (w < HTTP_VOTES + 200) if ((await post(w++)).status === 202) warmed++;
        }),
      );
      const done0 = await settled(redis, e, warmed);
      if (done0 === null) throw new Error('cost run: warm-up votes not finalized within 5 min');
      await sleep(500);
      const before = await snapshot(redis, kinds);
      let next = 0;
      let accepted = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < HTTP_VOTES) if ((await post(next++)).status === 202) accepted++;
        }),
      );
      const done = await settled(redis, e, done0 + accepted);
      const after = await snapshot(redis, kinds);
      agent.destroy();
      if (done === null) throw new Error('cost run: votes not finalized within 5 min');
      cost = costDelta(before, after, done - done0);
      await store.close(e.id);
      console.log(
        `cost: ${done - done0} votes over HTTP (${accepted} answered 202) finalized in ${cost.seconds.toFixed(1)} s; per finalized vote: ` +
          `${cost.commands.toFixed(1)} Redis commands, CPU-ms ${Object.entries(cost.cpuMs)
            .map(([k, v]) => `${k} ${v.toFixed(3)}`)
            .join(', ')}`,
      );
      console.log(`  commands: ${cost.byCommand.map(([c, n]) => `${c} ${n.toFixed(2)}`).join(', ')}`);
    }

    // 3. Idle elections (before the big one, so its memory does not blur the small delta).
    const IDLE = opts.idle;
    const idleBefore = await usedMemory(redis);
    const idle: ElectionRecord[] = [];
    for (let i = 0; i < IDLE; i++) idle.push(await createOpen(store, `idle ${i}`));
    const idleAfter = await usedMemory(redis);
    const idleKinds = await bytesByKind(redis, idle[0]!);
    const idleKeyBytes = Object.values(idleKinds).reduce((a, b) => a + b, 0);
    const idlePerElection = (idleAfter - idleBefore) / IDLE;
    console.log(
      `idle: ${IDLE} elections opened: ${fmt(idlePerElection)} bytes each (used_memory); keys of one: ${fmt(idleKeyBytes)} bytes`,
    );
    await Promise.all(idle.map((e) => store.close(e.id)));

    // 2. Growth of one election.
    const VOTES = opts.votes;
    const STEPS = opts.steps;
    const big = await createOpen(store, 'memory');
    await sleep(500);
    const base0 = await usedMemory(redis);
    const kinds0 = await bytesByKind(redis, big);
    const growth: { votes: number; usedBytes: number; keyBytes: number; byKind: Record<string, number> }[] =
      [];
    let sent = 0;
    for (let s = 1; s <= STEPS; s++) {
      const target = Math.round((VOTES * s) / STEPS);
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 256 }, async () => {
          while (sent < target) {
            const i = sent++;
            await submitVote(
              inject,
              systemClock,
              plainBallot,
              big,
              `mv${i}`,
              { optionId: options[i % 3]!.id },
              randomUUID(),
              { waitReplicas: 0, waitTimeoutMs: 0 },
            );
          }
        }),
      );
      if ((await settled(redis, big, target)) === null)
        throw new Error(`growth: ${target} votes not finalized`);
      const byKind = await bytesByKind(redis, big);
      const keyBytes = Object.entries(byKind).reduce((a, [k, b]) => a + b - (kinds0[k] ?? 0), 0);
      const usedBytes = (await usedMemory(redis)) - base0;
      growth.push({ votes: target, usedBytes, keyBytes, byKind });
      console.log(
        `growth: ${target} votes finalized (${((performance.now() - t0) / 1000).toFixed(1)} s): used_memory +${fmt(usedBytes)} ` +
          `(${fmt(usedBytes / target)}/vote), keys +${fmt(keyBytes)} (${fmt(keyBytes / target)}/vote)`,
      );
    }
    const last = growth[growth.length - 1]!;
    const first = growth[0]!;
    // Slope between the first and the last step: the cost of one more vote, free of the
    // fixed part (empty keys, allocator pages).
    const slope = (last.usedBytes - first.usedBytes) / (last.votes - first.votes);
    const keySlope = (last.keyBytes - first.keyBytes) / (last.votes - first.votes);
    const perVote = growth.map((g) => g.keyBytes / g.votes);
    // Linear when the keys' bytes per vote (exact, unlike used_memory, which moves with
    // the allocator's pages) stay within 15% of the slope at every step.
    const linear = perVote.every((b) => Math.abs(b - keySlope) / keySlope < 0.15);
    const perKind: Record<string, number> = {};
    for (const [k, b] of Object.entries(last.byKind)) {
      const d = (b - (kinds0[k] ?? 0)) / last.votes;
      if (d > 0.5) perKind[k] = d;
    }
    const tenMillion = slope * 10_000_000;
    console.log(
      `\nper finalized vote, by key kind (${fmt(last.votes)} votes, one election, ${PARTITIONS} partitions):`,
    );
    for (const [k, b] of Object.entries(perKind).sort((x, y) => y[1] - x[1]))
      console.log(`  ${k.padEnd(12)} ${fmt(b, 1)} B`);
    console.log(
      `slope ${fmt(slope, 1)} B/vote (used_memory), ${fmt(keySlope, 1)} B/vote (keys); linear: ${linear}; ` +
        `10 million votes ≈ ${fmt(tenMillion / 2 ** 30, 2)} GiB on the masters (extrapolated), ×2 with one replica each`,
    );
    await store.close(big.id);

    const load = loadavg().map((l) => +l.toFixed(2));
    writeResult('memory', {
      machine: machine(),
      load,
      partitions: PARTITIONS,
      cost,
      idle: { elections: IDLE, bytesPerElection: idlePerElection, keysOfOne: idleKinds },
      growth,
      perVote: { slope, keySlope, byKind: perKind, linear },
      tenMillionBytes: tenMillion,
    });
    const kindsText = Object.entries(perKind)
      .sort((x, y) => y[1] - x[1])
      .map(([k, b]) => `${k} ${fmt(b)}`)
      .join(', ');
    recordFigures('memory', [
      {
        id: 'memory.per-vote',
        figure: `Redis memory per finalized vote (one election, ${fmt(last.votes)} votes; masters)`,
        value: `${fmt(slope)} B used_memory; keys ${fmt(keySlope)} B: ${kindsText}`,
        goal: 'recorded',
        met: null,
      },
      {
        id: 'memory.growth',
        figure: `memory growth at ${growth.map((g) => fmt(g.votes)).join(' / ')} votes`,
        value: `keys ${perVote.map((b) => fmt(b)).join(' / ')} B/vote`,
        goal: 'linear (each step within 15% of the slope)',
        met: linear,
      },
      {
        id: 'memory.per-idle-election',
        figure: `Redis memory per idle election (opened, ${PARTITIONS} partitions)`,
        value: `${fmt(idlePerElection)} B`,
        goal: 'recorded',
        met: null,
      },
      {
        id: 'memory.10m',
        figure: 'Redis memory for 10 million votes (extrapolated from the slope; masters)',
        value: `${fmt(tenMillion / 2 ** 30, 2)} GiB (x2 with one replica each)`,
        goal: 'recorded',
        met: null,
      },
      ...(cost
        ? [
            {
              id: 'cost.commands-per-vote',
              figure: `Redis commands per finalized vote (HTTP submit to finalize, ${fmt(cost.units)} votes at ${fmt(cost.units / cost.seconds)}/s)`,
              value: `${fmt(cost.commands, 1)} (${cost.byCommand
                .slice(0, 4)
                .map(([c, n]) => `${c} ${fmt(n, 2)}`)
                .join(', ')})`,
              goal: 'recorded',
              met: null,
            },
            ...(
              [
                ['cost.cpu-coordinators', 'coordinators', 'coordinators (3, together)'],
                ['cost.cpu-functions', 'serverless-offline', 'functions (serverless-offline)'],
                ['cost.cpu-redis', 'redis-server', 'redis-server (3 masters + 3 replicas)'],
              ] as const
            ).map(([id, kind, label]) => ({
              id,
              figure: `CPU-ms per finalized vote: ${label}, at ${fmt(cost.units / cost.seconds)} votes/s`,
              value: `${fmt(cost.cpuMs[kind], 3)} ms`,
              goal: 'recorded',
              met: null,
            })),
          ]
        : []),
    ]);
  } finally {
    redis.disconnect();
    inject.disconnect();
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    await cluster.dispose();
    rmSync(keyDir, { recursive: true, force: true });
  }
}

runBench(main);
