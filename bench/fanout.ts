/**
 * WebSocket fan-out benchmark: N subscribers on one election while votes flow over
 * HTTP. Measures, for every (subscriber, finalized vote) pair, the delay from the
 * vote's finalization (the `at` of its `votes.finalized` batch) to the first
 * `tally.updated` that subscriber received whose counts include it; and messages
 * delivered per second over all subscribers.
 *
 * In the same run, on the same stack: the intake alone (the same votes at the same
 * rate on an election nobody watches, before any subscriber connects), so "intake
 * unaffected" compares votes/s and submit latency while fanning out with those; and the
 * anchor, serverless-offline's own `PostToConnection` ceiling: raw keep-alive POSTs
 * from this process straight to its `@connections` endpoint for every subscriber (no
 * SDK, no Lambda, no Redis), as many as it serves in a few seconds.
 *
 *   node --import tsx bench/fanout.ts [--subscribers 1000] [--votes 1500] [--rate 100]
 *
 * Starts and stops its own Redis Cluster, three coordinators and serverless-offline on
 * free ports. Prints a table and writes bench/results/fanout.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
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
import { realtimeKeys } from '../shared/realtime/keys';
import { electionTopic } from '../shared/realtime/topics';
import { benchOptions, httpCall, percentile, runBench } from './common';
import { recordFigures } from './summary';
import type { CoordinatorStatus } from '../shared/membership/coordinator-status';
import { loadSettings } from '../shared/settings/load';

const benchSettings = loadSettings();

const opts = benchOptions('node --import tsx bench/fanout.ts', {
  subscribers: { default: 1000, rule: { int: true, min: 1 }, help: 'WebSocket subscribers' },
  votes: { default: 1500, rule: { int: true, min: 1 }, help: 'votes submitted' },
  rate: { default: 100, rule: { above: 0 }, help: 'votes per second' },
  'anchor-seconds': { default: 3, rule: { above: 0 }, help: 'seconds of raw PostToConnection (anchor)' },
});
const SUBSCRIBERS = opts.subscribers;
const VOTES = opts.votes;
const RATE = opts.rate;
const ANCHOR_S = opts['anchor-seconds'];
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
  const plain = createRedisCluster(parseSeeds(cluster.seeds));
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

    /** VOTES votes at RATE per second on `electionId`, each by its own voter: intake as measured by the voters. */
    const intake = async (electionId: string, prefix: string) => {
      const started = Date.now();
      let next = 0;
      let accepted = 0;
      let retries = 0;
      const lat: number[] = [];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < VOTES) {
            const i = next++;
            const wait = started + (i * 1000) / RATE - Date.now();
            if (wait > 0) await sleep(wait);
            const voter = await token(`${prefix}-voter-${i}`, 'voter');
            const t0 = performance.now();
            for (let attempt = 1; attempt <= 3; attempt++) {
              // Network errors and 503 are retried (the same voter: at most one vote counts).
              const r = await call(
                'POST',
                `/elections/${electionId}/votes`,
                voter,
                { optionId: ['a', 'b', 'c'][i % 3] },
                `${prefix}-${i}`,
              ).catch(() => ({ status: 0, body: {} }));
              if (r.status === 202) accepted++;
              if (r.status !== 0 && r.status !== 503) break;
              retries++;
            }
            lat.push(performance.now() - t0);
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      lat.sort((a, b) => a - b);
      return {
        started,
        accepted,
        retries,
        seconds,
        perSecond: accepted / seconds,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
      };
    };

    // Intake alone: the same votes at the same rate on an election nobody watches.
    const quietElection = await call('POST', '/elections', admin, {
      title: 'fan-out bench (intake alone)',
      options: [
        { id: 'a', label: 'A' },
        { id: 'b', label: 'B' },
        { id: 'c', label: 'C' },
      ],
    });
    const quietId = String(quietElection.body['id']);
    if ((await call('POST', `/elections/${quietId}/open`, admin)).status !== 200)
      throw new Error('open failed');
    const alone = await intake(quietId, 'alone');
    console.log(
      `intake alone: ${alone.accepted}/${VOTES} votes accepted in ${alone.seconds.toFixed(1)} s, submit p50 ${alone.p50.toFixed(0)} ms p99 ${alone.p99.toFixed(0)} ms`,
    );
    await sleep(1000); // its finalizations settle

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

    // Anchor: serverless-offline's own PostToConnection ceiling, from this process.
    const connectionIds = await plain.zrange(realtimeKeys.topic(electionTopic(id)), '0', '-1');
    const anchorAgent = new Agent({ keepAlive: true, maxSockets: 32 });
    const anchorBody = JSON.stringify({ type: 'bench.anchor', data: { pad: 'x'.repeat(300) } });
    let anchorPosts = 0;
    let anchorErrors = 0;
    const anchorUntil = Date.now() + ANCHOR_S * 1000;
    const anchorStarted = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = w; Date.now() < anchorUntil; i += 32) {
          const cid = connectionIds[i % connectionIds.length]!;
          const r = await httpCall(
            anchorAgent,
            ports.wsPort,
            'POST',
            `/@connections/${encodeURIComponent(cid)}`,
            { 'content-type': 'application/json' },
            anchorBody,
          ).catch(() => ({ status: 0, text: '' }));
          if (r.status >= 200 && r.status < 300) anchorPosts++;
          else anchorErrors++;
        }
      }),
    );
    const anchorPerSecond = anchorPosts / ((performance.now() - anchorStarted) / 1000);
    anchorAgent.destroy();
    console.log(
      `anchor: serverless-offline PostToConnection ${anchorPerSecond.toFixed(0)} posts/s (${anchorErrors} errors, ${connectionIds.length} connections)`,
    );
    await sleep(1000);

    const flow = await intake(id, 'bench');
    const { accepted } = flow;
    const flowStarted = flow.started;
    console.log(
      `${accepted}/${VOTES} votes accepted in ${flow.seconds.toFixed(1)} s while fanning out (${flow.retries} retries), submit p50 ${flow.p50.toFixed(0)} ms p99 ${flow.p99.toFixed(0)} ms`,
    );

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
      votes: {
        offered: VOTES,
        accepted,
        ratePerSecond: RATE,
        flowSeconds: flow.seconds,
        drainedSeconds: drainedS,
      },
      intake: {
        alone: { perSecond: alone.perSecond, p50: alone.p50, p99: alone.p99, accepted: alone.accepted },
        fanningOut: { perSecond: flow.perSecond, p50: flow.p50, p99: flow.p99, accepted },
        ratio: flow.perSecond / alone.perSecond,
      },
      anchor: { postsPerSecond: anchorPerSecond, errors: anchorErrors, seconds: ANCHOR_S },
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
      deliveredToAnchor: deliveries / windowS / anchorPerSecond,
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
    console.log(
      `| intake votes/s alone / while fanning out (ratio) | ${fmt(alone.perSecond)} / ${fmt(flow.perSecond)} (${(flow.perSecond / alone.perSecond).toFixed(2)}) |`,
    );
    console.log(
      `| submit latency p99 alone / while fanning out (ms) | ${fmt(alone.p99)} / ${fmt(flow.p99)} |`,
    );
    console.log(
      `| anchor: serverless-offline PostToConnection ceiling (posts/s) | ${fmt(anchorPerSecond)}; deliveries at ${(result.deliveredToAnchor).toFixed(2)}× it |`,
    );
    console.log(`| (subscriber, vote) pairs never delivered | ${missing} |`);
    console.log(`| finalized batches announced | ${batches.length} |`);
    console.log(`| connect + subscribe ${SUBSCRIBERS} clients (s) | ${fmt(connectS)} |`);
    console.log(`| machine | ${result.machine} |`);
    if (leader) console.log(`leader fan-out: ${JSON.stringify(leader.fanout)}`);
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench/results/fanout.json'), `${JSON.stringify(result, null, 2)}\n`);
    const perSub = result.tallyUpdatesPerSubscriber.perSecond;
    const intakeRatio = flow.perSecond / alone.perSecond;
    recordFigures('fanout', [
      {
        id: 'fanout.delivery-p99',
        figure: `WebSocket fan-out delivery p99, ${SUBSCRIBERS} subscribers, ${RATE} votes/s`,
        value: `${fmt(result.delayMs.p99)} ms (p50 ${fmt(result.delayMs.p50)})`,
        anchor: `serverless-offline PostToConnection ${fmt(anchorPerSecond)}/s`,
        ratio: result.deliveredToAnchor,
        goal: 'p99 <= 1,500 ms',
        met: result.delayMs.p99 <= 1500,
      },
      {
        id: 'fanout.updates',
        figure: 'tally updates/s per subscriber',
        value: `${perSub.toFixed(2)}/s`,
        goal: '>= 1/s',
        met: perSub >= 1,
      },
      {
        id: 'fanout.intake',
        figure: `intake while fanning out (votes/s; submit p99)`,
        value: `${fmt(flow.perSecond)}/s; p99 ${fmt(flow.p99)} ms`,
        anchor: `alone ${fmt(alone.perSecond)}/s; p99 ${fmt(alone.p99)} ms`,
        ratio: intakeRatio,
        goal: 'unaffected (>= 0.95x)',
        met: intakeRatio >= 0.95,
      },
    ]);
  } finally {
    stopping = true;
    for (const s of subs) s.ws.terminate();
    sub.disconnect();
    plain.disconnect();
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  }
}

runBench(main);
