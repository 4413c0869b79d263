/**
 * Leader failover benchmark: how long the coordinator cluster is without a leader
 * after `kill -9` of the leader, and what the heartbeat/timeout settings cost in Redis
 * traffic.
 *
 *   node --import tsx bench/failover.ts [--trials 12] [--coordinators 3] [--idle-s 10]
 *
 * Timing settings come from the environment like a coordinator's (HEARTBEAT_INTERVAL_MS,
 * ELECTION_TIMEOUT_MIN_MS, ELECTION_TIMEOUT_MAX_MS, LEADER_LEASE_MS, TICK_MS, ...), so
 * `ELECTION_TIMEOUT_MIN_MS=200 node --import tsx bench/failover.ts` compares settings.
 *
 * Starts its own Redis Cluster (3 masters + 3 replicas, free ports, temp dir) and
 * coordinators, and stops them all. Per trial: wait until all nodes agree on a leader,
 * wait a random 200-700 ms (so the kill falls anywhere in the heartbeat cycle), SIGKILL
 * the leader, poll the survivors' /status every 10 ms, then restart the killed node
 * and wait until it follows the new leader. Measured from the kill:
 *  - detected: a survivor has started an election (term above the old one);
 *  - elected:  a survivor is leader in a newer term;
 *  - agreed:   every survivor reports that leader and term (the failover time).
 * Redis traffic: INFO commandstats deltas on every master over `--idle-s` seconds of
 * an idle cluster, plus a MONITOR breakdown by key of the same window.
 * Writes bench/results/failover.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { membershipTiming } from '../shared/membership/member';
import { loadSettings } from '../shared/settings/load';
import { clusterKeys } from '../shared/redis/keys';
import { findFreePortRange, freePort } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import { type RedisClusterHandle, startRedisCluster } from '../local/redis-cluster';
import { repoRoot, startCoordinator } from '../local/stack';
import { benchOptions, runBench } from './common';
import type { CoordinatorStatus } from '../shared/membership/coordinator-status';

const opts = benchOptions('node --import tsx bench/failover.ts', {
  trials: { default: 12, rule: { int: true, min: 1 }, help: 'leader kills' },
  coordinators: { default: 3, rule: { int: true, min: 1 }, help: 'coordinators' },
  'idle-s': { default: 10, rule: { above: 0 }, help: 'seconds of idle-cost measurement' },
});
const TRIALS = opts.trials;
const COORDINATORS = opts.coordinators;
const IDLE_S = opts['idle-s'];
const POLL_MS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();

type Status = CoordinatorStatus;

const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function getStatus(port: number, timeoutMs = 200): Promise<Status | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/status', agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Status);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
function median(sorted: number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? sorted[n >> 1]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

interface Node {
  id: string;
  port: number;
  proc: ManagedProcess;
}

async function agreedLeader(nodes: Node[], timeoutMs: number): Promise<{ leader: string; term: number }> {
  const until = now() + timeoutMs;
  while (now() < until) {
    const st = await Promise.all(nodes.map((n) => getStatus(n.port)));
    if (st.every((s) => s !== undefined)) {
      const all = st as Status[];
      const leaders = all.filter((s) => s.role === 'leader');
      if (
        leaders.length === 1 &&
        all.every((s) => s.leader === leaders[0]!.id && s.term === leaders[0]!.term)
      ) {
        return { leader: leaders[0]!.id, term: leaders[0]!.term };
      }
    }
    await sleep(POLL_MS);
  }
  throw new Error(`no agreed leader within ${timeoutMs} ms`);
}

interface Trial {
  trial: number;
  killed: string;
  oldTerm: number;
  newLeader: string;
  newTerm: number;
  detectedMs: number;
  electedMs: number;
  agreedMs: number;
}

/** Kills the leader and measures until the survivors agree on a new one. */
async function trial(n: number, nodes: Node[]): Promise<Trial> {
  const { leader, term } = await agreedLeader(nodes, 15000);
  await sleep(200 + Math.random() * 500);
  // Re-check: the leader must not have changed during the wait.
  const before = await agreedLeader(nodes, 5000);
  if (before.leader !== leader || before.term !== term) throw new Error('leader changed before the kill');
  const victim = nodes.find((x) => x.id === leader)!;
  const survivors = nodes.filter((x) => x !== victim);

  const killedAt = now();
  victim.proc.signal('SIGKILL');
  let detected: number | undefined;
  let elected: number | undefined;
  let agreed: { at: number; leader: string; term: number } | undefined;
  while (!agreed) {
    if (now() - killedAt > 20000) throw new Error(`trial ${n}: no new leader 20 s after the kill`);
    const tick = now();
    const st = await Promise.all(survivors.map((x) => getStatus(x.port)));
    const t = now();
    const live = st.filter((s): s is Status => s !== undefined);
    if (detected === undefined && live.some((s) => s.term > term)) detected = t;
    const leaders = live.filter((s) => s.role === 'leader' && s.term > term);
    if (elected === undefined && leaders.length > 0) elected = t;
    if (leaders.length === 1 && live.length === survivors.length) {
      const l = leaders[0]!;
      if (live.every((s) => s.leader === l.id && s.term === l.term))
        agreed = { at: t, leader: l.id, term: l.term };
    }
    const wait = POLL_MS - (now() - tick);
    if (!agreed && wait > 0) await sleep(wait);
  }
  await victim.proc.exited;
  return {
    trial: n,
    killed: leader,
    oldTerm: term,
    newLeader: agreed.leader,
    newTerm: agreed.term,
    detectedMs: Math.round((detected ?? agreed.at) - killedAt),
    electedMs: Math.round((elected ?? agreed.at) - killedAt),
    agreedMs: Math.round(agreed.at - killedAt),
  };
}

