/**
 * Pipeline benchmark: finalized votes per second with N coordinators and majority
 * consensus, votes injected straight into the queue (no HTTP), plus submit-to-finalized
 * latency at an offered rate. Re-measures its anchors in the same run:
 *  - the same atomic 3-operation vote script (SET NX, HINCRBY, XADD) from one process;
 *  - a bare Redis Streams consumer-group pipeline (one consumer, batches of 200).
 *
 *   node --import tsx bench/pipeline.ts [--votes 40000] [--coordinators 3] [--rate 5000]
 *        [--latency-votes 15000] [--masters 3] [--low-rate 100] [--low-seconds 8]
 *
 * Each run also reports what it cost: Redis commands per finalized vote (INFO
 * commandstats, every master) and each coordinator's CPU-ms per finalized vote (its
 * process CPU time from /proc); a low-rate run reports each coordinator's CPU share
 * while votes trickle in (what polling costs when there is little to do).
 *
 * Starts and stops its own Redis Cluster and coordinators on free ports.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { freePort, findFreePortRange } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import { startRedisCluster } from '../local/redis-cluster';
import { repoRoot, startCoordinator } from '../local/stack';
import { systemClock } from '../shared/clock';
import { parseSeeds } from '../shared/config';
import { ElectionStore } from '../shared/elections/store';
import { createRedisCluster } from '../shared/redis/client';
import { electionChannel, partitionKeys } from '../shared/redis/keys';
import { plainBallot } from '../shared/votes/ballot';
import { readResults } from '../shared/votes/read';
import { submitVote } from '../shared/votes/submit';
import { benchOptions, runBench } from './common';
import { commandStats, processCpuMs, totalCalls } from './cost-meter';
import { fmt as fmtNum, recordFigures } from './summary';
import type { CoordinatorStatus } from '../shared/membership/coordinator-status';
import { loadSettings } from '../shared/settings/load';

const benchSettings = loadSettings();

const opts = benchOptions('node --import tsx bench/pipeline.ts', {
  votes: { default: 40000, rule: { int: true, min: 1 }, help: 'votes of the throughput run' },
  coordinators: { default: 3, rule: { int: true, min: 1 }, help: 'coordinators' },
  rate: { default: 5000, rule: { above: 0 }, help: 'votes per second of the latency run' },
  'latency-votes': { default: 15000, rule: { int: true, min: 0 }, help: 'votes of the latency run' },
  masters: { default: 3, rule: { int: true, min: 3 }, help: 'Redis masters' },
  'low-rate': { default: 100, rule: { above: 0 }, help: 'votes per second of the low-rate run' },
  'low-seconds': { default: 8, rule: { min: 0 }, help: 'seconds of the low-rate run (0: none)' },
  partitions: {
    default: benchSettings.PARTITIONS,
    rule: { int: true, min: 1 },
    help: 'partitions (PARTITIONS)',
  },
});
const VOTES = opts.votes;
const COORDINATORS = opts.coordinators;
const RATE = opts.rate;
const LATENCY_VOTES = opts['latency-votes'];
const MASTERS = opts.masters;
const PARTITIONS = opts.partitions;
const LOW_RATE = opts['low-rate'];
const LOW_SECONDS = opts['low-seconds'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Anchor 1: the same 3-op atomic vote script, from one process, for ~3 s. */
async function anchorScript(redis: Cluster): Promise<number> {
  const lua = `
    if redis.call('SET', KEYS[1], '1', 'NX') then
      redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
      redis.call('XADD', KEYS[3], '*', 'v', ARGV[2])
      return 1
    end
    return 0`;
  redis.defineCommand('benchVote', { lua, numberOfKeys: 3 });
  const run = (redis as unknown as Record<string, (...a: string[]) => Promise<number>>)['benchVote']!;
  const tags = Array.from({ length: 16 }, (_, p) => `{anchor:${p}}`);
  let done = 0;
  const until = Date.now() + 3000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 256 }, async (_, w) => {
      let i = 0;
      while (Date.now() < until) {
        const t = tags[(w + i) % 16]!;
        await run.call(redis, `${t}:m:${w}:${i}`, `${t}:tally`, `${t}:log`, 'a', String(i));
        i++;
        done++;
      }
    }),
  );
  return done / ((Date.now() - started) / 1000);
}

