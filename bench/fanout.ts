/**
 * WebSocket fan-out benchmark: N subscribers on one election while votes flow over
 * HTTP. Measures, for every (subscriber, finalized vote) pair, the delay from the
 * vote's finalization (the `at` of its `votes.finalized` batch) to the first
 * `tally.updated` that subscriber received whose counts include it; and messages
 * delivered per second over all subscribers.
 *
 *   node --import tsx bench/fanout.ts [--subscribers 1000] [--votes 1500] [--rate 100]
 *
 * Starts and stops its own Redis Cluster, three coordinators and serverless-offline on
 * free ports. Prints a table and writes bench/results/fanout.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { findFreePortRange, freePort } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import { startRedisCluster } from '../local/redis-cluster';
import { repoRoot, startCoordinator, startOffline } from '../local/stack';
import { mintToken } from '../shared/auth/tokens';
import { parseSeeds } from '../shared/config';
import { createRedisCluster } from '../shared/redis/client';
import { electionChannel } from '../shared/redis/keys';
import { benchOptions, runBench } from './common';
import type { CoordinatorStatus } from '../shared/membership/coordinator-status';
import { loadSettings } from '../shared/settings/load';

const benchSettings = loadSettings();

const opts = benchOptions('node --import tsx bench/fanout.ts', {
  subscribers: { default: 1000, rule: { int: true, min: 1 }, help: 'WebSocket subscribers' },
  votes: { default: 1500, rule: { int: true, min: 1 }, help: 'votes submitted' },
  rate: { default: 100, rule: { above: 0 }, help: 'votes per second' },
});
const SUBSCRIBERS = opts.subscribers;
const VOTES = opts.votes;
const RATE = opts.rate;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One subscriber: the tallies it received (time, votes decided so far). */
interface Sub {
  ws: WebSocket;
  times: number[];
  counts: number[];
  other: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qv-bench-fanout-'));
  const keyDir = mkdtempSync(join(tmpdir(), 'qv-bench-keys-'));
  const procs: ManagedProcess[] = [];
  const subs: Sub[] = [];
  let stopping = false;
  const redisBase = await findFreePortRange(6, 10000);
  const cluster = await startRedisCluster({ basePort: redisBase, dataDir: dir, fresh: true });
  const sub = createRedisCluster(parseSeeds(cluster.seeds), { shardedSubscribers: true });
  try {
    const base = await findFreePortRange(3);
    const ports = { httpPort: base, wsPort: base + 1, lambdaPort: base + 2 };
    const members = ['f1', 'f2', 'f3'];
    const quiet = { LOG_LEVEL: benchSettings.BENCH_VERBOSE ? 'info' : 'warn', JWT_KEY_DIR: keyDir };
    procs.push(
      await startOffline({
        ...ports,
        redisSeeds: cluster.seeds,
        env: {
          ...quiet,
          COORDINATORS: members.join(','),
          RATE_LIMIT_VOTER: '1000',
          // Thousands of subscribers share one token here: the per-user WebSocket limits are off.
          WS_MAX_CONNECTIONS_PER_USER: '0',
          RATE_LIMIT_WS_CONNECT: '0',
        },
        onLine: (name, line) => {
          // Teardown disconnects every client at once: its cleanup warnings are not the benchmark.
          if (stopping) return;
          if (benchSettings.BENCH_VERBOSE || /"level":"(warn|error)"/.test(line))
            console.log(`${name} | ${line}`);
        },
      }),
    );
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
          env: { ...quiet, LAMBDA_ENDPOINT: `http://127.0.0.1:${ports.lambdaPort}` },
        }),
      );
    }
    for (const p of procs) {
      void p.exited.then((code) => {
        if (!stopping) console.log(`!! ${p.name} exited during the run (${code})`);
      });
    }
    await sleep(2500); // leader, ownership and clock sync settle
    const http = `http://127.0.0.1:${ports.httpPort}`;
    const token = (subject: string, role: 'voter' | 'admin') =>
      mintToken({ sub: subject, role }, { keyDir, ttlS: 3600 });
    const call = async (method: string, path: string, tok: string, body?: unknown, key?: string) => {
      const res = await fetch(`${http}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tok}`,
          'content-type': 'application/json',
          ...(key ? { 'idempotency-key': key } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const admin = await token('bench-admin', 'admin');
    const created = await call('POST', '/elections', admin, {
      title: 'fan-out bench',
      options: [
        { id: 'a', label: 'A' },
        { id: 'b', label: 'B' },
        { id: 'c', label: 'C' },
      ],
    });
    const id = String(created.body['id']);
    if ((await call('POST', `/elections/${id}/open`, admin)).status !== 200) throw new Error('open failed');

    // Finalizations as the pipeline announces them.
    const batches: { at: number; n: number }[] = [];
    await sub.ssubscribe(electionChannel(id));
    sub.on('smessage', (_ch: string, msg: string) => {
      const ev = JSON.parse(msg) as { type: string; at: string; counted: string[]; rejected: unknown[] };
      if (ev.type === 'votes.finalized') {
        batches.push({ at: Date.parse(ev.at), n: ev.counted.length + ev.rejected.length });
      }
    });

    // Subscribers: connect and subscribe, 50 at a time.
    const connectStarted = Date.now();
    let retries = 0;
    const watcherToken = await token('bench-watcher', 'voter');
    for (let i = 0; i < SUBSCRIBERS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, SUBSCRIBERS - i) }, async () => {
          // A refused connection (503 while the functions warm up) is retried, as a client would.
          for (let attempt = 1; ; attempt++) {
            const ws = new WebSocket(`ws://127.0.0.1:${ports.wsPort}?token=${watcherToken}`);
            const s: Sub = { ws, times: [], counts: [], other: 0 };
            try {
              await new Promise<void>((resolve, reject) => {
                ws.once('error', reject);
                ws.on('message', (data) => {
                  const at = Date.now();
                  const m = JSON.parse(String(data)) as { type: string; data?: Record<string, number> };
                  if (m.type === 'subscribed') resolve();
                  else if (m.type === 'error') reject(new Error(JSON.stringify(m)));
                  else if (m.type === 'tally.updated' && m.data) {
                    s.times.push(at);
                    s.counts.push((m.data['finalized'] ?? 0) + (m.data['rejected'] ?? 0));
                  } else s.other++;
                });
                ws.once('open', () =>
                  ws.send(JSON.stringify({ action: 'subscribe', topic: `election:${id}` })),
                );
              });
              subs.push(s);
              return;
            } catch (err) {
              ws.terminate();
              retries++;
              if (attempt >= 5) throw err;
              await sleep(200 * attempt);
            }
          }
        }),
      );
    }
    const connectS = (Date.now() - connectStarted) / 1000;
    console.log(
      `${SUBSCRIBERS} subscribers connected and subscribed in ${connectS.toFixed(1)} s (${retries} retries)`,
    );

    // Votes at RATE per second, each by its own voter.
    const flowStarted = Date.now();
    let next = 0;
    let accepted = 0;
    let voteRetries = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < VOTES) {
          const i = next++;
          const wait = flowStarted + (i * 1000) / RATE - Date.now();
          if (wait > 0) await sleep(wait);
          const voter = await token(`bench-voter-${i}`, 'voter');
          for (let attempt = 1; attempt <= 3; attempt++) {
            // Network errors and 503 are retried (the same voter: at most one vote counts).
            const r = await call(
              'POST',
              `/elections/${id}/votes`,
              voter,
              { optionId: ['a', 'b', 'c'][i % 3] },
              `bench-${i}`,
            ).catch(() => ({ status: 0, body: {} }));
            if (r.status === 202) accepted++;
            if (r.status !== 0 && r.status !== 503) break;
            voteRetries++;
          }
        }
      }),
    );
    const flowS = (Date.now() - flowStarted) / 1000;
    console.log(`${accepted}/${VOTES} votes accepted in ${flowS.toFixed(1)} s (${voteRetries} retries)`);

    // Wait until every subscriber saw a tally with every vote in it.
    const deadline = Date.now() + 60000;
    const decided = () => batches.reduce((a, b) => a + b.n, 0);
    while (Date.now() < deadline) {
      if (decided() >= accepted && subs.every((s) => (s.counts[s.counts.length - 1] ?? 0) >= accepted)) break;
      await sleep(200);
    }
    const drainedS = (Date.now() - flowStarted) / 1000;

    // Delays: per subscriber, per finalized vote.
    batches.sort((a, b) => a.at - b.at);
    const cum: number[] = [];
    let total = 0;
    for (const b of batches) {
      total += b.n;
      cum.push(total);
    }
    const delays = new Float64Array(subs.length * total);
    let k = 0;
    let missing = 0;
    let deliveries = 0;
    let firstDelivery = Number.POSITIVE_INFINITY;
    let lastDelivery = 0;
    const perSecond = new Map<number, number>();
    for (const s of subs) {
      let seen = 0;
      let bi = 0;
      for (let j = 0; j < s.times.length; j++) {
        const t = s.times[j]!;
        deliveries++;
        firstDelivery = Math.min(firstDelivery, t);
        lastDelivery = Math.max(lastDelivery, t);
        const sec = Math.floor(t / 1000);
        perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
        seen = Math.max(seen, s.counts[j]!);
        while (bi < batches.length && cum[bi]! <= seen) {
          const d = t - batches[bi]!.at;
          for (let v = 0; v < batches[bi]!.n; v++) delays[k++] = d;
          bi++;
        }
      }
      for (; bi < batches.length; bi++) missing += batches[bi]!.n;
    }
    const sorted = delays.subarray(0, k).sort();
    const windowS = Math.max(0.001, (lastDelivery - firstDelivery) / 1000);
    const tallyCounts = subs.map((s) => s.times.length).sort((a, b) => a - b);
    const statuses = await Promise.all(
      adminPorts.map(async (p) => {
        try {
          return (await (await fetch(`http://127.0.0.1:${p}/status`)).json()) as CoordinatorStatus;
        } catch {
          return undefined;
        }
      }),
    );
    const leader = statuses.find((st) => st?.role === 'leader');
    const result = {
      machine: `${process.platform} ${process.arch}, node ${process.version}, ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      subscribers: SUBSCRIBERS,
      votes: { offered: VOTES, accepted, ratePerSecond: RATE, flowSeconds: flowS, drainedSeconds: drainedS },
      batches: batches.length,
      delayMs: {
        samples: k,
        p50: pct(sorted, 50),
        p90: pct(sorted, 90),
        p99: pct(sorted, 99),
        max: sorted[sorted.length - 1] ?? Number.NaN,
      },
      missingPairs: missing,
      deliveries: {
        total: deliveries,
        perSecond: deliveries / windowS,
        peakPerSecond: Math.max(0, ...perSecond.values()),
        windowSeconds: windowS,
      },
      tallyUpdatesPerSubscriber: {
        min: tallyCounts[0] ?? 0,
        median: tallyCounts[Math.floor(tallyCounts.length / 2)] ?? 0,
        max: tallyCounts[tallyCounts.length - 1] ?? 0,
        perSecond: (tallyCounts[Math.floor(tallyCounts.length / 2)] ?? 0) / windowS,
      },
      connectSeconds: connectS,
      leaderFanout: leader?.fanout ?? null,
    };
    const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 100 ? 1 : 0) : '-');
    console.log('\nquorumvote WebSocket fan-out benchmark');
    console.log(`${SUBSCRIBERS} subscribers on one election, ${accepted} votes at ${RATE}/s over HTTP`);
    console.log('| figure | value |');
    console.log('|---|---|');
    console.log(
      `| finalization → delivery delay p50 / p90 / p99 / max (ms) | ${fmt(result.delayMs.p50)} / ${fmt(result.delayMs.p90)} / ${fmt(result.delayMs.p99)} / ${fmt(result.delayMs.max)} |`,
    );
    console.log(
      `| messages delivered per second (mean / peak second) | ${fmt(result.deliveries.perSecond)} / ${result.deliveries.peakPerSecond} |`,
    );
    console.log(
      `| tally.updated per subscriber: total (median) / per second | ${result.tallyUpdatesPerSubscriber.median} / ${fmt(result.tallyUpdatesPerSubscriber.perSecond)} |`,
    );
    console.log(`| (subscriber, vote) pairs never delivered | ${missing} |`);
    console.log(`| finalized batches announced | ${batches.length} |`);
    console.log(`| connect + subscribe ${SUBSCRIBERS} clients (s) | ${fmt(connectS)} |`);
    console.log(`| machine | ${result.machine} |`);
    if (leader) console.log(`leader fan-out: ${JSON.stringify(leader.fanout)}`);
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench/results/fanout.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    stopping = true;
    for (const s of subs) s.ws.terminate();
    sub.disconnect();
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  }
}

runBench(main);
