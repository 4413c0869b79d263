/**
 * `npm run status [-- --redis 127.0.0.1:7000,... --json]`: the whole cluster at a glance.
 *
 * - Coordinators: every record in `{qv}:members` plus each one's `GET /status` (role,
 *   term, leader, heartbeat age, clock offset, sync state, Redis reachability).
 * - Redis Cluster: every node it announces (CLUSTER NODES of the first seed that
 *   answers), checked with `clusterHealth` (roles, replicas online, slot coverage).
 * - What is wrong, in plain words: no leader, two leaders, disagreement about the
 *   leader, no majority, a member down / unhealthy / cut off from Redis / out of
 *   sync, Redis problems.
 *
 * Exit code 0 when healthy, 1 when anything is wrong, 2 on bad usage.
 */
import { UsageError, runCli } from './cli';
import { withDeadline } from '../shared/deadline';
import Redis from 'ioredis';
import { type RedisSeed, parseSeeds } from '../shared/config';
import { createRedisCluster } from '../shared/redis/client';
import { clusterKeys } from '../shared/redis/keys';
import { type ClusterHealth, clusterHealth } from './redis-cluster';

/** Same thresholds as coordinator/membership.ts (kept here so this tool loads nothing of the coordinator). */
const UNHEALTHY_AFTER_MS = 1500;

interface Options {
  seeds: RedisSeed[];
  json: boolean;
  timeoutMs: number;
}

interface MemberRecord {
  id: string;
  adminUrl: string;
  pid?: number;
  startedAt?: number;
  version?: string;
  heartbeatAt: number;
}

interface NodeStatus {
  id: string;
  pid: number;
  role: string;
  term: number;
  leader: string | null;
  lastLeaderContactMs: number | null;
  redisReachable: boolean;
  votingMembers: string[];
  members: { id: string; health: string; heartbeatAgeMs: number }[];
  clock: {
    inSync: boolean;
    offsetMs: number | null;
    rttMs: number | null;
    correctionMs: number;
    samples: number;
    lastAction: string;
  };
}

interface CoordinatorReport {
  id: string;
  adminUrl: string | null;
  registered: boolean;
  voting: boolean;
  /** Heartbeat age as the leader sees it (else as this tool computes it). */
  heartbeatAgeMs: number | null;
  health: 'healthy' | 'unhealthy' | 'down' | 'unregistered';
  answers: boolean;
  pid: number | null;
  role: string | null;
  term: number | null;
  leader: string | null;
  redisReachable: boolean | null;
  clock: NodeStatus['clock'] | null;
}

interface StatusReport {
  at: string;
  healthy: boolean;
  problems: string[];
  /**
   * Who acts as leader now: a coordinator that answers as leader AND holds the live
   * leader lease in Redis for that term. `null` when nobody does; never a stale record.
   */
  leader: string | null;
  term: number | null;
  /** The live `{qv}:leader-lease` (expires one lease length after the last renewal). */
  leaderLease: { id: string; term: number } | null;
  /** The `{qv}:leader` record (last fenced write; may name a leader that is gone). */
  leaderRecord: { id: string | null; term: number | null; fence: number | null };
  votingMembers: string[];
  coordinators: CoordinatorReport[];
  redis: {
    seeds: string;
    reachable: boolean;
    nodes: { address: string; flags: string }[];
    health: ClusterHealth | null;
  };
}

function usage(): string {
  return [
    'Usage: npm run status -- [--redis host:port,...] [--json] [--timeout ms]',
    '  --redis    Redis Cluster seeds (default: REDIS_SEEDS, else 127.0.0.1:7000-7005)',
    '  --json     print the report as JSON',
    '  --timeout  per-request timeout in ms (default 1500)',
    'Exit code: 0 healthy, 1 something is wrong.',
  ].join('\n');
}