/** Anchor 2: a bare consumer-group pipeline over 16 streams, one consumer, batches of 200. */
async function anchorStreams(redis: Cluster, n: number): Promise<number> {
  const streams = Array.from({ length: 16 }, (_, p) => `{sanchor:${p}}:s`);
  await Promise.all(streams.map((s) => redis.xgroup('CREATE', s, 'g', '0', 'MKSTREAM').catch(() => {})));
  const per = Math.ceil(n / 16);
  await Promise.all(
    streams.map(async (s) => {
      for (let i = 0; i < per; i += 500) {
        const pipe = redis.pipeline();
        for (let j = 0; j < 500; j++) pipe.xadd(s, '*', 'v', String(i + j));
        await pipe.exec();
      }
    }),
  );
  const started = Date.now();
  let consumed = 0;
  while (consumed < per * 16) {
    const batches = await Promise.all(
      streams.map(
        (s) =>
          redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 200, 'STREAMS', s, '>') as Promise<
            [string, [string, string[]][]][] | null
          >,
      ),
    );
    await Promise.all(
      batches.map((b, i) => {
        const entries = b?.[0]?.[1] ?? [];
        consumed += entries.length;
        return entries.length ? redis.xack(streams[i]!, 'g', ...entries.map((e) => e[0])) : null;
      }),
    );
  }
  return consumed / ((Date.now() - started) / 1000);
}

/** Anchor 3: BullMQ (what most Node users would reach for), no-op jobs, worker concurrency 50. */
async function anchorBullmq(seeds: string, jobs = 20000): Promise<number> {
  const { Queue, Worker } = await import('bullmq');
  const { Cluster } = await import('ioredis');
  const connection = () =>
    new Cluster(parseSeeds(seeds), { redisOptions: { maxRetriesPerRequest: null } }) as never;
  const queue = new Queue('anchor', { connection: connection(), prefix: '{bull}' });
  for (let i = 0; i < jobs; i += 1000) {
    await queue.addBulk(Array.from({ length: 1000 }, (_, j) => ({ name: 'noop', data: { i: i + j } })));
  }
  let done = 0;
  let resolveDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const started = performance.now();
  const worker = new Worker(
    'anchor',
    async () => {
      done++;
      if (done === jobs) resolveDone();
    },
    { connection: connection(), prefix: '{bull}', concurrency: 50 },
  );
  worker.on('error', (err) => console.warn(`BullMQ anchor: worker error: ${String(err)}`));
  // A stuck worker must not hang the whole benchmark: after 60 s, rate what was done.
  const timedOut = await Promise.race([finished.then(() => false), sleep(60_000).then(() => true)]);
  if (timedOut) console.warn(`BullMQ anchor: only ${done}/${jobs} jobs in 60 s; rating those`);
  const rate = done / ((performance.now() - started) / 1000);
  await worker.close(true);
  await queue.close();
  return rate;
}

/**
 * What one run cost: each coordinator's CPU time and Redis's commands (every master),
 * from just before the first vote is sent until all are finalized (the benchmark's
 * own reads of the results afterwards are not counted).
 */
class CostProbe {
  private cpu0: number[] = [];
  private calls0 = 0;
  private t0 = 0;
  /** Per coordinator: CPU ms used during the run. */
  cpuMs: number[] = [];
  wallMs = 0;
  calls = 0;

  constructor(
    private readonly redis: Cluster,
    private readonly pids: number[],
  ) {}

  async start(): Promise<void> {
    this.calls0 = totalCalls(await commandStats(this.redis));
    this.cpu0 = this.pids.map(processCpuMs);
    this.t0 = performance.now();
  }

