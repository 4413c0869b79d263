import Redis from 'ioredis';
import type { RedisSeed } from '../../shared/config';
import { withDeadline } from '../../shared/deadline';
import type { CoordinatorStatus } from '../../shared/membership/coordinator-status';
import { type MemberRecord, parseMemberRecord } from '../../shared/membership/member';
import { type RedisAccess, redisAccessFromSettings, redisAccessOptions } from '../../shared/redis/access';
import { createRedisCluster } from '../../shared/redis/client';
import { parseClusterNodeLines, reachableNodes } from '../../shared/redis/cluster-nodes';
import { clusterKeys } from '../../shared/redis/keys';
import { type ClusterHealth, clusterHealth } from '../redis-cluster';
import type { StatusFacts } from './report';

/** The I/O step of `npm run status`: read every fact, judge nothing. */

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(p, ms, () => new Error(`${what}: no answer within ${ms} ms`));
}

/** CLUSTER NODES from the first seed that answers: every node the cluster knows, with its flags. */
async function discoverRedisNodes(
  seeds: RedisSeed[],
  timeoutMs: number,
  access: RedisAccess,
): Promise<{ host: string; port: number; flags: string }[] | null> {
  for (const seed of seeds) {
    const r = new Redis({
      ...redisAccessOptions(access),
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
      const out = reachableNodes(parseClusterNodeLines(text), seed.host).map((n) => ({
        host: n.host,
        port: n.port,
        flags: n.flags.join(','),
      }));
      if (out.length > 0) return out;
    } catch {
      // try the next seed
    } finally {
      r.disconnect();
    }
  }
  return null;
}

async function fetchStatus(adminUrl: string, timeoutMs: number): Promise<CoordinatorStatus | null> {
  try {
    const res = await fetch(`${adminUrl}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    return (await res.json()) as CoordinatorStatus;
  } catch {
    return null;
  }
}

/** Reads the Redis Cluster, the coordinator records and leader keys, and every coordinator's /status. */
export async function readStatusFacts(seeds: RedisSeed[], timeoutMs: number): Promise<StatusFacts> {
  const seedsText = seeds.map((s) => `${s.host}:${s.port}`).join(',');
  // The same TLS and AUTH settings as every other client (REDIS_TLS*, REDIS_USERNAME, ...).
  const access = redisAccessFromSettings();
  const redisNodes = await discoverRedisNodes(seeds, timeoutMs, access);
  let redisHealth: ClusterHealth | null = null;
  if (redisNodes?.every((n) => n.host === '127.0.0.1' || n.host === 'localhost')) {
    redisHealth = await clusterHealth(
      redisNodes.map((n) => n.port),
      access,
    );
  }
  const facts: StatusFacts = {
    now: 0,
    seeds: seedsText,
    redisNodes,
    redisHealth,
    records: [],
    invalidRecords: 0,
    recordsError: null,
    leaderRecord: { id: null, term: null, fence: null },
    leaderLease: null,
    statuses: new Map(),
  };
  if (redisNodes) {
    const redis = createRedisCluster(seeds, {
      clusterRetryStrategy: () => null,
      redisOptions: { connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 1 },
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
        timeoutMs * 3,
        'Redis',
      );
      const records: MemberRecord[] = [];
      for (const raw of Object.values(members)) {
        const rec = parseMemberRecord(raw);
        if (rec) records.push(rec);
        else facts.invalidRecords++;
      }
      facts.records = records.sort((a, b) => a.id.localeCompare(b.id));
      facts.leaderRecord = {
        id: leader['id'] ?? null,
        term: leader['term'] !== undefined ? Number(leader['term']) : null,
        fence: fence !== null ? Number(fence) : null,
      };
      if (lease['id'] !== undefined && lease['term'] !== undefined) {
        facts.leaderLease = { id: lease['id'], term: Number(lease['term']) };
      }
    } catch (err) {
      facts.recordsError = (err as Error).message;
    } finally {
      redis.disconnect();
    }
  }
  await Promise.all(
    facts.records.map(async (r) => facts.statuses.set(r.id, await fetchStatus(r.adminUrl, timeoutMs))),
  );
  facts.now = Date.now();
  return facts;
}
