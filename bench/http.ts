/**
 * HTTP submission benchmark: votes per second through serverless-offline against the
 * same serverless-offline serving a trivial handler (GET /ping), in the same run. The
 * votes go through the full submit path (token, rate limits, enqueue script, WAIT) but
 * the coordinators are not given the election during the measurement, so the figure is
 * the handler's, not the handler's plus the pipeline's on the same 2 cores.
 * Goal: our submit handler reaches at least 80% of the trivial handler's rate.
 *
 *   node --import tsx bench/http.ts [--seconds 6] [--concurrency 32] [--rate-limits 0|1]
 *
 * `--rate-limits 1` runs the submit rate limits at their defaults (RATE_LIMIT_VOTER 30,
 * RATE_LIMIT_IP 100000 per 10 s: every vote is by a new voter and the run stays under
 * the address's burst, so nothing is refused) instead of off, to measure what they cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { findFreePortRange } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import { startOffline } from '../local/stack';
import { mintToken } from '../shared/auth/tokens';
import { parseSeeds } from '../shared/config';
import { createRedisCluster } from '../shared/redis/client';
import { partitionKeys } from '../shared/redis/keys';
import { ElectionStore } from '../shared/elections/store';
import { systemClock } from '../shared/clock';
import {
  benchRedis,
  closedLoop,
  httpCall,
  machine,
  benchOptions,
  runBench,
  sleep,
  startBenchCoordinators,
  writeResult,
} from './common';
import { loadSettings } from '../shared/settings/load';
import { costDelta, redisPids, snapshot } from './cost-meter';

const benchSettings = loadSettings();

const {
  seconds: SECONDS,
  concurrency: CONCURRENCY,
  'rate-limits': RATE_LIMITS,
} = benchOptions('node --import tsx bench/http.ts', {
  seconds: { default: 6, rule: { above: 0 }, help: 'measuring time per route' },
  concurrency: { default: 32, rule: { int: true, min: 1 }, help: 'keep-alive clients' },
  'rate-limits': {
    default: 0,
    rule: { int: true, min: 0, max: 1 },
    help: '1: submit rate limits at their defaults (voter 30, address 100000 per 10 s); 0: off',
  },
});
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

const call = (port: number, method: string, path: string, headers: Record<string, string>, body?: string) =>
  httpCall(agent, port, method, path, headers, body);

const load = (seconds: number, one: (i: number) => Promise<number>) => closedLoop(seconds, CONCURRENCY, one);

async function main(): Promise<void> {
  const cluster = await benchRedis();
  const keyDir = mkdtempSync(join(tmpdir(), 'qv-bench-keys-'));
  const procs: ManagedProcess[] = [];
  try {
    const members = ['h1', 'h2', 'h3'];
    const env = { LOG_LEVEL: 'warn', CLUSTER_NAME: 'bench' };
    procs.push(...(await startBenchCoordinators(cluster.seeds, members, env)));
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
        // Off by default (the figure is the handler's); on, at the shipped defaults, the
        // bench never refuses: one vote per voter, and under the address's burst.
        RATE_LIMIT_VOTER: RATE_LIMITS ? '30' : '0',
        RATE_LIMIT_IP: RATE_LIMITS ? '100000' : '0',
        RATE_LIMIT_WINDOW_MS: '10000',
        // Profiling hook: OFFLINE_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/p'
        ...(benchSettings.OFFLINE_NODE_OPTIONS ? { NODE_OPTIONS: benchSettings.OFFLINE_NODE_OPTIONS } : {}),
      },
    });
    procs.push(offline);
    const admin = await mintToken({ sub: 'bench-admin', role: 'admin' }, { keyDir });
    const created = await call(
      base,
      'POST',
      '/elections',
      { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      JSON.stringify({
        title: 'HTTP bench',
        options: [
          { id: 'a', label: 'A' },
          { id: 'b', label: 'B' },
        ],
      }),
    );
    const id = (JSON.parse(created.text) as { id: string }).id;
    // Open only the intake gates, without handing the election to the coordinators:
    // on 2 shared cores their validation work would otherwise be billed to the handler.
    // (The goal is about the handler not being the bottleneck.)
    const direct = createRedisCluster(parseSeeds(cluster.seeds));
    const record = await new ElectionStore(direct, systemClock, 16).require(id);
    await Promise.all(record.tags.map((t) => direct.set(partitionKeys(t).gate, 'open')));
    direct.disconnect();
    const tokens = await Promise.all(
      Array.from({ length: 60000 }, (_, i) => mintToken({ sub: `hv${i}`, role: 'voter' }, { keyDir })),
    );
    // Warm both paths (handler modules load on first use), then measure.
    await load(1, () => call(base, 'GET', '/ping', {}).then((r) => r.status));
    await sleep(200);
    const masters = () => createRedisCluster(parseSeeds(cluster.seeds));
    const stats = masters();
    await stats.cluster('INFO');
    // CPU time per request of serverless-offline (handlers included) and of every Redis
    // node: on 2 shared cores a steadier figure than req/s, which the neighbours set.
    const kinds = { functions: [offline.pid], redis: await redisPids(stats) };
    const trivialStart = await snapshot(stats, kinds);
    let pings = 0;
    const trivial = await load(SECONDS, () => {
      pings++;
      return call(base, 'GET', '/ping', {}).then((r) => r.status);
    });
    const trivialCost = costDelta(trivialStart, await snapshot(stats, kinds), Math.max(1, pings));
    await Promise.all(stats.nodes('master').map((n) => n.config('RESETSTAT')));
    // Warm the submit path too: serverless-offline makes a handler instance (and loads
    // its bundle) per concurrent request the first time; that is start-up, not steady state.
    const warmTokens = await Promise.all(
      Array.from({ length: 4000 }, (_, i) => mintToken({ sub: `hw${i}`, role: 'voter' }, { keyDir })),
    );
    let w = 0;
    await load(1, () =>
      call(
        base,
        'POST',
        `/elections/${id}/votes`,
        {
          authorization: `Bearer ${warmTokens[w++ % warmTokens.length]!}`,
          'content-type': 'application/json',
        },
        '{"optionId":"a"}',
      ).then((r) => r.status),
    );
    await sleep(200);
    await Promise.all(stats.nodes('master').map((n) => n.config('RESETSTAT')));
    const submitStart = await snapshot(stats, kinds);
    let v = 0;
    const submit = await load(SECONDS, () => {
      const token = tokens[v++ % tokens.length]!;
      return call(
        base,
        'POST',
        `/elections/${id}/votes`,
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        '{"optionId":"a"}',
      ).then((r) => r.status);
    });
    // Redis work per accepted vote on the submit path (all masters).
    const perVote: Record<string, number> = {};
    const accepted = Math.max(1, v - submit.errors);
    const submitCost = costDelta(submitStart, await snapshot(stats, kinds), accepted);
    for (const node of stats.nodes('master')) {
      const text = (await node.info('commandstats')) as string;
      for (const m of text.matchAll(/^cmdstat_(\S+):calls=(\d+)/gm)) {
        perVote[m[1]!] = (perVote[m[1]!] ?? 0) + Number(m[2]) / accepted;
      }
    }
    stats.disconnect();
    const ratio = submit.perSecond / trivial.perSecond;
    const commands = Object.entries(perVote)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${n.toFixed(2)}`)
      .join(', ');
    console.log(
      `\nHTTP submission through serverless-offline (--useInProcess), rate limits ${RATE_LIMITS ? 'on (defaults)' : 'off'}`,
    );
    console.log(`Redis commands per accepted vote (masters): ${commands}`);
    const cpu = (c: typeof submitCost) =>
      `functions ${c.cpuMs['functions']!.toFixed(3)}, redis ${c.cpuMs['redis']!.toFixed(3)}`;
    console.log(`CPU-ms per request: /ping ${cpu(trivialCost)}; submit ${cpu(submitCost)}`);
    console.log('| route | req/s | p50 ms | p99 ms | errors | ratio | goal |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(
      `| GET /ping (trivial) | ${trivial.perSecond.toFixed(0)} | ${trivial.p50.toFixed(1)} | ${trivial.p99.toFixed(1)} | ${trivial.errors} | 1.00 | anchor |`,
    );
    console.log(
      `| POST /elections/{id}/votes | ${submit.perSecond.toFixed(0)} | ${submit.p50.toFixed(1)} | ${submit.p99.toFixed(1)} | ${submit.errors} | ${ratio.toFixed(2)} | ≥ 0.80 |`,
    );
    writeResult('http', {
      machine: machine(),
      concurrency: CONCURRENCY,
      rateLimits: RATE_LIMITS === 1,
      commandsPerVote: perVote,
      cpuMsPerRequest: { trivial: trivialCost.cpuMs, submit: submitCost.cpuMs },
      trivial,
      submit,
      ratio,
      met: ratio >= 0.8,
    });
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await cluster.dispose();
    rmSync(keyDir, { recursive: true, force: true });
  }
}

runBench(main);
