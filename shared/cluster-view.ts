import type { Cluster } from 'ioredis';
import type { Clock } from './clock';
import { membershipTiming, parseMemberRecord } from './membership/member';
import { parseClusterNodeLines } from './redis/cluster-nodes';
import { clusterKeys } from './redis/keys';

/**
 * The cluster at a glance, from Redis alone (no coordinator needs to be reachable):
 * coordinators from their heartbeat records, the leader from its live lease, and the
 * Redis Cluster from CLUSTER INFO / CLUSTER NODES. Serves GET /cluster.
 */
export interface ClusterView {
  /**
   * Who acts as leader now: the holder of the live leader lease, which the leader renews
   * with every fenced write and which Redis expires (its own clock) one lease length
   * after the last renewal. `null` when nobody holds a valid lease (an election is
   * running, or the leader died or was cut off) — never the last record of a dead leader.
   */
  leader: string | null;
  /** The lease holder's term; without a lease, the newest term a leader has written (the fence). */
  term: number;
  nodes: {
    id: string;
    role: string;
    healthy: boolean;
    health: string;
    term: number | null;
    clockOffsetMs: number | null;
    inSync: boolean | null;
    lastHeartbeatAt: string;
    heartbeatAgeMs: number;
    adminUrl: string;
    partitionsOwned: number[];
  }[];
  redis: {
    state: string;
    masters: number;
    replicas: number;
    slotsCovered: number;
    nodes: { address: string; role: 'master' | 'replica'; failing: boolean; slots: number }[];
  };
}

/** The Redis nodes of GET /cluster, from a CLUSTER NODES reply, by address. */
export function parseClusterNodes(text: string): ClusterView['redis']['nodes'] {
  return parseClusterNodeLines(text)
    .map(({ address, role, failing, slots }) => ({ address, role, failing, slots }))
    .sort((a, b) => a.address.localeCompare(b.address));
}

export async function readClusterView(
  redis: Cluster,
  clock: Clock,
  healthyAfterMs: number = membershipTiming.unhealthyAfterMs,
  keys: Pick<typeof clusterKeys, 'members' | 'leaderLease' | 'leaderFence'> = clusterKeys,
): Promise<ClusterView> {
  const [members, lease, fence, info, nodesText] = await Promise.all([
    redis.hgetall(keys.members),
    redis.hgetall(keys.leaderLease),
    redis.get(keys.leaderFence),
    redis.cluster('INFO') as Promise<string>,
    redis.cluster('NODES') as Promise<string>,
  ]);
  const now = clock.now();
  const leaderId = lease['id'] ?? null;
  const nodes = Object.values(members)
    .map(parseMemberRecord)
    .filter((m) => m !== null)
    .map((m) => {
      const age = Math.max(0, now - m.heartbeatAt);
      return {
        id: m.id,
        // A silent node's last self-report (say "leader") is history, not its role now.
        role: age <= healthyAfterMs ? (m.state?.role ?? 'unknown') : 'unknown',
        healthy: age <= healthyAfterMs,
        health: age <= healthyAfterMs ? 'healthy' : 'unhealthy',
        term: m.state?.term ?? null,
        clockOffsetMs: m.state?.clockOffsetMs ?? null,
        inSync: m.state?.inSync ?? null,
        lastHeartbeatAt: new Date(m.heartbeatAt).toISOString(),
        heartbeatAgeMs: Math.round(age),
        adminUrl: m.adminUrl,
        partitionsOwned: m.state?.partitionsOwned ?? [],
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
  const redisNodes = parseClusterNodes(nodesText);
  const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  return {
    leader: leaderId,
    term: Number((leaderId !== null ? lease['term'] : fence) ?? 0),
    nodes,
    redis: {
      state,
      masters: redisNodes.filter((n) => n.role === 'master' && !n.failing).length,
      replicas: redisNodes.filter((n) => n.role === 'replica' && !n.failing).length,
      slotsCovered: redisNodes
        .filter((n) => n.role === 'master' && !n.failing)
        .reduce((a, n) => a + n.slots, 0),
      nodes: redisNodes,
    },
  };
}