  async end(): Promise<void> {
    this.wallMs = performance.now() - this.t0;
    this.cpuMs = this.pids.map((pid, i) => processCpuMs(pid) - this.cpu0[i]!);
    this.calls = totalCalls(await commandStats(this.redis)) - this.calls0;
  }

  /** The figures per finalized vote (`votes` of them). */
  summary(votes: number) {
    const perVote = this.cpuMs.map((ms) => +(ms / votes).toFixed(4));
    return {
      wallMs: Math.round(this.wallMs),
      redisCallsPerVote: +(this.calls / votes).toFixed(2),
      coordinatorCpuMsPerVote: perVote,
      coordinatorCpuMsPerVoteMean: +(perVote.reduce((a, b) => a + b, 0) / perVote.length).toFixed(4),
      coordinatorCpuPercent: this.cpuMs.map((ms) => +((100 * ms) / this.wallMs).toFixed(1)),
    };
  }
}

interface Run {
  votes: number;
  seconds: number;
  perSecond: number;
  /** Seen by the injecting client: from the vote's scheduled send time to the event. */
  p50: number;
  p99: number;
  max: number;
  /** Inside the system: accepted (the vote's stream id time) to finalized (audit time). */
  acceptedToFinalized: { p50: number; p99: number; max: number };
}

/**
 * Per vote, from the time Redis accepted it (its stream id's milliseconds) to the time it
 * was finalized (its audit entry's `at`, from the finalizing coordinator's synchronized
 * clock): the pipeline's latency, without the benchmark client's own scheduling delays
 * (on 2 shared cores, the injecting process competes with the system it measures).
 */
async function acceptedToFinalized(redis: Cluster, tags: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const tag of tags) {
    let from = '-';
    for (;;) {
      const rows = await redis.xrange(partitionKeys(tag).audit, from, '+', 'COUNT', 5000);
      for (const [, f] of rows) {
        let vote = '';
        let at = '';
        for (let i = 0; i + 1 < f.length; i += 2) {
          if (f[i] === 'vote') vote = f[i + 1]!;
          else if (f[i] === 'at') at = f[i + 1]!;
        }
        out.push(Date.parse(at) - Number(vote.split('-')[0]));
      }
      if (rows.length < 5000) break;
      from = `(${rows[rows.length - 1]![0]}`;
    }
  }
  return out.sort((a, b) => a - b);
}

