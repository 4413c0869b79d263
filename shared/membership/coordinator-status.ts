import type { Role } from '../consensus/raft';
import type { MemberHealth } from './member';

/**
 * What a coordinator's `GET /status` (admin port) answers. One type for the coordinator
 * that builds it and for everything that reads it (`npm run status`, the tests, the
 * benches), so a renamed or retyped field fails to compile instead of reading as
 * `undefined`.
 */
export interface CoordinatorStatus {
  id: string;
  version: string;
  pid: number;
  role: Role;
  term: number;
  leader: string | null;
  /** Age of the last sign of a live leader (see `RaftStatus`), or null. */
  lastLeaderContactMs: number | null;
  electionsStarted: number;
  /** Whether this node's last heartbeat reached Redis. */
  redisReachable: boolean;
  uptimeS: number;
  /** The configured voting membership (`COORDINATORS`). */
  votingMembers: string[];
  /** Every registered member as this node sees it. */
  members: StatusMember[];
  clock: StatusClock;
  /** The vote pipeline (absent before the node has started it). */
  pipeline?: PipelineStatus;
  /** The WebSocket fan-out (absent when it is disabled). */
  fanout?: FanoutStatus;
}

export interface StatusMember {
  id: string;
  adminUrl: string;
  health: MemberHealth;
  heartbeatAgeMs: number;
  lastHeartbeatAt: string;
  voting: boolean;
}

export interface StatusClock {
  inSync: boolean;
  offsetMs: number | null;
  rttMs: number | null;
  correctionMs: number;
  samples: number;
  lastAction: string;
  /** Test mode only: the injected skew and drift (0 otherwise). */
  artificialSkewMs: number;
  artificialDriftPpm: number;
  /** The synchronized clock's reading, ISO-8601. */
  now: string;
}

export interface PipelineStatus {
  activeElections: string[];
  partitionsOwned: number[];
  /** Votes this node judged (approved or objected) and objected to. */
  judged: number;
  objected: number;
  /** Votes this node finalized as partition owner: counted and rejected. */
  finalized: number;
  rejected: number;
}

export interface FanoutStatus {
  leading: boolean;
  elections: number;
  clusterSubscribed: boolean;
  sent: {
    tallies: number;
    /** Tally reads during a delivery under way: they refreshed the newest tally only. */
    latestOnly: number;
    votes: number;
    lifecycle: number;
    cluster: number;
    replays: number;
    takeovers: number;
  };
  invocations: number;
  events: number;
  /** Tallies replaced by a newer one of the same election before they went out. */
  superseded: number;
  invokeFailures: number;
  lastInvokeError: string | null;
}
