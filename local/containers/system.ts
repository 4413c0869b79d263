import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateClusterSecret } from '../../coordinator/peer-secret';
import { ensureKeyPair, PUBLIC_JWKS_FILE, SIGNING_KEY_FILE } from '../../shared/auth/keys';
import { repoRoot } from '../stack';
import { type Engine, must, run } from './engine';
import { APP_IMAGES } from './images';

/**
 * Brings the system of compose.yaml up with podman-compose, and takes everything it
 * made down again: containers, the network, images, and the firewall tables and
 * forwarding switch netavark leaves behind on the host.
 */

/** What `up` made and `down` must undo, kept in the state folder between commands. */
export interface SystemState {
  project: string;
  subnet: string;
  bridge: string;
  /** The host's nft tables before the first network: those netavark adds are removed. */
  nftTablesBefore: string[];
  ipForwardBefore: string;
  keyDir: string;
}

type Log = (line: string) => void;

export const REDIS_SERVICES = ['redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6'];
export const COORDINATOR_SERVICES = ['coordinator-1', 'coordinator-2', 'coordinator-3'];
/** Coordinator id of each coordinator service (compose.yaml NODE_ID). */
export const COORDINATOR_IDS: Record<string, string> = {
  c1: 'coordinator-1',
  c2: 'coordinator-2',
  c3: 'coordinator-3',
};

const stateFile = (engine: Engine): string => join(engine.dir, 'state.json');

export function readState(engine: Engine): SystemState | undefined {
  const f = stateFile(engine);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as SystemState) : undefined;
}

/** podman-compose's name of a service's (first) container. */
export function containerName(engine: Engine, service: string): string {
  return `${engine.project}_${service}_1`;
}

function compose(engine: Engine, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 5 * 60_000) {
  return run(
    engine,
    'podman-compose',
    ['-p', engine.project, '-f', join(repoRoot, 'compose.yaml'), ...args],
    {
      cwd: repoRoot,
      env,
      timeoutMs,
    },
  );
}

async function nftTables(engine: Engine): Promise<string[]> {
  const r = await run(engine, 'nft', ['list', 'tables']);
  return r.code === 0
    ? r.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
    : [];
}

/** A private /24 no route and no other network of the host uses yet. */
async function freeSubnet(engine: Engine): Promise<string> {
  const routes = (await run(engine, 'ip', ['-4', 'route'])).stdout;
  for (let i = 0; i < 50; i++) {
    const n = 100 + Math.floor(Math.random() * 150);
    const prefix = `10.89.${n}.`;
    if (!routes.includes(prefix)) return `${prefix}0/24`;
  }
  throw new Error('no free 10.89.x.0/24 subnet for the container network');
}

/** The address of a container on the project network. */
export async function containerAddress(engine: Engine, service: string): Promise<string> {
  const out = await must(engine, 'podman', [
    'inspect',
    '-f',
    '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
    containerName(engine, service),
  ]);
  const ip = out.trim().split(/\s+/)[0];
  if (!ip) throw new Error(`${service} has no address`);
  return ip;
}

/** The last lines a container printed (for error messages). */
export async function containerLogs(engine: Engine, service: string, lines = 30): Promise<string> {
  const r = await run(engine, 'podman', ['logs', '--tail', String(lines), containerName(engine, service)]);
  return `${r.stdout}${r.stderr}`.trim();
}

/** The secrets compose.yaml takes from its environment, made fresh for this system. */
function secretsEnv(keyDir: string): NodeJS.ProcessEnv {
  const key = ensureKeyPair({ keyDir });
  void key;
  return {
    QV_CLUSTER_SECRET: generateClusterSecret(),
    QV_INVOKE_SECRET: randomBytes(32).toString('base64url'),
    QV_JWT_PRIVATE_JWK: JSON.stringify(JSON.parse(readFileSync(join(keyDir, SIGNING_KEY_FILE), 'utf8'))),
    QV_JWT_PUBLIC_JWKS: JSON.stringify(JSON.parse(readFileSync(join(keyDir, PUBLIC_JWKS_FILE), 'utf8'))),
  };
}

/**
 * Starts the system: the network, Redis (and waits for the cluster to be formed), then
 * coordinators, functions and the web app. Images must be built.
 */
