/**
 * What `npm start` checks before it starts anything: that this Node satisfies the
 * `engines` range of package.json, and that every port the stack will listen on is
 * free. A taken port otherwise shows up late and in disguise (a child that dies at
 * start, or worse, another program answering in its place); here it is named with the
 * setting that moves it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../shared/settings/schema';
import { portFree } from './ports';
import { LOCAL_TOPOLOGY } from './redis-cluster';

/** One port the stack needs, and the setting that moves it. */
export interface PortClaim {
  port: number;
  setting: string;
  what: string;
}

/** Redis Cluster's bus port of a node is its port + 10000. */
const REDIS_BUS_OFFSET = 10000;

/** Every port of `npm start`'s stack (the web port only when WEB_PORT is set: else any free port will do). */
export function stackPortClaims(s: Settings, webPortExplicit: boolean, coordinators = 3): PortClaim[] {
  const claims: PortClaim[] = [
    { port: s.HTTP_PORT, setting: 'HTTP_PORT', what: 'the HTTP API' },
    { port: s.WS_PORT, setting: 'WS_PORT', what: 'the WebSocket API' },
    { port: s.LAMBDA_PORT, setting: 'LAMBDA_PORT', what: 'the Lambda invoke endpoint' },
  ];
  for (let i = 0; i < coordinators; i++) {
    claims.push({
      port: s.COORDINATOR_BASE_PORT + i,
      setting: 'COORDINATOR_BASE_PORT',
      what: `coordinator c${i + 1}'s admin port`,
    });
  }
  if (webPortExplicit) claims.push({ port: s.WEB_PORT, setting: 'WEB_PORT', what: 'the web app' });
  return claims;
}

/** The Redis nodes' ports and bus ports (REDIS_BASE_PORT). */
export function redisPortClaims(s: Settings): { nodes: PortClaim[]; buses: PortClaim[] } {
  const nodes: PortClaim[] = [];
  const buses: PortClaim[] = [];
  for (let i = 0; i < LOCAL_TOPOLOGY.nodes; i++) {
    const port = s.REDIS_BASE_PORT + i;
    nodes.push({ port, setting: 'REDIS_BASE_PORT', what: `Redis node ${i + 1}` });
    buses.push({
      port: port + REDIS_BUS_OFFSET,
      setting: 'REDIS_BASE_PORT',
      what: `Redis node ${i + 1}'s cluster bus`,
    });
  }
  return { nodes, buses };
}

/** One line per taken port: which, what needed it, and the setting that moves it. */
export function describeTaken(taken: PortClaim[]): string {
  return taken
    .map((c) => `port ${c.port} (${c.what}) is already in use: stop what listens there or set ${c.setting}`)
    .join('\n');
}

async function takenOf(claims: PortClaim[]): Promise<PortClaim[]> {
  const taken: PortClaim[] = [];
  for (const c of claims) if (!(await portFree(c.port))) taken.push(c);
  return taken;
}

/**
 * The claims whose port is taken. Redis is the exception that may be running already:
 * when every node port is taken, the launcher checks it is a healthy cluster to reuse
 * (`npm run redis -- start`), so only a partly taken set (or a taken bus port of a set
 * we would start) is reported.
 */
export async function takenPorts(s: Settings, webPortExplicit: boolean): Promise<PortClaim[]> {
  const taken = await takenOf(stackPortClaims(s, webPortExplicit));
  const redis = redisPortClaims(s);
  const redisTaken = await takenOf(redis.nodes);
  if (redisTaken.length === 0) taken.push(...(await takenOf(redis.buses)));
  else if (redisTaken.length < redis.nodes.length) taken.push(...redisTaken);
  return taken;
}

/** `major.minor.patch` of a version string such as `v20.19.1` or `20.19`. */
function parts(v: string): [number, number, number] {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
  if (!m) throw new Error(`Not a version: "${v}"`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function compare(a: [number, number, number], b: [number, number, number]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * Null when `version` satisfies `range` (the `>=X.Y.Z` form package.json uses; several
 * space-separated `>=`/`<` bounds are also understood), else why not.
 */
export function nodeVersionProblem(range: string, version: string): string | null {
  for (const bound of range.trim().split(/\s+/)) {
    const m = /^(>=|>|<=|<|=)?(.+)$/.exec(bound);
    if (!m) continue;
    const c = compare(parts(version), parts(m[2]!));
    const ok =
      m[1] === '>=' ? c >= 0 : m[1] === '>' ? c > 0 : m[1] === '<=' ? c <= 0 : m[1] === '<' ? c < 0 : c === 0;
    if (!ok) return `Node ${version} does not satisfy "node": "${range}" of package.json (engines)`;
  }
  return null;
}

/** The `engines.node` range of the package.json in `root`. */
export function enginesNode(root: string): string | undefined {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  return pkg.engines?.node;
}
