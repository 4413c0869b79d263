/**
 * `node --import tsx bench/login-flood.ts [--seconds 8] [--flood 32]`: does a flood of
 * logins starve vote intake? Vote submissions at a steady pace (8 in flight) are timed
 * alone, then while `--flood` clients log in as fast as they can with the right
 * password (the costly case: every attempt reaches scrypt, none is throttled). Prints
 * vote latency both ways and what the logins got (200 / 503 from the hash bound).
 * serverless-offline on a fresh Redis Cluster; no coordinators (the gates are opened
 * directly, as in bench/http.ts), so only the function process is measured.
 */
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import { startOffline } from '../local/stack';
import { mintToken } from '../shared/auth/tokens';
import { UserStore } from '../shared/auth/users';
import { systemClock } from '../shared/clock';
import { parseSeeds } from '../shared/config';
import { ElectionStore } from '../shared/elections/store';
import { createRedisCluster } from '../shared/redis/client';
import { partitionKeys } from '../shared/redis/keys';
import { benchRedis, httpCall, machine, benchOptions, percentile, runBench, writeResult } from './common';

const opts = benchOptions('node --import tsx bench/login-flood.ts', {
  seconds: { default: 8, rule: { above: 0 }, help: 'measuring time per phase' },
  flood: { default: 32, rule: { int: true, min: 1 }, help: 'clients logging in' },
  ping: { default: 0, rule: { int: true, min: 0, max: 1 }, help: '1: flood GET /ping instead' },
});
const SECONDS = opts.seconds;
/** `--ping 1`: flood `GET /ping` instead, the cost of request volume alone (no Redis, no hash). */
const PING = opts.ping === 1;
const FLOOD = opts.flood;
const VOTERS_IN_FLIGHT = 8;
const agent = new Agent({ keepAlive: true, maxSockets: VOTERS_IN_FLIGHT + FLOOD });

const call = (port: number, method: string, path: string, headers: Record<string, string>, body?: string) =>
  httpCall(agent, port, method, path, headers, body);

async function main(): Promise<void> {
  const cluster = await benchRedis();
  const keyDir = mkdtempSync(join(tmpdir(), 'qv-bench-keys-'));
  const procs: ManagedProcess[] = [];
  try {
    const base = await findFreePortRange(3);
    procs.push(
      await startOffline({
        httpPort: base,
        wsPort: base + 1,
        lambdaPort: base + 2,
        redisSeeds: cluster.seeds,
        env: {
          LOG_LEVEL: 'warn',
          CLUSTER_NAME: 'flood',
          COORDINATORS: 'f1,f2,f3',
          JWT_KEY_DIR: keyDir,
          RATE_LIMIT_VOTER: '0',
          RATE_LIMIT_IP: '0',
        },
      }),
    );
    const direct = createRedisCluster(parseSeeds(cluster.seeds));
    await new UserStore(direct).create({ username: 'flooder', password: 'flood-password', role: 'voter' });
    const admin = await mintToken({ sub: 'bench-admin', role: 'admin' }, { keyDir });
    const json = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    const created = await call(
      base,
      'POST',
      '/elections',
      json,
      JSON.stringify({
        title: 'flood',
        options: [
          { id: 'a', label: 'A' },
          { id: 'b', label: 'B' },
        ],
      }),
    );
    const id = (JSON.parse(created.text) as { id: string }).id;
    const record = await new ElectionStore(direct, systemClock, 16).require(id);
    await Promise.all(record.tags.map((t) => direct.set(partitionKeys(t).gate, 'open')));
    direct.disconnect();
    const tokens = await Promise.all(
      Array.from({ length: 20000 }, (_, i) => mintToken({ sub: `fv${i}`, role: 'voter' }, { keyDir })),
    );
    let next = 0;
    const votes = async (seconds: number) => {
      const lat: number[] = [];
      let errors = 0;
      const until = Date.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: VOTERS_IN_FLIGHT }, async () => {
          while (Date.now() < until) {
            const t = performance.now();
            const r = await call(
              base,
              'POST',
              `/elections/${id}/votes`,
              {
                authorization: `Bearer ${tokens[next++ % tokens.length]}`,
                'content-type': 'application/json',
              },
              '{"optionId":"a"}',
            );
            if (r.status === 202) lat.push(performance.now() - t);
            else errors++;
          }
        }),
      );
      lat.sort((a, b) => a - b);
      return {
        votes: lat.length,
        perSecond: lat.length / seconds,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        errors,
      };
    };
    const alone = await votes(SECONDS);
    const logins: Record<number, number> = {};
    let flooding = true;
    const flood = Promise.all(
      Array.from({ length: FLOOD }, async () => {
        while (flooding) {
          const r = PING
            ? await call(base, 'GET', '/ping', {})
            : await call(
                base,
                'POST',
                '/auth/token',
                { 'content-type': 'application/json' },
                '{"username":"flooder","password":"flood-password"}',
              );
          logins[r.status] = (logins[r.status] ?? 0) + 1;
        }
      }),
    );
    const flooded = await votes(SECONDS);
    flooding = false;
    await flood;
    const f = (x: number) => x.toFixed(1).padStart(7);
    console.log(
      `login flood vs vote intake (${machine()}), ${SECONDS} s each, ${VOTERS_IN_FLIGHT} votes in flight`,
    );
    console.log(
      `alone:      ${f(alone.perSecond)} votes/s  p50 ${f(alone.p50)} ms  p99 ${f(alone.p99)} ms  errors ${alone.errors}`,
    );
    console.log(
      `with flood: ${f(flooded.perSecond)} votes/s  p50 ${f(flooded.p50)} ms  p99 ${f(flooded.p99)} ms  errors ${flooded.errors}`,
    );
    console.log(
      `${PING ? 'pings' : 'logins'} during the flood (${FLOOD} clients): ${JSON.stringify(logins)}`,
    );
    writeResult(PING ? 'login-flood-ping' : 'login-flood', {
      machine: machine(),
      seconds: SECONDS,
      flood: FLOOD,
      target: PING ? 'GET /ping' : 'POST /auth/token',
      alone,
      flooded,
      answers: logins,
    });
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    await cluster.dispose();
    rmSync(keyDir, { recursive: true, force: true });
  }
}

runBench(main);
