/**
 * Read flood benchmark: vote intake alone, then the same intake while ONE token reads
 * GET /elections/{id}/results in a tight loop (32 requests in flight). With the read
 * limits (per user and per address token buckets) and the per-instance results cache,
 * the flood is answered 429 almost entirely and costs one bucket check per request, so
 * intake should keep most of its rate. Same process, same run: the comparison is fair
 * even on a loaded machine, the absolute numbers are not.
 *
 *   node --import tsx bench/read-flood.ts [--seconds 6] [--concurrency 16]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import { startOffline } from '../local/stack';
import { ensureKeyPair } from '../shared/auth/keys';
import { mintToken } from '../shared/auth/tokens';
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

const { seconds: SECONDS, concurrency: CONCURRENCY } = benchOptions('node --import tsx bench/read-flood.ts', {
  seconds: { default: 6, rule: { above: 0 }, help: 'measuring time per phase' },
  concurrency: { default: 16, rule: { int: true, min: 1 }, help: 'readers' },
});
const FLOOD = 32;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY + FLOOD + 4 });

const call = (port: number, method: string, path: string, headers: Record<string, string>, body?: string) =>
  httpCall(agent, port, method, path, headers, body);

const load = closedLoop;

async function main(): Promise<void> {
  const cluster = await benchRedis();
  const keyDir = mkdtempSync(join(tmpdir(), 'qv-bench-keys-'));
  ensureKeyPair({ keyDir });
  const procs: ManagedProcess[] = [];
  try {
    const members = ['r1', 'r2', 'r3'];
    const env = { LOG_LEVEL: 'warn', CLUSTER_NAME: 'readflood' };
    procs.push(...(await startBenchCoordinators(cluster.seeds, members, env)));
    const base = await findFreePortRange(3);
    const port = base;
    procs.push(
      await startOffline({
        httpPort: base,
        wsPort: base + 1,
        lambdaPort: base + 2,
        redisSeeds: cluster.seeds,
        // The read limits stay at their defaults: they are what is measured.
        env: {
          ...env,
          COORDINATORS: members.join(','),
          JWT_KEY_DIR: keyDir,
          RATE_LIMIT_VOTER: '0',
          RATE_LIMIT_IP: '0',
        },
      }),
    );
    const admin = await mintToken({ sub: 'rf-admin', role: 'admin' }, { keyDir });
    const json = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    const created = await call(
      port,
      'POST',
      '/elections',
      json,
      JSON.stringify({
        title: 'Read flood',
        options: [
          { id: 'a', label: 'A' },
          { id: 'b', label: 'B' },
        ],
      }),
    );
    const id = (JSON.parse(created.text) as { id: string }).id;
    const opened = await call(port, 'POST', `/elections/${id}/open`, json);
    if (opened.status !== 200) throw new Error(`open answered ${opened.status} ${opened.text}`);
    const tokens = await Promise.all(
      Array.from({ length: 40000 }, (_, i) => mintToken({ sub: `rf${i}`, role: 'voter' }, { keyDir })),
    );
    let v = 0;
    const vote = () =>
      call(
        port,
        'POST',
        `/elections/${id}/votes`,
        { authorization: `Bearer ${tokens[v++ % tokens.length]!}`, 'content-type': 'application/json' },
        '{"optionId":"a"}',
      ).then((r) => r.status);
    await load(1, CONCURRENCY, vote); // warm-up: handler instances and bundles load
    await sleep(500);
    const alone = await load(SECONDS, CONCURRENCY, vote);
    await sleep(500);
    const reader = await mintToken({ sub: 'rf-reader', role: 'voter' }, { keyDir });
    const readStatuses: Record<string, number> = {};
    let flooding = true;
    const flood = Promise.all(
      Array.from({ length: FLOOD }, async () => {
        while (flooding) {
          const r = await call(port, 'GET', `/elections/${id}/results`, {
            authorization: `Bearer ${reader}`,
          }).catch(() => ({ status: 0 }));
          readStatuses[r.status] = (readStatuses[r.status] ?? 0) + 1;
        }
      }),
    );
    await sleep(500);
    const flooded = await load(SECONDS, CONCURRENCY, vote);
    flooding = false;
    await flood;
    const reads = Object.values(readStatuses).reduce((a, n) => a + n, 0);
    const ratio = flooded.perSecond / alone.perSecond;
    console.log('\nVote intake while one token floods GET /results (32 in flight)');
    console.log('| phase | votes/s | p50 ms | p99 ms | errors |');
    console.log('|---|---|---|---|---|');
    for (const [name, r] of [
      ['intake alone', alone],
      ['intake + read flood', flooded],
    ] as const) {
      console.log(
        `| ${name} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`,
      );
    }
    console.log(
      `reader: ${reads} requests, ${JSON.stringify(readStatuses)} (${((100 * (readStatuses['429'] ?? 0)) / Math.max(1, reads)).toFixed(1)}% 429); intake kept ${(100 * ratio).toFixed(0)}% of its rate`,
    );
    writeResult('read-flood', {
      machine: machine(),
      concurrency: CONCURRENCY,
      flood: FLOOD,
      alone,
      flooded,
      readStatuses,
      ratio,
    });
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await cluster.dispose();
    rmSync(keyDir, { recursive: true, force: true });
  }
}

runBench(main);
