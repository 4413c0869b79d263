import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { cutFrom, healPartitions } from '../../chaos/net-faults';
import {
  type Net,
  type Topology,
  hostsDown,
  hostsUnavailableReason,
  hostsUp,
  listLinks,
  listNamespaces,
  machineIp,
  topology,
} from '../../chaos/hosts';

/**
 * The chaos suite's simulated hosts: namespaces on a bridge, a partition made with
 * iptables inside a namespace, and `down` removing a crashed run's leftovers
 * (namespaces, links, a process still running inside). Needs root and `ip netns`:
 * skipped with the reason printed otherwise.
 */
const why = hostsUnavailableReason();
if (why) process.stdout.write(`[chaos hosts] SKIPPED: ${why}\n`);
const suite = why ? describe.skip : describe;
/** Its own net: the short chaos run may use the default one at the same time. */
const net: Net = { prefix: 'qvt', subnet: '10.213.78' };

/** True when a TCP connection from the machine to ip:port is accepted within 1 s. */
function reachable(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port, timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/** A TCP listener inside a host's namespace (a node one-liner); resolves once it listens. */
function listenIn(ns: string, ip: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      `require('net').createServer(s=>s.end()).listen(${port},'${ip}',()=>console.log('up'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
}

suite('chaos hosts (network namespaces)', () => {
  let t: Topology;
  beforeAll(() => {
    t = topology(2, 2, net);
    hostsUp(t);
  }, 30000);
  afterAll(() => {
    hostsDown(() => {}, net);
  }, 30000);

  test('each host has its own address on the bridge, reachable from the machine and from each other', async () => {
    expect(listNamespaces(net).sort()).toEqual(['qvt-c1', 'qvt-c2', 'qvt-r1', 'qvt-r2']);
    const [c1, c2] = t.coordinators;
    const server = await listenIn(c2!.ns, c2!.ip, 5555);
    try {
      expect(await reachable(c2!.ip, 5555)).toBe(true);
      // From c1's namespace to c2: a node one-liner that prints whether it connected.
      const fromC1 = spawn('ip', [
        'netns',
        'exec',
        c1!.ns,
        process.execPath,
        '-e',
        `const s=require('net').connect(5555,'${c2!.ip}');s.on('connect',()=>{console.log('yes');process.exit(0)});s.on('error',()=>{console.log('no');process.exit(0)});setTimeout(()=>{console.log('no');process.exit(0)},1500)`,
      ]);
      const said = await new Promise<string>((r) =>
        fromC1.stdout.once('data', (d: Buffer) => r(d.toString().trim())),
      );
      expect(said).toBe('yes');
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('a partition drops packets between two hosts only, and healing restores them', async () => {
    const [c1, c2] = t.coordinators;
    const [r1] = t.redis;
    const onC1 = await listenIn(c1!.ns, c1!.ip, 5556);
    try {
      expect(await reachable(c1!.ip, 5556)).toBe(true);
      // Cut c1 from c2 and from the machine's bridge address: the machine can no longer connect.
      cutFrom(c1!, [c2!, { name: 'machine', kind: 'redis', ns: '', ip: machineIp(net) }]);
      expect(await reachable(c1!.ip, 5556)).toBe(false);
      healPartitions(c1!);
      expect(await reachable(c1!.ip, 5556)).toBe(true);
      // A cut between c1 and r1 leaves the machine's path to c1 alone.
      cutFrom(c1!, [r1!]);
      expect(await reachable(c1!.ip, 5556)).toBe(true);
      healPartitions(c1!);
    } finally {
      onC1.kill('SIGKILL');
    }
  });

  test('down removes a crashed run: namespaces, links and a process still running inside', async () => {
    const [, c2] = t.coordinators;
    // Detached, as if the run that started it had been killed.
    const orphan = spawn('ip', ['netns', 'exec', c2!.ns, 'sleep', '600'], {
      detached: true,
      stdio: 'ignore',
    });
    orphan.unref();
    const exited = new Promise((r) => orphan.once('exit', r));
    const removed = hostsDown(() => {}, net);
    expect(removed.namespaces).toBe(4);
    expect(listNamespaces(net)).toEqual([]);
    expect(listLinks(net)).toEqual([]);
    expect(await exited).toBeDefined();
    // Up again for afterAll's symmetry (and to prove up works after a down).
    hostsUp(t);
    expect(listNamespaces(net)).toHaveLength(4);
  }, 30000);
});