export async function up(engine: Engine, log: Log): Promise<SystemState> {
  if (readState(engine)) throw new Error(`a system is already up in ${engine.dir}: run down first`);
  const keyDir = join(engine.dir, 'keys');
  const state: SystemState = {
    project: engine.project,
    subnet: await freeSubnet(engine),
    bridge: `qv${randomBytes(4).toString('hex')}`,
    nftTablesBefore: await nftTables(engine),
    ipForwardBefore: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    keyDir,
  };
  writeFileSync(stateFile(engine), JSON.stringify(state, null, 2));
  const env = secretsEnv(keyDir);
  // The network podman-compose would make, with a subnet and bridge name of our own so
  // two systems (a test beside `up`) never share a bridge.
  log(`network ${engine.project}_default on ${state.subnet} (bridge ${state.bridge})`);
  const network = `${engine.project}_default`;
  await must(engine, 'podman', [
    'network',
    'create',
    '--subnet',
    state.subnet,
    '--label',
    `io.podman.compose.project=${engine.project}`,
    network,
  ]);
  // podman 4.3 has no --interface-name: the bridge is named in the definition it wrote
  // (read afresh by every podman command), before any container uses it.
  const def = join(engine.dir, 'networks', `${network}.json`);
  const json = JSON.parse(readFileSync(def, 'utf8')) as Record<string, unknown>;
  writeFileSync(def, JSON.stringify({ ...json, network_interface: state.bridge }, null, 2));
  log('starting 6 Redis nodes and forming the cluster…');
  const redis = await compose(engine, ['up', '-d', '--no-build', ...REDIS_SERVICES, 'redis-init'], env);
  if (redis.code !== 0) throw new Error(`podman-compose up (redis) failed:\n${redis.stderr.slice(-2000)}`);
  const waited = await run(engine, 'podman', ['wait', containerName(engine, 'redis-init')], {
    timeoutMs: 120_000,
  });
  if (waited.code !== 0 || waited.stdout.trim() !== '0') {
    throw new Error(
      `the Redis cluster was not formed (redis-init: ${waited.stdout.trim() || waited.code}):\n${await containerLogs(engine, 'redis-init')}`,
    );
  }
  log('starting 3 coordinators, the functions (serverless-offline) and the web app…');
  const rest = await compose(
    engine,
    ['up', '-d', '--no-build', '--no-deps', ...COORDINATOR_SERVICES, 'functions', 'web'],
    env,
  );
  if (rest.code !== 0) throw new Error(`podman-compose up failed:\n${rest.stderr.slice(-2000)}`);
  return state;
}

/**
 * Removes everything `up` and the image builds made, even after a failure half-way:
 * containers, the network, every image, the host's nft tables netavark added (tables
 * that existed before stay), IP forwarding as it was, and the state folder.
 */
export async function down(engine: Engine, log: Log): Promise<void> {
  const state = readState(engine);
  log('removing containers, network and images…');
  await run(engine, 'podman', ['rm', '-af', '-t', '3'], { timeoutMs: 120_000 });
  await run(engine, 'podman', ['network', 'rm', '-f', `${engine.project}_default`], { timeoutMs: 60_000 });
  await run(engine, 'buildah', ['rm', '--all'], { timeoutMs: 60_000 });
  // Every image, container and network of this storage and network folder, nothing else.
  await run(engine, 'podman', ['system', 'reset', '-f'], { timeoutMs: 10 * 60_000 });
  if (state) {
    const after = await nftTables(engine);
    const live = await otherNetavarkNetworks(engine);
    for (const table of after) {
      // "table ip nat" → family ip, name nat; only what netavark added, only when no
      // other container network still uses it.
      const [, family, name] = table.split(/\s+/);
      if (!family || !name || state.nftTablesBefore.includes(table) || live) continue;
      if (name !== 'nat' && name !== 'filter') continue;
      // Only a table that holds netavark's rules and nothing else (someone else's rules
      // may have joined it since).
      const listing = (await run(engine, 'nft', ['list', 'table', family, name])).stdout;
      if (!onlyNetavark(listing)) continue;
      await run(engine, 'nft', ['delete', 'table', family, name]);
    }
    if (state.ipForwardBefore === '0' && !live) writeFileSync('/proc/sys/net/ipv4/ip_forward', '0\n');
  }
  // Overlay mounts of the storage must be gone before the folder is.
  await run(engine, 'sh', ['-c', `grep -o ' ${engine.dir}/[^ ]*' /proc/mounts | xargs -r -n1 umount -l`]);
  rmSync(engine.dir, { recursive: true, force: true });
  log('down: nothing left');
}

/**
 * True when every rule of an nft table listing is netavark's: in its own chains
 * (NETAVARK…), or a jump to them from the standard chains iptables-nft made.
 */
export function onlyNetavark(listing: string): boolean {
  let chain = '';
  for (const raw of listing.split('\n')) {
    const line = raw.trim();
    const header = /^chain (\S+) \{$/.exec(line);
    if (header) {
      chain = header[1]!;
      continue;
    }
    // Blank lines, braces, the table line, base-chain types, iptables-nft's comments.
    if (!line || line === '}' || /^(table |type |#)/.test(line)) continue;
    if (!chain.startsWith('NETAVARK') && !line.includes('NETAVARK')) return false;
  }
  return true;
}

/** True while another container network's netavark chains are on the host. */
async function otherNetavarkNetworks(engine: Engine): Promise<boolean> {
  const r = await run(engine, 'nft', ['list', 'chains']);
  // Per-network chains are NETAVARK-<hex id>; the shared ones have word names.
  return /chain NETAVARK-[0-9A-F]{8,}/.test(r.stdout);
}

export { APP_IMAGES };
