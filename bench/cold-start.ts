/**
 * Cold start: the first 1,000 vote submissions right after the stack has started, with
 * and without warming the functions at start (local/warm-up.ts, what `npm start` does).
 * Each variant gets a fresh stack the way `npm start` builds it (startStack: Redis
 * Cluster 3 + 3, three coordinators, serverless-offline): the admin creates and opens
 * an election the moment the stack is up, then 1,000 voters submit at `--rate` per
 * second (open loop, each its own voter, network errors and 503 retried like a client).
 * Latency is per voter, first send to accepted answer.
 *
 *   node --import tsx bench/cold-start.ts [--votes 1000] [--rate 300]
 *
 * Prints a table and writes bench/results/cold-start.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange, freePort } from '../local/ports';
import { type Stack, startStack } from '../local/stack';
import type { WarmUpReport } from '../local/warm-up';
import { mintToken } from '../shared/auth/tokens';
import { benchOptions, machine, percentile, runBench, sleep, writeResult } from './common';
import { recordFigures } from './summary';

const opts = benchOptions('node --import tsx bench/cold-start.ts', {
  votes: { default: 1000, rule: { int: true, min: 1 }, help: 'submissions measured after the start' },
  rate: { default: 300, rule: { above: 0 }, help: 'submissions per second offered' },
});

interface Variant {
  warm: boolean;
  /** From the start of startStack to the stack being up (warm-up included). */
  readyMs: number;
  warmUpMs: number | null;
  accepted: number;
  failed: number;
  retries: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  load: number[];
}

async function one(warm: boolean): Promise<Variant> {
  const dir = mkdtempSync(join(tmpdir(), 'qv-bench-cold-'));
  const keyDir = mkdtempSync(join(tmpdir(), 'qv-bench-cold-keys-'));
  const load = loadavg();
  let stack: Stack | undefined;
  try {
    const base = await findFreePortRange(3);
    const redisBase = await findFreePortRange(6, 10000);
    const coordinators = [];
    for (const nodeId of ['c1', 'c2', 'c3']) coordinators.push({ nodeId, adminPort: await freePort() });
    const env = { LOG_LEVEL: 'warn', JWT_KEY_DIR: keyDir, RATE_LIMIT_VOTER: '1000' };
    // Tokens first (the key pair with them), so minting is not part of the rush.
    const admin = await mintToken({ sub: 'cold-admin', role: 'admin' }, { keyDir, ttlS: 3600 });
    const voters = await Promise.all(
      Array.from({ length: opts.votes }, (_, i) =>
        mintToken({ sub: `cold-voter-${i}`, role: 'voter' }, { keyDir, ttlS: 3600 }),
      ),
    );
    let warmUp: WarmUpReport | null = null;
    const t0 = performance.now();
    stack = await startStack({
      redis: { basePort: redisBase, nodes: 6, replicas: 1, dataDir: dir, fresh: true },
      coordinators,
      offline: { httpPort: base, wsPort: base + 1, lambdaPort: base + 2 },
      env,
      ...(warm
        ? {
            warm: (r: WarmUpReport) => {
              warmUp = r;
            },
          }
        : {}),
    });
    const readyMs = performance.now() - t0;
    const http = `http://127.0.0.1:${base}`;
    const call = async (method: string, path: string, tok: string, body?: unknown, key?: string) => {
      const res = await fetch(`${http}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tok}`,
          'content-type': 'application/json',
          ...(key ? { 'idempotency-key': key } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // The admin opens the election the moment the stack is up (retried while it answers 503).
    let id = '';
    for (let attempt = 0; !id; attempt++) {
      const r = await call('POST', '/elections', admin, {
        title: 'cold start',
        options: [
          { id: 'a', label: 'A' },
          { id: 'b', label: 'B' },
        ],
      }).catch(() => ({ status: 0, body: {} as Record<string, unknown> }));
      if (r.status === 201) id = String(r.body['id']);
      else if (attempt > 20) throw new Error(`create answered ${r.status}`);
      else await sleep(200);
    }
    for (let attempt = 0; ; attempt++) {
      const r = await call('POST', `/elections/${id}/open`, admin).catch(() => ({ status: 0 }));
      if (r.status === 200) break;
      if (attempt > 20) throw new Error(`open answered ${r.status}`);
      await sleep(200);
    }
    const started = performance.now();
    const lat: number[] = [];
    let accepted = 0;
    let failed = 0;
    let retries = 0;
    await Promise.all(
      voters.map(async (tok, i) => {
        const wait = started + (i * 1000) / opts.rate - performance.now();
        if (wait > 0) await sleep(wait);
        const sent = performance.now();
        for (let attempt = 1; ; attempt++) {
          const r = await call(
            'POST',
            `/elections/${id}/votes`,
            tok,
            { optionId: i % 2 ? 'a' : 'b' },
            `c-${i}`,
          ).catch(() => ({ status: 0 }));
          if (r.status === 202) {
            accepted++;
            break;
          }
          if ((r.status !== 0 && r.status !== 503) || attempt >= 5) {
            failed++;
            break;
          }
          retries++;
          await sleep(100 * attempt);
        }
        lat.push(performance.now() - sent);
      }),
    );
    lat.sort((a, b) => a - b);
    const w = warmUp as WarmUpReport | null;
    return {
      warm,
      readyMs,
      warmUpMs: w ? w.ms : null,
      accepted,
      failed,
      retries,
      p50: percentile(lat, 50),
      p90: percentile(lat, 90),
      p99: percentile(lat, 99),
      max: lat[lat.length - 1] ?? Number.NaN,
      load,
    };
  } finally {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // Alternating, cold first: the pair shares the machine's state as closely as it can.
  const cold = await one(false);
  const warm = await one(true);
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
  console.log('\nquorumvote cold start: the first submissions after a fresh start');
  console.log(`${opts.votes} submissions at ${opts.rate}/s offered, right after the stack is up`);
  console.log('| variant | ready (s) | p50 / p90 / p99 / max (ms) | accepted / failed / retries | load |');
  console.log('|---|---|---|---|---|');
  for (const v of [cold, warm]) {
    console.log(
      `| ${v.warm ? `warmed at start (${v.warmUpMs} ms)` : 'not warmed'} | ${(v.readyMs / 1000).toFixed(1)} | ${f(v.p50)} / ${f(v.p90)} / ${f(v.p99)} / ${f(v.max)} | ${v.accepted} / ${v.failed} / ${v.retries} | ${v.load.map((l) => l.toFixed(1)).join(' ')} |`,
    );
  }
  console.log(`machine: ${machine()}`);
  writeResult('cold-start', { votes: opts.votes, rate: opts.rate, cold, warm, machine: machine() });
  recordFigures('cold-start', [
    {
      id: 'coldstart.p99',
      figure: `cold start: first ${opts.votes} submissions after start (${opts.rate}/s), p99, warmed at start`,
      value: `${f(warm.p99)} ms (ready ${(warm.readyMs / 1000).toFixed(1)} s)`,
      anchor: `not warmed ${f(cold.p99)} ms (ready ${(cold.readyMs / 1000).toFixed(1)} s)`,
      ratio: warm.p99 / cold.p99,
      goal: 'recorded',
      met: null,
    },
  ]);
}

runBench(main);