/** Injects `votes` votes (at `rate`/s, or as fast as possible when 0) and waits for all to finalize. */
async function runPipeline(
  redis: Cluster,
  inject: Cluster,
  sub: Cluster,
  votes: number,
  rate: number,
  tag: string,
  probe?: CostProbe,
): Promise<Run> {
  const store = new ElectionStore(redis, systemClock, PARTITIONS);
  const e = await store.create({
    title: `bench ${tag}`,
    options: [
      { id: 'a', label: 'A' },
      { id: 'b', label: 'B' },
      { id: 'c', label: 'C' },
    ],
    opensAt: null,
    closesAt: null,
    voters: null,
    hideTotalsUntilClosed: false,
  });
  // Throughput mode (rate 0): load the whole queue first, then let the coordinators see
  // the election, so the figure is the pipeline's, not the injector's.
  const preload = rate === 0;
  if (preload) await Promise.all(e.tags.map((t) => redis.set(partitionKeys(t).gate, 'open')));
  const election = preload ? e : await store.open(e.id);
  const submitted = new Map<string, number>();
  const latencies: number[] = [];
  let lastFinal = 0;
  const channel = electionChannel(e.id);
  await sub.ssubscribe(channel);
  const finalizedAt = new Map<string, number>();
  sub.on('smessage', (ch: string, msg: string) => {
    if (ch !== channel) return;
    const now = performance.now();
    const ev = JSON.parse(msg) as { type: string; counted: string[]; rejected: { voteId: string }[] };
    if (ev.type !== 'votes.finalized') return;
    for (const id of ev.counted) finalizedAt.set(id, now);
    for (const r of ev.rejected) finalizedAt.set(r.voteId, now);
    lastFinal = now;
  });
  // Costs are counted from the first vote the coordinators can see: after a preload.
  if (!preload) await probe?.start();
  let started = performance.now();
  const submitOne = async (i: number, t: number): Promise<void> => {
    const r = await submitVote(
      inject,
      systemClock,
      plainBallot,
      election,
      `${tag}-v${i}`,
      { optionId: ['a', 'b', 'c'][i % 3] },
      undefined,
      { waitReplicas: 0, waitTimeoutMs: 0 },
    );
    submitted.set(r.voteId, t);
  };
  if (rate > 0) {
    // Open loop at the offered rate: every tick sends the votes that are due, without
    // waiting for earlier ones, and each vote's clock starts at its scheduled time (so a
    // slow injector shows up as latency, not as a lower rate).
    const inflight = new Set<Promise<void>>();
    let next = 0;
    while (next < votes) {
      const dueCount = Math.min(votes, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
      for (; next < dueCount; next++) {
        const p = submitOne(next, started + (next * 1000) / rate);
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await sleep(2);
    }
    await Promise.all(inflight);
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < votes) await submitOne(next++, 0);
      }),
    );
  }
  const injectedS = (performance.now() - started) / 1000;
  console.log(
    `${tag}: injected ${votes} votes in ${injectedS.toFixed(2)} s (${Math.round(votes / injectedS)}/s)`,
  );
  if (preload) {
    await probe?.start();
    started = performance.now();
    for (const id of submitted.keys()) submitted.set(id, started);
    await store.open(e.id);
  }
  const deadline = Date.now() + 120000;
  for (;;) {
    const res = await readResults(redis, systemClock, e);
    if (res.finalized + res.rejected >= votes || Date.now() > deadline) break;
    await sleep(100);
  }
  await sleep(300);
  await probe?.end();
  // Done: close it, so the coordinators retire it (as an administrator would) and the
  // next run does not pay for polling an election that gets no more votes.
  await store.close(e.id).catch(() => {});
  await sub.sunsubscribe(channel);
  sub.removeAllListeners('smessage');
  for (const [id, t] of submitted) {
    const at = finalizedAt.get(id);
    if (at !== undefined) latencies.push(at - t);
  }
  if (benchSettings.BENCH_TIMELINE) {
    // Latency by when the vote was due (250 ms buckets): is it start-up or steady state?
    const buckets = new Map<number, number[]>();
    for (const [id, t] of submitted) {
      const at = finalizedAt.get(id);
      if (at === undefined) continue;
      const b = Math.floor((t - started) / 250);
      buckets.set(b, [...(buckets.get(b) ?? []), at - t]);
    }
    for (const [b, l] of [...buckets].sort((x, y) => x[0] - y[0])) {
      l.sort((x, y) => x - y);
      console.log(
        `  t=${b * 250} ms: n=${l.length} p50=${pct(l, 50).toFixed(0)} p99=${pct(l, 99).toFixed(0)}`,
      );
    }
  }
  latencies.sort((a, b) => a - b);
  const inRedis = await acceptedToFinalized(redis, e.tags);
  const seconds = (lastFinal - started) / 1000;
  return {
    votes,
    seconds,
    perSecond: votes / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    acceptedToFinalized: {
      p50: pct(inRedis, 50),
      p99: pct(inRedis, 99),
      max: inRedis[inRedis.length - 1] ?? Number.NaN,
    },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qv-bench-'));
  const nodes = MASTERS * 2;
  const base = await findFreePortRange(nodes, 10000);
  const cluster = await startRedisCluster({ basePort: base, nodes, dataDir: dir, fresh: true });
  const procs: ManagedProcess[] = [];
  const redis = createRedisCluster(parseSeeds(cluster.seeds));
  const sub = createRedisCluster(parseSeeds(cluster.seeds), { shardedSubscribers: true });
  // The injector batches what it sends in one tick (ioredis auto-pipelining), so the
  // measurement tool itself takes little CPU from the pipeline it measures.
  const inject = createRedisCluster(parseSeeds(cluster.seeds), { enableAutoPipelining: true });
  try {
    const members = Array.from({ length: COORDINATORS }, (_, i) => `b${i + 1}`);
    const adminPorts: number[] = [];
    for (const id of members) {
      const adminPort = await freePort();
      adminPorts.push(adminPort);
      procs.push(
        await startCoordinator({
          nodeId: id,
          adminPort,
          redisSeeds: cluster.seeds,
          members,
          env: {
            LOG_LEVEL: 'warn',
            ...(benchSettings.PROFILE_DIR
              ? { CPU_PROFILE: `${benchSettings.PROFILE_DIR}/${id}.cpuprofile` }
              : {}),
          },
          nodeArgs: (benchSettings.COORDINATOR_NODE_ARGS ?? '').split(' ').filter(Boolean),
          // Warnings and errors reach the console (LOG_LEVEL warn keeps them few).
          onLine: (node, line) => console.error(`[${node}] ${line}`),
        }),
      );
    }
    await sleep(2500); // leader, ownership and clock sync settle
    const script = await anchorScript(redis);
    const streams = await anchorStreams(redis, 60000);
    const bullmq = await anchorBullmq(cluster.seeds);
    await Promise.all(redis.nodes('master').map((n) => n.config('RESETSTAT')));
    const pids = procs.map((p) => p.pid);
    const tpCost = new CostProbe(redis, pids);
    const throughput = await runPipeline(redis, inject, sub, VOTES, 0, 'tp', tpCost);
    const latency = await runPipeline(redis, inject, sub, LATENCY_VOTES, RATE, 'lat');
    const lowVotes = Math.round(LOW_RATE * LOW_SECONDS);
    const lowCost = new CostProbe(redis, pids);
    if (lowVotes > 0) await runPipeline(redis, inject, sub, lowVotes, LOW_RATE, 'low', lowCost);
    const cost = {
      throughputRun: tpCost.summary(VOTES),
      ...(lowVotes > 0 ? { lowRateRun: { offeredPerSecond: LOW_RATE, ...lowCost.summary(lowVotes) } } : {}),
    };
    console.log(`cost: ${JSON.stringify(cost)}`);
    // Where Redis spends its time (all masters, whole run): the per-vote cost breakdown.
    const stats = await commandStats(redis);
    const totalVotes = VOTES + LATENCY_VOTES + lowVotes;
    const redisRows = [...stats]
      .sort((a, b) => b[1].usec - a[1].usec)
      .slice(0, 12)
      .map(([cmd, v]) => ({ cmd, calls: v.calls, usecPerVote: +(v.usec / totalVotes).toFixed(2) }));
    console.table(redisRows);
    for (const port of adminPorts) {
      const st = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as CoordinatorStatus;
      console.log(JSON.stringify({ id: st.id, role: st.role, clock: st.clock, pipeline: st.pipeline }));
    }
    const result = {
      machine: `${process.platform} ${process.arch}, node ${process.version}, 2 cores`,
      coordinators: COORDINATORS,
      masters: MASTERS,
      anchors: {
        scriptPerSecond: Math.round(script),
        streamsPerSecond: Math.round(streams),
        bullmqPerSecond: Math.round(bullmq),
      },
      throughput: {
        ...throughput,
        ratioToStreams: throughput.perSecond / streams,
        ratioToBullmq: throughput.perSecond / bullmq,
      },
      latency: { offeredPerSecond: RATE, ...latency },
      cost,
      loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(),
    };
    const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 100 ? 1 : 0) : '-');
    console.log('\nquorumvote pipeline benchmark');
    console.log(`coordinators ${COORDINATORS}, masters ${MASTERS}, partitions ${PARTITIONS}`);
    console.log('| figure | value | anchor | ratio | goal |');
    console.log('|---|---|---|---|---|');
    console.log(
      `| finalized votes/s (majority of ${COORDINATORS}) | ${fmt(throughput.perSecond)} | streams ${fmt(streams)}/s | ${(throughput.perSecond / streams).toFixed(2)} | ≥15,000/s, ≥0.5× streams |`,
    );
    console.log(
      `| finalized votes/s vs BullMQ no-op jobs | ${fmt(throughput.perSecond)} | BullMQ ${fmt(bullmq)}/s | ${(throughput.perSecond / bullmq).toFixed(2)} | ≥ 2.5× |`,
    );
    console.log(`| 3-op vote script from one process | ${fmt(script)}/s | - | - | ceiling |`);
    console.log(
      `| submit→finalized at ${RATE}/s offered: p50 / p99 / max (ms) | ${fmt(latency.p50)} / ${fmt(latency.p99)} / ${fmt(latency.max)} | - | - | p99 ≤ 100 ms |`,
    );
    const inside = latency.acceptedToFinalized;
    console.log(
      `| accepted→finalized inside the system at ${RATE}/s: p50 / p99 / max (ms) | ${fmt(inside.p50)} / ${fmt(inside.p99)} / ${fmt(inside.max)} | - | - | p99 ≤ 100 ms |`,
    );
    console.log(
      `| throughput run: latency p50 / p99 (ms) | ${fmt(throughput.p50)} / ${fmt(throughput.p99)} | - | - | - |`,
    );
    const tc = cost.throughputRun;
    console.log(
      `| throughput run: Redis commands per finalized vote | ${tc.redisCallsPerVote} | - | - | recorded |`,
    );
    console.log(
      `| throughput run: CPU-ms per finalized vote, each coordinator | ${tc.coordinatorCpuMsPerVote.join(' / ')} | - | - | falls as 3/N beyond 3 |`,
    );
    if (cost.lowRateRun) {
      const lc = cost.lowRateRun;
      console.log(
        `| ${LOW_RATE} votes/s: coordinator CPU % (each) / Redis commands per vote | ${lc.coordinatorCpuPercent.join(' / ')} / ${lc.redisCallsPerVote} | - | - | recorded |`,
      );
    }
    const push = benchSettings.PIPELINE_PUSH ?? 'on';
    recordFigures(`pipeline-c${COORDINATORS}-m${MASTERS}`, [
      {
        id: `pipeline.cost.c${COORDINATORS}-m${MASTERS}`,
        figure: `pipeline cost, ${COORDINATORS} coordinators (push ${push}): Redis commands / coordinator CPU-ms per finalized vote (throughput run)`,
        value: `${tc.redisCallsPerVote} / ${tc.coordinatorCpuMsPerVote.join(', ')}`,
        goal: 'recorded',
        met: null,
      },
      ...(cost.lowRateRun
        ? [
            {
              id: `pipeline.low-rate.c${COORDINATORS}-m${MASTERS}`,
              figure: `coordinator CPU at ${fmtNum(LOW_RATE)} votes/s (push ${push}): each coordinator's CPU share / Redis commands per vote`,
              value: `${cost.lowRateRun.coordinatorCpuPercent.join(', ')} % / ${cost.lowRateRun.redisCallsPerVote}`,
              goal: 'recorded',
              met: null,
            },
          ]
        : []),
    ]);
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    writeFileSync(
      join(repoRoot, `bench/results/pipeline-c${COORDINATORS}-m${MASTERS}.json`),
      `${JSON.stringify(result, null, 2)}\n`,
    );
  } finally {
    redis.disconnect();
    inject.disconnect();
    sub.disconnect();
    await Promise.all(procs.map((p) => p.stop()));
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// On 2 cores shared by many, a command the benchmark sends without waiting for it (an
// ioredis internal, a late subscription) may time out; that must not end a run whose
// figures do not depend on it. It is reported, and every figure still waits for its votes.
process.on('unhandledRejection', (err) => console.warn(`pipeline bench: ignored: ${String(err)}`));
runBench(main);
