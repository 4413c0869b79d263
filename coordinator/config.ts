import { type RedisSeed, loadConfig, parseSeeds } from '../shared/config';
import { loadSettings } from '../shared/settings/load';
import { loadClusterSecret } from './peer-secret';

/**
 * A coordinator's configuration, from the environment. The voting membership
 * (`COORDINATORS`) is explicit: a majority is counted over it, never over "whoever is
 * alive", so a partitioned minority cannot elect itself.
 */
export interface CoordinatorConfig {
  nodeId: string;
  adminPort: number;
  redisSeeds: RedisSeed[];
  /** ioredis natMap: announced address → reachable address (tests put proxies here). */
  natMap?: Record<string, { host: string; port: number }>;
  members: string[];
  production: boolean;
  /**
   * QV_TEST_MODE=1: operator-only test routes (`POST /admin/clock`) and the artificial
   * clock knobs (CLOCK_SKEW_MS, CLOCK_DRIFT_PPM) are available. Off otherwise.
   */
  testMode: boolean;
  /** Key of the HMAC that authenticates every peer message (peer-secret.ts). */
  clusterSecret: Buffer;
  /** Peer messages signed further than this from the receiver's clock are refused. */
  peerWindowMs: number;
  /** How many terms ahead one message may move this node without store backing. */
  maxTermJump: number;
  electionTimeoutMinMs: number;
  electionTimeoutMaxMs: number;
  heartbeatIntervalMs: number;
  leaseMs: number;
  tickMs: number;
  storeTimeoutMs: number;
  clockSyncMs: number;
  clockMaxOffsetMs: number;
  clockSkewMs: number;
  clockDriftPpm: number;
  /**
   * QV_TEST_MODE=1 only (TEST_FINALIZE_WRITE_DELAY_MS): the finalizer waits this long
   * between deciding a batch and sending its fenced write, widening the window in which
   * a pause (SIGSTOP) makes that write late. 0 otherwise.
   */
  finalizeWriteDelayMs: number;
  partitions: number;
}

export function loadCoordinatorConfig(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const base = loadConfig(env);
  const s = loadSettings(env);
  const nodeId = s.NODE_ID;
  if (!nodeId) throw new Error('NODE_ID is required (e.g. NODE_ID=c1)');
  if (!base.coordinators.includes(nodeId)) {
    throw new Error(`NODE_ID ${nodeId} is not in COORDINATORS (${base.coordinators.join(',')})`);
  }
  const production = base.production;
  const testMode = base.testMode;
  for (const knob of ['CLOCK_SKEW_MS', 'CLOCK_DRIFT_PPM', 'TEST_FINALIZE_WRITE_DELAY_MS'] as const) {
    if (!testMode && s[knob] !== 0) {
      throw new Error(`${knob} injects an artificial fault and is only allowed with QV_TEST_MODE=1`);
    }
  }
  const clusterSecret = loadClusterSecret(env);
  const natMapText = s.REDIS_NAT_MAP;
  let natMap: CoordinatorConfig['natMap'];
  if (natMapText) {
    natMap = {};
    for (const pair of natMapText.split(',').filter(Boolean)) {
      const [from, to] = pair.split('=');
      const seed = parseSeeds(to ?? '')[0];
      if (!from || !seed) throw new Error(`Bad REDIS_NAT_MAP entry "${pair}"`);
      natMap[from] = seed;
    }
  }
  const cfg: CoordinatorConfig = {
    nodeId,
    adminPort: s.ADMIN_PORT ?? 4000 + Math.max(1, base.coordinators.indexOf(nodeId) + 1),
    redisSeeds: base.redisSeeds,
    members: base.coordinators,
    production,
    testMode,
    clusterSecret,
    peerWindowMs: s.PEER_AUTH_WINDOW_MS,
    maxTermJump: s.MAX_TERM_JUMP,
    electionTimeoutMinMs: s.ELECTION_TIMEOUT_MIN_MS,
    electionTimeoutMaxMs: s.ELECTION_TIMEOUT_MAX_MS,
    heartbeatIntervalMs: s.HEARTBEAT_INTERVAL_MS,
    leaseMs: s.LEADER_LEASE_MS,
    tickMs: s.TICK_MS,
    storeTimeoutMs: s.STORE_TIMEOUT_MS,
    clockSyncMs: s.CLOCK_SYNC_MS,
    clockMaxOffsetMs: s.CLOCK_MAX_OFFSET_MS,
    clockSkewMs: testMode ? s.CLOCK_SKEW_MS : 0,
    clockDriftPpm: testMode ? s.CLOCK_DRIFT_PPM : 0,
    finalizeWriteDelayMs: testMode ? s.TEST_FINALIZE_WRITE_DELAY_MS : 0,
    partitions: base.partitions,
  };
  if (natMap) cfg.natMap = natMap;
  return cfg;
}