/** Per-command call counts of every master (INFO commandstats). */
async function commandStats(ports: number[]): Promise<Map<string, number>> {
  const total = new Map<string, number>();
  for (const port of ports) {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    try {
      await r.connect();
      const role = /^role:(\w+)/m.exec(await r.info('replication'))?.[1];
      if (role !== 'master') continue;
      const text = await r.info('commandstats');
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        total.set(m[1]!, (total.get(m[1]!) ?? 0) + Number(m[2]));
      }
    } finally {
      r.disconnect();
    }
  }
  return total;
}

/** Classifies a command seen by MONITOR by the keys it touches. */
function classify(cmdArgs: string[]): string {
  const cmd = (cmdArgs[0] ?? '').toLowerCase();
  const keys = cmd === 'evalsha' || cmd === 'eval' ? cmdArgs.slice(3) : cmdArgs.slice(1, 2);
  const key = keys.find((k) => k.includes('{')) ?? '';
  const k = clusterKeys; // the benched coordinators share this process's CLUSTER_NAME
  if (key === k.members) return `membership heartbeat (${cmd} ${k.members})`;
  if (key === k.leaderFence || key === k.leader) return `leader lease renewal (${cmd} ${k.leader}*)`;
  if (key.startsWith(k.prefixes.nodeTerm) || key.startsWith(k.prefixes.vote)) {
    return `election: term / vote (${cmd})`;
  }
  if (key.startsWith(k.prefixes.cluster))
    return `other cluster keys (${cmd} ${key.replace(/:[^:]*$/, ':*')})`;
  if (key) return `vote pipeline / fan-out (${cmd} ${key.replace(/^(\{[a-z]+:?).*$/, '$1...}')})`;
  return `client housekeeping (${cmd})`;
}

async function monitorBreakdown(ports: number[], seconds: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const monitors: Redis[] = [];
  for (const port of ports) {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    await r.connect();
    const role = /^role:(\w+)/m.exec(await r.info('replication'))?.[1];
    r.disconnect();
    if (role !== 'master') continue;
    const client = new Redis({ port, host: '127.0.0.1' });
    client.on('error', () => {});
    const monitor = await client.monitor();
    monitor.on('monitor', (_time: string, cmdArgs: string[], source: string) => {
      // Commands a Lua script runs show up too; count only what clients send.
      if (source === 'lua') return;
      const c = classify(cmdArgs);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    });
    monitors.push(monitor, client);
  }
  await sleep(seconds * 1000);
  for (const m of monitors) m.disconnect();
  return counts;
}

