import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostStack, redisHealth, redisRoles, redisViewsSettled, waitFor } from '../../chaos/host-stack';
import type { HostSpec } from '../../chaos/hosts';
import { type Net, hostsDown, hostsUnavailableReason, hostsUp, topology } from '../../chaos/hosts';

/**
 * A Redis node of the chaos stack that dies on its own (seen in a long run: a replica
 * aborting on a broken full sync) is relaunched and rejoins, as an orchestrator would
 * restart it; a kill the nemesis announced is not. Without the relaunch the master it
 * replicated stays without a replica and intake stops for the rest of the run. Needs
 * root and `ip netns`: skipped with the reason printed otherwise.
 */
const why = hostsUnavailableReason();
if (why) process.stdout.write(`[chaos host-stack] SKIPPED: ${why}\n`);
const suite = why ? describe.skip : describe;
/** Its own net, apart from the other chaos tests'. */
const net: Net = { prefix: 'qvs', subnet: '10.213.79' };

suite('chaos host stack: crashed Redis node relaunched', () => {
  const t = topology(6, 0, net);
  const crashes: string[] = [];
  let stack: HostStack;
  beforeAll(async () => {
    hostsUp(t);
    const dir = mkdtempSync(join(tmpdir(), 'qv-hoststack-'));
    stack = new HostStack({ topology: t, runDir: dir, keyDir: dir, onCrash: (name) => crashes.push(name) });
    await stack.startRedis();
  }, 90000);
  /** A replica, once every node agrees on the roles (a relaunched node rejoins by gossip). */
  async function someReplica(): Promise<HostSpec> {
    await waitFor(() => redisViewsSettled(t.redis), 30000, 'every Redis node seeing every role');
    const replica = (await redisRoles(t.redis))?.find((r) => r.role === 'replica')?.host;
    if (!replica)
      throw new Error(`no replica in the cluster's view: ${JSON.stringify(await redisRoles(t.redis))}`);
    return replica;
  }
  afterAll(async () => {
    await stack?.stop();
    hostsDown(() => {}, net);
  }, 30000);

  test('a replica killed behind the stack’s back comes back and replicates again', async () => {
    const replica = await someReplica();
    const before = stack.redisProcs.get(replica.name)!;
    before.signal('SIGKILL');
    await waitFor(
      async () => {
        const now = stack.redisProcs.get(replica.name);
        return Boolean(now && now !== before && now.alive && (await redisHealth(t.redis)).ok);
      },
      60000,
      `${replica.name} relaunched and the cluster healthy`,
    );
    expect(crashes).toEqual([`redis-${replica.name}`]);
  }, 90000);

  test('a kill announced with expectExit is left to whoever announced it', async () => {
    const replica = await someReplica();
    const proc = stack.redisProcs.get(replica.name)!;
    stack.expectExit(proc);
    proc.signal('SIGKILL');
    await proc.exited;
    await new Promise((r) => setTimeout(r, 2500));
    expect(stack.redisProcs.get(replica.name)).toBe(proc);
    expect(crashes).toHaveLength(1);
  }, 30000);
});