function parseArgs(argv: string[]): Options {
  let seedsText =
    process.env['REDIS_SEEDS'] || [0, 1, 2, 3, 4, 5].map((i) => `127.0.0.1:${7000 + i}`).join(',');
  let json = false;
  let timeoutMs = 1500;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--redis') seedsText = value();
    else if (a.startsWith('--redis=')) seedsText = a.slice('--redis='.length);
    else if (a === '--json') json = true;
    else if (a === '--timeout') timeoutMs = Number(value());
    else if (a === '--help' || a === '-h') throw new UsageError('');
    else throw new UsageError(`Unknown option ${a}`);
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new UsageError('--timeout needs a positive number');
  let seeds: RedisSeed[];
  try {
    seeds = parseSeeds(seedsText);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (seeds.length === 0) throw new UsageError('--redis needs at least one host:port');
  return { seeds, json, timeoutMs };
}

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(p, ms, () => new Error(`${what}: no answer within ${ms} ms`));
}

/** CLUSTER NODES from the first seed that answers: every node the cluster knows, with its flags. */
async function discoverRedisNodes(
  seeds: RedisSeed[],
  timeoutMs: number,
): Promise<{ host: string; port: number; flags: string }[] | null> {
  for (const seed of seeds) {
    const r = new Redis({
      ...seed,
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on('error', () => {});
    try {
      await r.connect();
      const text = (await r.call('CLUSTER', 'NODES')) as string;
      const out: { host: string; port: number; flags: string }[] = [];
      for (const line of text.split('\n')) {
        const parts = line.trim().split(' ');
        const addr = parts[1];
        const flags = parts[2] ?? '';
        if (!addr || flags.includes('noaddr')) continue;
        const hostPort = addr.split('@')[0]!;
        const i = hostPort.lastIndexOf(':');
        const port = Number(hostPort.slice(i + 1));
        if (Number.isInteger(port) && port > 0)
          out.push({ host: hostPort.slice(0, i) || seed.host, port, flags });
      }
      if (out.length > 0) return out.sort((a, b) => a.port - b.port);
    } catch {
      // try the next seed
    } finally {
      r.disconnect();
    }
  }
  return null;
}

async function fetchStatus(adminUrl: string, timeoutMs: number): Promise<NodeStatus | null> {
  try {
    const res = await fetch(`${adminUrl}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    return (await res.json()) as NodeStatus;
  } catch {
    return null;
  }
}

const fmtMs = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (Math.abs(ms) >= 10000) return `${(ms / 1000).toFixed(0)} s`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
};

async function collect(o: Options): Promise<StatusReport> {
  const problems: string[] = [];
  const seedsText = o.seeds.map((s) => `${s.host}:${s.port}`).join(',');

  // ---- Redis Cluster ----
  const redisNodes = await discoverRedisNodes(o.seeds, o.timeoutMs);
  let health: ClusterHealth | null = null;
  if (!redisNodes) {
    problems.push(`Redis: no seed answers (${seedsText}); is the Redis Cluster running?`);
  } else {
    const local = redisNodes.every((n) => n.host === '127.0.0.1' || n.host === 'localhost');
    if (local) {
      health = await clusterHealth(redisNodes.map((n) => n.port));
      for (const p of health.problems) problems.push(`Redis: ${p}`);
    } else {
      for (const n of redisNodes) {
        if (/fail/.test(n.flags)) problems.push(`Redis: node ${n.host}:${n.port} is flagged ${n.flags}`);
      }
    }
  }

  // ---- coordinators, from Redis ----
  let records: MemberRecord[] = [];
  let leaderRecord: StatusReport['leaderRecord'] = { id: null, term: null, fence: null };
  let leaderLease: StatusReport['leaderLease'] = null;
  if (redisNodes) {
    const redis = createRedisCluster(o.seeds, {
      clusterRetryStrategy: () => null,
      redisOptions: { connectTimeout: o.timeoutMs, commandTimeout: o.timeoutMs, maxRetriesPerRequest: 1 },
    });
    redis.on('error', () => {});
    try {
      const [members, leader, fence, lease] = await deadline(
        Promise.all([
          redis.hgetall(clusterKeys.members),
          redis.hgetall(clusterKeys.leader),
          redis.get(clusterKeys.leaderFence),
          redis.hgetall(clusterKeys.leaderLease),
        ]),
        o.timeoutMs * 3,
        'Redis',
      );
      for (const raw of Object.values(members)) {
        try {
          const rec = JSON.parse(raw) as MemberRecord;
          if (typeof rec.id === 'string' && typeof rec.adminUrl === 'string') records.push(rec);
        } catch {
          problems.push('Redis: a {qv}:members record is not valid JSON');
        }
      }
      leaderRecord = {
        id: leader['id'] ?? null,
        term: leader['term'] !== undefined ? Number(leader['term']) : null,
        fence: fence !== null ? Number(fence) : null,
      };
      if (lease['id'] !== undefined && lease['term'] !== undefined) {
        leaderLease = { id: lease['id'], term: Number(lease['term']) };
      }
    } catch (err) {
      problems.push(`Redis: cannot read the coordinator records (${(err as Error).message})`);
    } finally {
      redis.disconnect();
    }
  }
  records = records.sort((a, b) => a.id.localeCompare(b.id));

  const statuses = new Map<string, NodeStatus | null>();
  await Promise.all(records.map(async (r) => statuses.set(r.id, await fetchStatus(r.adminUrl, o.timeoutMs))));
  const answering = [...statuses.values()].filter((s): s is NodeStatus => s !== null);

  // The voting membership as the coordinators are configured (they must all agree).
  const votingSets = new Set(answering.map((s) => [...s.votingMembers].sort().join(',')));
  if (votingSets.size > 1) {
    problems.push(`coordinators disagree on the voting membership: ${[...votingSets].join(' vs ')}`);
  }
  const voting = [...new Set(answering.flatMap((s) => s.votingMembers))].sort();

  const leaders = answering.filter((s) => s.role === 'leader').sort((a, b) => b.term - a.term);
  // A node's own word is not enough (it may not have noticed that it was deposed): the
  // leader is the one whose claim the live lease confirms.
  const leader =
    leaders.find((s) => leaderLease !== null && s.id === leaderLease.id && s.term === leaderLease.term) ??
    null;
  const leaderView = new Map((leader?.members ?? []).map((m) => [m.id, m]));
  const now = Date.now();

  const coordinators: CoordinatorReport[] = [];
  for (const id of [...new Set([...records.map((r) => r.id), ...voting])].sort()) {
    const rec = records.find((r) => r.id === id);
    const st = statuses.get(id) ?? null;
    const age = leaderView.get(id)?.heartbeatAgeMs ?? (rec ? Math.max(0, now - rec.heartbeatAt) : null);
    let healthState: CoordinatorReport['health'];
    if (!rec) healthState = 'unregistered';
    else if (!st) healthState = 'down';
    else healthState = age !== null && age > UNHEALTHY_AFTER_MS ? 'unhealthy' : 'healthy';
    coordinators.push({
      id,
      adminUrl: rec?.adminUrl ?? null,
      registered: rec !== undefined,
      voting: voting.includes(id),
      heartbeatAgeMs: age,
      health: healthState,
      answers: st !== null,
      pid: st?.pid ?? rec?.pid ?? null,
      role: st?.role ?? null,
      term: st?.term ?? null,
      leader: st?.leader ?? null,
      redisReachable: st?.redisReachable ?? null,
      clock: st?.clock ?? null,
    });
  }

  // ---- what is wrong ----
  if (redisNodes && records.length === 0 && !problems.some((p) => p.includes('coordinator records'))) {
    problems.push(
      'no coordinator is registered in {qv}:members: none is running (or they use another Redis)',
    );
  }
  for (const c of coordinators) {
    if (c.health === 'unregistered') {
      problems.push(`${c.id}: voting member but not registered: it is not running (or cannot reach Redis)`);
    } else if (c.health === 'down') {
      problems.push(
        `${c.id}: registered (last heartbeat ${fmtMs(c.heartbeatAgeMs)} ago) but ${c.adminUrl}/status does not answer: ` +
          'the process is down or paused',
      );
    } else if (c.health === 'unhealthy') {
      problems.push(
        `${c.id}: last heartbeat ${fmtMs(c.heartbeatAgeMs)} ago (unhealthy after ${UNHEALTHY_AFTER_MS} ms)`,
      );
    }
    if (c.answers && c.redisReachable === false) problems.push(`${c.id}: cannot reach Redis`);
    if (c.answers && c.clock && !c.clock.inSync) {
      problems.push(
        c.clock.samples === 0
          ? `${c.id}: clock not synchronized yet (no sample from the leader)`
          : `${c.id}: clock OUT OF SYNC (offset ${fmtMs(c.clock.offsetMs)}): it abstains from validating votes`,
      );
    }
    if (c.registered && !c.voting && voting.length > 0) {
      problems.push(`${c.id}: registered but not in the voting membership (${voting.join(',')})`);
    }
  }
  if (answering.length > 0) {
    if (leaders.length === 0) {
      problems.push('no leader: no coordinator reports role=leader (an election is running or failing)');
    } else if (leaders.length > 1) {
      problems.push(
        `${leaders.length} leaders: ${leaders.map((l) => `${l.id} (term ${l.term})`).join(', ')}; ` +
          'the one with the older term will be fenced',
      );
    }
    for (const l of leaders) {
      if (l !== leader) {
        problems.push(
          `${l.id} reports role=leader (term ${l.term}) but holds no valid leader lease in Redis: it does not act as leader`,
        );
      }
    }
    if (leaderLease !== null && !leader) {
      problems.push(
        `the leader lease names ${leaderLease.id} (term ${leaderLease.term}), but it does not answer as leader of that term`,
      );
    }
    if (leader) {
      const astray = answering.filter(
        (s) => s.id !== leader.id && (s.leader !== leader.id || s.term !== leader.term),
      );
      for (const s of astray) {
        problems.push(
          `${s.id} does not follow the leader ${leader.id} (term ${leader.term}): ` +
            `it is ${s.role} in term ${s.term}, leader ${s.leader ?? 'unknown'}`,
        );
      }
      if (leaderRecord.id !== null && (leaderRecord.id !== leader.id || leaderRecord.term !== leader.term)) {
        problems.push(
          `the leader record in Redis names ${leaderRecord.id} (term ${leaderRecord.term}), not ${leader.id} (term ${leader.term})`,
        );
      }
    }
    if (voting.length > 0) {
      const up = coordinators.filter((c) => c.voting && c.health === 'healthy').length;
      const majority = Math.floor(voting.length / 2) + 1;
      if (up < majority) {
        problems.push(
          `only ${up} of ${voting.length} voting coordinators are healthy; a leader needs ${majority}: no majority`,
        );
      }
    }
  }

  return {
    at: new Date(now).toISOString(),
    healthy: problems.length === 0,
    problems,
    leader: leader?.id ?? null,
    term: leader?.term ?? null,
    leaderLease,
    leaderRecord,
    votingMembers: voting,
    coordinators,
    redis: {
      seeds: seedsText,
      reachable: redisNodes !== null,
      nodes: (redisNodes ?? []).map((n) => ({ address: `${n.host}:${n.port}`, flags: n.flags })),
      health,
    },
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

function render(r: StatusReport): string {
  const out: string[] = [];
  out.push(`quorumvote cluster status at ${r.at}`);
  out.push('');
  const up = r.coordinators.filter((c) => c.health === 'healthy').length;
  if (!r.redis.reachable && r.coordinators.length === 0) {
    out.push('Coordinators: unknown (they are listed in Redis, which does not answer)');
  } else {
    out.push(
      `Coordinators: ${up}/${r.coordinators.length} healthy; ` +
        (r.leader ? `leader ${r.leader} (term ${r.term})` : 'NO LEADER') +
        (r.votingMembers.length ? `; voting members ${r.votingMembers.join(', ')}` : ''),
    );
  }
  if (r.coordinators.length > 0) {
    const rows = [
      [
        '  NODE',
        'STATE',
        'ROLE',
        'TERM',
        'FOLLOWS',
        'HEARTBEAT',
        'CLOCK OFFSET',
        'RTT',
        'SYNC',
        'REDIS',
        'PID',
        'ADMIN',
      ],
    ];
    for (const c of r.coordinators) {
      const clock = c.clock;
      rows.push([
        `  ${c.id}`,
        c.health,
        c.role ?? '-',
        c.term === null ? '-' : String(c.term),
        c.role === 'leader' ? '(self)' : (c.leader ?? '-'),
        c.heartbeatAgeMs === null ? '-' : `${fmtMs(c.heartbeatAgeMs)} ago`,
        !clock
          ? '-'
          : c.role === 'leader'
            ? 'reference'
            : clock.offsetMs === null
              ? 'no sample'
              : fmtMs(clock.offsetMs),
        !clock || c.role === 'leader' ? '-' : fmtMs(clock.rttMs),
        !clock ? '-' : clock.inSync ? 'in sync' : clock.samples === 0 ? 'unsynced' : 'OUT OF SYNC',
        c.redisReachable === null ? '-' : c.redisReachable ? 'ok' : 'UNREACHABLE',
        c.pid === null ? '-' : String(c.pid),
        c.adminUrl ?? '-',
      ]);
    }
    out.push(...table(rows));
  }
  if (r.leaderRecord.id !== null) {
    out.push(
      `  leader record in Redis: ${r.leaderRecord.id} (term ${r.leaderRecord.term}), fence ${r.leaderRecord.fence ?? '-'}`,
    );
  }
  out.push('');
  const h = r.redis.health;
  if (!r.redis.reachable) {
    out.push(`Redis Cluster: UNREACHABLE (seeds ${r.redis.seeds})`);
  } else if (h) {
    out.push(
      `Redis Cluster: state ${h.state}, ${h.nodes.filter((n) => n.up).length}/${h.nodes.length} nodes up, ` +
        `${h.masters} masters / ${h.replicas} replicas, ${h.slotsCovered}/16384 slots covered`,
    );
    const rows = [['  NODE', 'UP', 'ROLE', 'CLUSTER STATE', 'REPLICAS ONLINE']];
    for (const n of h.nodes) {
      rows.push([
        `  127.0.0.1:${n.port}`,
        n.up ? 'up' : 'DOWN',
        n.role ?? '-',
        n.state ?? '-',
        n.role === 'master' ? String(n.replicasOnline ?? 0) : '-',
      ]);
    }
    out.push(...table(rows));
  } else {
    out.push(`Redis Cluster: ${r.redis.nodes.length} nodes (remote; only CLUSTER NODES flags checked)`);
    for (const n of r.redis.nodes) out.push(`  ${n.address}  ${n.flags}`);
  }
  out.push('');
  if (r.healthy) {
    out.push(
      `HEALTHY: leader ${r.leader} (term ${r.term}), ${up}/${r.coordinators.length} coordinators healthy and in sync, ` +
        'Redis Cluster ok.',
    );
  } else {
    out.push(`UNHEALTHY: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`);
    for (const p of r.problems) out.push(`  - ${p}`);
  }
  return out.join('\n');
}

runCli({
  parse: parseArgs,
  usage,
  run: async (o) => {
    const report = await collect(o);
    console.log(o.json ? JSON.stringify(report, null, 2) : render(report));
    return report.healthy ? 0 : 1;
  },
});