async function main(): Promise<void> {
  // The timing the coordinators it starts will use: the same settings they read (the
  // bench passes them no timing of its own), from the one settings schema.
  const s = loadSettings();
  const settings = {
    heartbeatIntervalMs: s.HEARTBEAT_INTERVAL_MS,
    electionTimeoutMinMs: s.ELECTION_TIMEOUT_MIN_MS,
    electionTimeoutMaxMs: s.ELECTION_TIMEOUT_MAX_MS,
    leaseMs: s.LEADER_LEASE_MS,
    tickMs: s.TICK_MS,
    storeTimeoutMs: s.STORE_TIMEOUT_MS,
    clockSyncMs: s.CLOCK_SYNC_MS,
    membershipHeartbeatMs: membershipTiming.heartbeatMs,
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'qv-bench-failover-'));
  let redis: RedisClusterHandle | undefined;
  const nodes: Node[] = [];
  const cleanup = (): void => rmSync(dataDir, { recursive: true, force: true });
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  process.once('exit', cleanup);
  try {
    const basePort = await findFreePortRange(6, 10000);
    redis = await startRedisCluster({ basePort, dataDir, fresh: true });
    const members = Array.from({ length: COORDINATORS }, (_, i) => `c${i + 1}`);
    const env = { LOG_LEVEL: 'warn', LAMBDA_ENDPOINT: 'off' };
    const start = async (id: string, port: number): Promise<ManagedProcess> =>
      startCoordinator({ nodeId: id, adminPort: port, redisSeeds: redis!.seeds, members, env });
    for (const id of members) {
      const port = await freePort();
      nodes.push({ id, port, proc: await start(id, port) });
    }
    console.log(`quorumvote failover benchmark: ${COORDINATORS} coordinators, Redis ${redis.seeds}`);
    console.log(`settings ${JSON.stringify(settings)}`);
    await agreedLeader(nodes, 15000);

    // ---- Redis traffic of an idle cluster ----
    await sleep(2000);
    const masters = redis.ports;
    const statsBefore = await commandStats(masters);
    const t0 = now();
    const byKey = await monitorBreakdown(masters, IDLE_S);
    const elapsedS = (now() - t0) / 1000;
    const statsAfter = await commandStats(masters);
    // INFO commandstats also counts the commands scripts run (an EVALSHA that does
    // GET + SET counts as evalsha, get and set); the MONITOR breakdown counts only what
    // clients send.
    const perCommand: Record<string, number> = {};
    for (const [cmd, calls] of statsAfter) {
      // Our own INFO / MONITOR calls are not coordinator traffic.
      if (cmd === 'info' || cmd === 'monitor') continue;
      const delta = calls - (statsBefore.get(cmd) ?? 0);
      if (delta <= 0) continue;
      perCommand[cmd] = Math.round((delta / elapsedS) * 10) / 10;
    }
    const byPurpose: Record<string, number> = {};
    let totalPerS = 0;
    for (const [k, v] of [...byKey].sort((a, b) => b[1] - a[1])) {
      if (k.startsWith('client housekeeping (info)') || k.startsWith('client housekeeping (monitor)'))
        continue;
      byPurpose[k] = Math.round((v / elapsedS) * 10) / 10;
      totalPerS += v / elapsedS;
    }
    const coordinationPerS = Object.entries(byPurpose)
      .filter(([k]) => /^(membership|leader lease|election:)/.test(k))
      .reduce((a, [, v]) => a + v, 0);
    const expected = {
      membershipPerS: (COORDINATORS * 2 * 1000) / settings.membershipHeartbeatMs,
      leaseRenewalPerS: 1000 / settings.heartbeatIntervalMs,
      raftHttpPerS: (2 * (COORDINATORS - 1) * 1000) / settings.heartbeatIntervalMs,
      clockSyncHttpPerS: ((COORDINATORS - 1) * 1000) / settings.clockSyncMs,
    };

    // ---- failover trials ----
    const trials: Trial[] = [];
    const leadersByTerm = new Map<number, string>();
    console.log('\n| trial | killed | new leader | term | detected ms | elected ms | agreed ms |');
    console.log('|---|---|---|---|---|---|---|');
    for (let i = 1; i <= TRIALS; i++) {
      const t = await trial(i, nodes);
      const seen = leadersByTerm.get(t.newTerm);
      if (seen !== undefined && seen !== t.newLeader) {
        throw new Error(`two leaders in term ${t.newTerm}: ${seen} and ${t.newLeader}`);
      }
      leadersByTerm.set(t.newTerm, t.newLeader);
      trials.push(t);
      console.log(
        `| ${i} | ${t.killed} (term ${t.oldTerm}) | ${t.newLeader} | ${t.newTerm} | ${t.detectedMs} | ${t.electedMs} | ${t.agreedMs} |`,
      );
      const victim = nodes.find((x) => x.id === t.killed)!;
      victim.proc = await start(victim.id, victim.port);
      await agreedLeader(nodes, 15000);
    }

    const summary = (key: 'detectedMs' | 'electedMs' | 'agreedMs') => {
      const v = trials.map((t) => t[key]).sort((a, b) => a - b);
      return { median: median(v), p90: pct(v, 90), max: v[v.length - 1]!, min: v[0]! };
    };
    const result = {
      at: new Date().toISOString(),
      host: { cpus: (await import('node:os')).cpus().length, node: process.version },
      coordinators: COORDINATORS,
      settings,
      trials,
      failover: {
        detectedMs: summary('detectedMs'),
        electedMs: summary('electedMs'),
        agreedMs: summary('agreedMs'),
        goal: { medianMs: 1000, maxMs: 2000 },
      },
      redisTraffic: {
        idleSeconds: Math.round(elapsedS * 10) / 10,
        /** Commands clients sent to the masters (MONITOR, scripts' inner commands excluded). */
        totalCommandsPerS: Math.round(totalPerS * 10) / 10,
        /** INFO commandstats deltas (includes commands run inside scripts). */
        commandStatsPerS: perCommand,
        byPurposePerS: byPurpose,
        coordinationCommandsPerS: Math.round(coordinationPerS * 10) / 10,
        expected,
        note:
          'All {qv} keys share one hash slot, so the coordination traffic lands on one master. ' +
          'Raft heartbeats and clock sync go peer to peer over HTTP, not through Redis.',
      },
    };

    const f = result.failover;
    console.log('\n| failover (ms from kill -9) | median | p90 | max | min |');
    console.log('|---|---|---|---|---|');
    for (const [name, s] of [
      ['detected (a survivor campaigns)', f.detectedMs],
      ['elected (a survivor leads)', f.electedMs],
      ['agreed (all survivors follow it)', f.agreedMs],
    ] as const) {
      console.log(`| ${name} | ${s.median} | ${s.p90} | ${s.max} | ${s.min} |`);
    }
    const ok = f.agreedMs.median < 1000 && f.agreedMs.max < 2000;
    console.log(`goal (median < 1000 ms, max < 2000 ms): ${ok ? 'met' : 'NOT met'}`);

    const rt = result.redisTraffic;
    console.log(
      `\nRedis traffic, idle cluster, ${rt.idleSeconds} s: ${rt.totalCommandsPerS} commands/s on the masters`,
    );
    console.log('| purpose | commands/s |');
    console.log('|---|---|');
    for (const [k, v] of Object.entries(rt.byPurposePerS)) console.log(`| ${k} | ${v} |`);
    console.log(
      `coordination (membership + lease + election): ${rt.coordinationCommandsPerS}/s; expected from the settings: ` +
        `membership ${expected.membershipPerS}/s + lease renewal ${expected.leaseRenewalPerS.toFixed(1)}/s; ` +
        `not in Redis: Raft heartbeats ${expected.raftHttpPerS.toFixed(1)} HTTP msg/s, clock sync ${expected.clockSyncHttpPerS} HTTP req/s`,
    );

    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    const out = join(repoRoot, 'bench/results/failover.json');
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${out}`);
  } finally {
    await Promise.all(nodes.map((n) => n.proc.stop()));
    agent.destroy();
    await redis?.stop();
    cleanup();
  }
}

runBench(main);
