import { generateClusterSecret } from '../../coordinator/peer-secret';
import { portFree } from '../../local/ports';
import type { ManagedProcess } from '../../local/processes';
import { startCoordinator } from '../../local/stack';
import type { CoordinatorStatus } from '../../shared/membership/coordinator-status';
import { eventually, testSeeds } from '../helpers/stack';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * Coordinators on other hosts, simulated with three loopback addresses (Linux routes
 * all of 127/8 to lo): each binds its own address (ADMIN_HOST) on the SAME port, so a
 * node that ignored ADMIN_HOST could not start beside the others; each advertises a URL
 * (ADVERTISE_URL) that only reaches it through a TCP proxy of its own, so peers that
 * ignored it would never pass the proxies. They must still form one cluster.
 */
const hosts = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

async function freeOnAll(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    let free = await portFree(port);
    for (const h of hosts) free = free && (await portFree(port, h));
    if (free) return port;
  }
  throw new Error('no port free on every test address');
}

describe('coordinators bound to their own addresses, advertising another', () => {
  const name = `ta${Math.random().toString(36).slice(2, 8)}`;
  const members = hosts.map((_, i) => `${name}-c${i + 1}`);
  const procs: ManagedProcess[] = [];
  const proxies: TcpProxy[] = [];
  let port = 0;
  const advertised = new Map<string, string>();

  beforeAll(async () => {
    port = await freeOnAll();
    const secret = generateClusterSecret();
    for (const [i, host] of hosts.entries()) {
      const proxy = await TcpProxy.start({ host, port });
      proxies.push(proxy);
      advertised.set(members[i]!, `http://127.0.0.1:${proxy.port}`);
    }
    for (const [i, host] of hosts.entries()) {
      procs.push(
        await startCoordinator({
          nodeId: members[i]!,
          adminPort: port,
          redisSeeds: testSeeds(),
          members,
          env: {
            LOG_LEVEL: 'warn',
            LAMBDA_ENDPOINT: 'off',
            CLUSTER_NAME: name,
            CLUSTER_SECRET: secret,
            ADMIN_HOST: host,
            ADVERTISE_URL: advertised.get(members[i]!)!,
          },
        }),
      );
    }
  }, 60000);
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all(proxies.map((p) => p.close()));
  });

  const status = async (host: string): Promise<CoordinatorStatus | undefined> => {
    try {
      const r = await fetch(`http://${host}:${port}/status`, { signal: AbortSignal.timeout(1000) });
      return (await r.json()) as CoordinatorStatus;
    } catch {
      return undefined;
    }
  };

  test('each listens on its own address only, on one shared port', async () => {
    expect(await portFree(port, '127.0.0.1')).toBe(true);
    for (const host of hosts) expect(await portFree(port, host)).toBe(false);
  });

  test('they elect one leader, register their advertised URLs and talk through them', async () => {
    const leader = await eventually(
      async () => {
        const st = await Promise.all(hosts.map(status));
        if (st.some((s) => !s)) return undefined;
        const leaders = st.filter((s) => s!.role === 'leader');
        if (leaders.length !== 1) return undefined;
        const l = leaders[0]!;
        return st.every((s) => s!.leader === l.id && s!.term === l.term) ? l.id : undefined;
      },
      20000,
      'one agreed leader',
    );
    expect(members).toContain(leader);
    // Every node sees every member healthy at the URL it advertised.
    await eventually(
      async () => {
        const st = await Promise.all(hosts.map(status));
        return st.every((s) =>
          members.every((m) =>
            s?.members.some((x) => x.id === m && x.health === 'healthy' && x.adminUrl === advertised.get(m)),
          ),
        );
      },
      10000,
      'every member healthy at its advertised URL',
    );
    // Peer traffic (votes, heartbeats, clock probes) reached every node through its
    // advertised address, never around it.
    for (const p of proxies) expect(p.accepted).toBeGreaterThan(0);
  });
});
