import type { Cluster } from 'ioredis';
import { Fanout } from '../../coordinator/fanout/fanout';
import type { FanoutConfig } from '../../coordinator/fanout/config';
import type { BroadcastTransport } from '../../coordinator/fanout/transport';
import { Leadership } from '../../coordinator/leadership';
import { systemClock } from '../../shared/clock';
import { createLogger } from '../../shared/logger';
import type { BroadcastRequest } from '../../shared/realtime/events';
import { testRedis } from '../helpers/redis';

/**
 * The fan-out is told of role changes (pushed by the election driver), not left to poll
 * them: it takes over the instant its node becomes leader, and stops the instant it is
 * not. Real Redis (its subscriber client); the broadcast transport records instead of
 * invoking a function.
 */
describe('fan-out: leadership is pushed, not polled', () => {
  let redis: Cluster;
  let fanout: Fanout;
  let leadership: Leadership;
  const sent: BroadcastRequest[] = [];

  const config: FanoutConfig = {
    enabled: true,
    lambdaEndpoint: undefined,
    functionName: 'unused',
    region: 'eu-west-1',
    tallyIntervalMs: 250,
    tallyAckTimeoutMs: 30000,
    refreshMs: 60000,
    replayWindowMs: 5000,
    lifecycleGraceMs: 15000,
    shardSize: 500,
    batchMs: 5,
  };

  beforeAll(() => {
    redis = testRedis({ shardedSubscribers: true });
    leadership = new Leadership();
    const transport: BroadcastTransport = { send: async (r) => void sent.push(r) };
    fanout = new Fanout({
      nodeId: 'c1',
      redis,
      clock: systemClock,
      log: createLogger({}, 'silent'),
      partitions: 4,
      leadership,
      config,
      transport,
    });
    fanout.start();
  });

  afterAll(async () => {
    await fanout.stop();
    redis.disconnect();
  });

  test('takes over in the same tick its node becomes leader, and hands over in the same tick it stops', () => {
    expect(fanout.status()).toMatchObject({ leading: false, sent: { takeovers: 0 } });
    leadership.set('candidate', 2);
    expect(fanout.status().leading).toBe(false);
    leadership.set('leader', 2);
    // No timer has run in between: the change itself made the fan-out lead.
    expect(fanout.status()).toMatchObject({ leading: true, sent: { takeovers: 1 } });
    leadership.set('follower', 3);
    expect(fanout.status()).toMatchObject({ leading: false, sent: { takeovers: 1 } });
  });
});
