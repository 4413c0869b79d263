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
  /** The address the admin/peer server binds (ADMIN_HOST; 0.0.0.0 in a container). */
  adminHost: string;
  /**
   * The URL this node registers for peers and operators (ADVERTISE_URL). Binding 0.0.0.0
   * says nothing about how others reach a host, so across machines it must be set.
   */
  advertiseUrl: string;
  /**
   * Fixed peer addresses (PEER_URLS) that win over the addresses peers registered in
   * Redis: for networks where the registered one is not reachable from here.
   */
  peerUrls: Record<string, string>;
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
  const adminPort = s.ADMIN_PORT ?? 4000 + Math.max(1, base.coordinators.indexOf(nodeId) + 1);
  const cfg: CoordinatorConfig = {
    nodeId,
    adminPort,
    adminHost: s.ADMIN_HOST,
    advertiseUrl: s.ADVERTISE_URL
      ? peerUrl('ADVERTISE_URL', s.ADVERTISE_URL)
      : defaultAdvertiseUrl(s.ADMIN_HOST, adminPort),
    peerUrls: parsePeerUrls(s.PEER_URLS ?? '', base.coordinators),
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

/** Where peers reach a node bound to `host` when ADVERTISE_URL is not set. */
function defaultAdvertiseUrl(host: string, port: number): string {
  // A wildcard bind is reachable on loopback from this machine, which is all a default can know.
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** An http(s) base URL without path, query or trailing slash, or a named error. */
function peerUrl(setting: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${setting}: "${text}" is not a URL (e.g. http://10.0.0.5:4001)`);
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.pathname !== '/' ||
    url.search ||
    url.hash
  ) {
    throw new Error(
      `${setting}: "${text}" must be an http(s) base URL with no path (e.g. http://10.0.0.5:4001)`,
    );
  }
  return url.origin;
}

/** PEER_URLS `c1=http://...,c2=...`: each id a member, each URL a base URL. */
function parsePeerUrls(text: string, members: string[]): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.indexOf('=');
    const id = pair.slice(0, at);
    if (at <= 0 || !members.includes(id)) {
      throw new Error(
        `PEER_URLS: "${pair}" must be <id>=<url> with an id from COORDINATORS (${members.join(',')})`,
      );
    }
    urls[id] = peerUrl('PEER_URLS', pair.slice(at + 1));
  }
  return urls;
}
