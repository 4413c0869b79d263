import { Redis, type Cluster } from 'ioredis';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { ReplicaWaits } from '../../shared/redis/replica-waits';
import { type IsolatedRedis, startIsolatedRedis } from '../helpers/tcp-proxy';

/**
 * A WAIT that Redis does not answer in time (seen on a replica just promoted by a
 * failover) must not wedge the client: after its grace period the submit is told "no
 * replica" and the connection is dropped, so the cluster client reconnects and later
 * commands to that master work again. The master is held with CLIENT PAUSE, on a Redis
 * Cluster of this test's own (pausing a shared master would stall other tests).
 */
describe('ReplicaWaits when a master does not answer its WAIT', () => {
  let own: IsolatedRedis;
  let redis: Cluster;

  beforeAll(async () => {
    own = await startIsolatedRedis();
    redis = createRedisCluster(parseSeeds(own.seeds));
    redis.on('error', () => {});
  }, 60000);

  afterAll(async () => {
    redis?.disconnect();
    await own?.stop();
  });

  it('answers 0 after the grace period, drops the connection, and the client recovers', async () => {
    const key = '{rw-test}:votes';
    await redis.set(key, 'x');
    const waits = new ReplicaWaits(redis);
    const target = waits.target(key);
    expect(target).not.toBeNull();
    // Healthy: the replica acknowledges (WAIT answers as soon as it has the write), and
    // CLIENT ID names the connection the WAIT ran on, the one the write used.
    const writerId = (await target!.node.call('CLIENT', 'ID')) as number;
    await target!.node.set(key, 'x2');
    expect(await waits.after(target!, 1, 2000)).toEqual({ replicas: 1, clientId: writerId });

    await redis.set(key, 'y');
    const port = target!.node.options.port!;
    const admin = new Redis(port);
    try {
      // Nothing on this master answers for 6 s (Redis 7.0 pauses CLIENT UNPAUSE too, so
      // the pause runs its course). A probe sent now on a connection of its own answers
      // only when the pause ends, so it shows whether the WAIT gave up while the master
      // was still paused (by order of events, not by elapsed time).
      await admin.client('PAUSE', 6000, 'ALL');
      const prober = new Redis(port);
      try {
        let pauseOver = false;
        const probe = prober.get(key).then(() => {
          pauseOver = true;
        });
        const started = Date.now();
        const outcome = await waits.after(waits.target(key)!, 1, 100);
        const tookMs = Date.now() - started;
        expect(outcome).toEqual({ replicas: 0, clientId: null });
        expect(pauseOver).toBe(false); // gave up after its grace period, not at the pause's end
        process.stdout.write(`[replica-waits] WAIT gave up after ${tookMs} ms of a 6 s pause\n`);
        await probe;
      } finally {
        prober.disconnect();
      }
    } finally {
      admin.disconnect();
    }
    // The dropped connection is replaced; the master answers the same client again.
    const until = Date.now() + 10000;
    let value: string | null = null;
    while (Date.now() < until) {
      value = await redis.get(key).catch(() => null);
      if (value === 'y') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(value).toBe('y');
  }, 30000);
});
