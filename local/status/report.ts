import type { CoordinatorStatus } from '../../shared/membership/coordinator-status';
import type { MemberRecord } from '../../shared/membership/member';
import type { ClusterHealth } from '../redis-cluster';

/**
 * The two data shapes of `npm run status`: the facts it reads (from Redis and from each
 * coordinator's /status) and the report it derives from them. Reading, diagnosing and
 * rendering are separate steps, so the diagnosis is a pure function tested on its own.
 */

/** Everything read, as read: no judgement yet. */
export interface StatusFacts {
  /** When the facts were read (ms, this machine's clock). */
  now: number;
  /** The Redis seeds, as `host:port,...`. */
  seeds: string;
  /** Every node CLUSTER NODES of the first answering seed announced; null when none answered. */
  redisNodes: { host: string; port: number; flags: string }[] | null;
  /** The full health check, for a cluster on this machine (else null: only flags are known). */
  redisHealth: ClusterHealth | null;
  /** Valid `{qv}:members` records. */
  records: MemberRecord[];
  /** `{qv}:members` values that are not valid records. */
  invalidRecords: number;
  /** Why the coordinator records could not be read, or null. */
  recordsError: string | null;
  leaderRecord: StatusReport['leaderRecord'];
  leaderLease: StatusReport['leaderLease'];
  /** Each registered coordinator's /status (null when it does not answer). */
  statuses: Map<string, CoordinatorStatus | null>;
}

export interface CoordinatorReport {
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
  clock: CoordinatorStatus['clock'] | null;
}

export interface StatusReport {
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

/** A duration for people: "850 ms", "1.6 s", "12 s", '-' for none. */
export const fmtMs = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (Math.abs(ms) >= 10000) return `${(ms / 1000).toFixed(0)} s`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
};
