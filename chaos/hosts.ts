import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Simulated hosts for the chaos suite: one Linux network namespace per coordinator and
 * per Redis node, each with its own address on a bridge of this machine, so that a
 * partition or a slow link is a real network fault (iptables, tc inside the namespace)
 * and not a process trick. Everything created is named with {@link NET.prefix} so a
 * crashed run's leftovers can be found and removed (`npm run hosts -- down`).
 */
export interface Net {
  /** Prefix of every namespace and link made on this net (at most 5 characters: link names are short). */
  prefix: string;
  /** The first three octets of its /24. */
  subnet: string;
}

/**
 * The chaos runs' net: a private /24 unlikely to clash with podman (10.88/10.89) or
 * docker (172.17). Another net (the hosts test's) lets two runs share the machine.
 */
export const NET: Net = { prefix: 'qvc', subnet: '10.213.77' };

export const bridgeOf = (net: Net): string => `${net.prefix}-br0`;
/** The machine's own address on the bridge (serverless-offline and the runner live there). */
export const machineIp = (net: Net): string => `${net.subnet}.1`;

export type HostKind = 'redis' | 'coordinator';

/** One simulated host. `name` is also the coordinator's node id (c1, c2, ...). */
export interface HostSpec {
  name: string;
  kind: HostKind;
  ns: string;
  ip: string;
}

export interface Topology {
  net: Net;
  redis: HostSpec[];
  coordinators: HostSpec[];
}

/** The hosts of a topology: Redis nodes r1..rN at .11+, coordinators c1..cM at .21+. */
export function topology(redisNodes = 6, coordinators = 3, net: Net = NET): Topology {
  const host = (kind: HostKind, letter: string, base: number, i: number): HostSpec => ({
    name: `${letter}${i + 1}`,
    kind,
    ns: `${net.prefix}-${letter}${i + 1}`,
    ip: `${net.subnet}.${base + i}`,
  });
  return {
    net,
    redis: Array.from({ length: redisNodes }, (_, i) => host('redis', 'r', 11, i)),
    coordinators: Array.from({ length: coordinators }, (_, i) => host('coordinator', 'c', 21, i)),
  };
}

export function allHosts(t: Topology): HostSpec[] {
  return [...t.redis, ...t.coordinators];
}

/** Runs a command synchronously; throws with its stderr on failure. */
export function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Runs a command inside a host's namespace. */
export function nsExec(ns: string, cmd: string, args: string[]): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args]);
}

/**
 * Why the hosts cannot be built here, or null when they can: root and a working
 * `ip netns` (and iptables) are needed. Tests print this reason when they skip.
 */
export function hostsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'network namespaces need root (this process is not uid 0)';
  // Not under any net's prefix: a concurrent `down` must not take the probe away.
  const probe = `qvprobe-${process.pid}`;
  try {
    sh('ip', ['netns', 'add', probe]);
  } catch (err) {
    return `\`ip netns\` does not work here: ${(err as Error).message}`;
  }
  try {
    nsExec(probe, 'iptables', ['-L', '-n']);
  } catch (err) {
    return `iptables does not work inside a namespace (apt-get install iptables): ${(err as Error).message}`;
  } finally {
    sh('ip', ['netns', 'del', probe]);
  }
  return null;
}

/** The net's namespaces that exist now (ours or a crashed run's). */
export function listNamespaces(net: Net = NET): string[] {
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(`${net.prefix}-`));
}

/** The net's links in the root namespace (the bridge and host ends of veth pairs). */
export function listLinks(net: Net = NET): string[] {
  return sh('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(`${net.prefix}-`));
}

/** Where host-side processes of a run (serverless-offline) are noted, for `down` after a crash. */
export const pidFile = resolve(__dirname, '..', '.local/chaos/host-pids.json');

/** Notes a host-side process so `down` can end it if the run that started it crashes. */
export function notePid(pid: number, marker: string): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  const now = existsSync(pidFile) ? (JSON.parse(readFileSync(pidFile, 'utf8')) as NotedPid[]) : [];
  now.push({ pid, marker });
  writeFileSync(pidFile, JSON.stringify(now));
}

interface NotedPid {
  pid: number;
  marker: string;
}

function killNotedPids(log: (m: string) => void): void {
  if (!existsSync(pidFile)) return;
  for (const { pid, marker } of JSON.parse(readFileSync(pidFile, 'utf8')) as NotedPid[]) {
    // Only if the pid still runs what we started (pids get reused).
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(marker)) continue;
    log(`killing leftover host process ${pid} (${marker})`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(pidFile, { force: true });
}

/**
 * Removes every namespace, link and process this module (or a crashed run of it)
 * created: processes inside our namespaces are killed first (`ip netns pids`), then
 * the namespaces and our links are deleted. Safe to call when nothing exists.
 */
export function hostsDown(
  log: (m: string) => void = () => {},
  net: Net = NET,
): { namespaces: number; links: number } {
  if (net.prefix === NET.prefix) killNotedPids(log);
  const namespaces = listNamespaces(net);
  const pidsIn = (ns: string): string[] => {
    try {
      return sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean);
    } catch {
      return []; // gone meanwhile
    }
  };
  for (const ns of namespaces) {
    for (const pid of pidsIn(ns)) {
      try {
        process.kill(Number(pid), 'SIGCONT');
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const ns of namespaces) {
    // A namespace whose processes are still exiting can refuse for a moment.
    for (let i = 0; ; i++) {
      try {
        sh('ip', ['netns', 'del', ns]);
        break;
      } catch (err) {
        if (!listNamespaces(net).includes(ns)) break; // gone meanwhile
        if (i >= 20) throw err;
        execFileSync('sleep', ['0.1']);
      }
    }
    log(`removed namespace ${ns}`);
  }
  // Deleting a namespace deletes its veth end and with it the host end; the bridge stays.
  const links = listLinks(net);
  for (const link of links) {
    try {
      sh('ip', ['link', 'del', link]);
      log(`removed link ${link}`);
    } catch {
      // the peer's deletion took it already
    }
  }
  return { namespaces: namespaces.length, links: links.length };
}

/**
 * Builds the bridge and one namespace per host (veth pair, address, loopback up).
 * Leftovers of an earlier run are removed first. On any failure what was built is
 * removed again before the error is thrown.
 */
export function hostsUp(t: Topology, log: (m: string) => void = () => {}): void {
  const net = t.net;
  if (listNamespaces(net).length > 0 || listLinks(net).length > 0) {
    log('removing leftovers of an earlier run');
    hostsDown(log, net);
  }
  const bridge = bridgeOf(net);
  try {
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${machineIp(net)}/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
    for (const h of allHosts(t)) {
      const outer = `${h.ns}-h`;
      const inner = `${h.ns}-n`;
      sh('ip', ['netns', 'add', h.ns]);
      sh('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      sh('ip', ['link', 'set', outer, 'master', bridge, 'up']);
      sh('ip', ['link', 'set', inner, 'netns', h.ns]);
      sh('ip', ['-n', h.ns, 'link', 'set', inner, 'name', 'eth0']);
      sh('ip', ['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', h.ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up']);
      log(`host ${h.name} (${h.kind}) at ${h.ip} in namespace ${h.ns}`);
    }
  } catch (err) {
    hostsDown(log, net);
    throw err;
  }
}

/** The data folder of a run's host (Redis files, logs). */
export function hostDir(runDir: string, h: HostSpec): string {
  return join(runDir, 'hosts', h.name);
}
