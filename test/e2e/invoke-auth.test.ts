import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster } from 'ioredis';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { signInvoke } from '../../shared/realtime/invoke-auth';
import { type TestOffline, startTestOffline, testSeeds } from '../helpers/stack';
import { realtimeKeysFor } from '../../shared/realtime/keys';

/**
 * The Lambda invoke port (3002 under npm start) answers any local process. `broadcast`
 * pushes events to every subscriber and sets acknowledgement keys in Redis, so with
 * INVOKE_SECRET set it must act only on invokes signed with it: an unsigned or forged
 * one is refused and changes nothing; the invoke port listens on loopback only.
 */
describe('broadcast invokes must be signed (INVOKE_SECRET)', () => {
  const secret = randomBytes(32).toString('base64url');
  const cluster = `inv${Math.random().toString(36).slice(2, 8)}`;
  let offline: TestOffline;
  let redis: Cluster;
  beforeAll(async () => {
    offline = await startTestOffline({ INVOKE_SECRET: secret, CLUSTER_NAME: cluster });
    redis = createRedisCluster(parseSeeds(testSeeds()));
  }, 120000);
  afterAll(async () => {
    redis?.disconnect();
    await offline?.stop();
  });

  const invoke = async (payload: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(
      `${offline.lambdaUrl}/2015-03-31/functions/quorumvote-local-broadcast/invocations`,
      {
        method: 'POST',
        headers: { 'x-amz-invocation-type': 'RequestResponse' },
        body: JSON.stringify(payload),
      },
    );
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const request = (key: string) => ({
    events: [],
    from: 'forger',
    sentAt: Date.now(),
    acks: [{ key, value: 'written', ttlMs: 60000 }],
  });

  test('an unsigned or forged broadcast is refused and writes nothing', async () => {
    const key = realtimeKeysFor(cluster).tallyAck('forged');
    expect(await invoke(request(key))).toMatchObject({ refused: expect.stringMatching(/unsigned/) });
    const forged = signInvoke(randomBytes(32).toString('base64url'), request(key));
    expect(await invoke(forged)).toMatchObject({ refused: expect.stringMatching(/MAC/) });
    expect(await redis.get(key)).toBeNull();
  });

  test('a signed broadcast is delivered', async () => {
    const key = realtimeKeysFor(cluster).tallyAck('signed');
    const r = await invoke(signInvoke(secret, request(key)));
    expect(r['refused']).toBeUndefined();
    expect(await redis.get(key)).toBe('written');
  });

  test('the invoke port listens on loopback only', () => {
    // Every listening socket on the port, from the kernel's table (address:port in hex).
    const port = offline.lambdaPort.toString(16).toUpperCase().padStart(4, '0');
    const listening = ['/proc/net/tcp', '/proc/net/tcp6']
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1))
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => c[1]?.endsWith(`:${port}`) && c[3] === '0A')
      .map((c) => c[1]!.split(':')[0]);
    expect(listening.length).toBeGreaterThan(0);
    for (const addr of listening) expect(['0100007F', '00000000000000000000000001000000']).toContain(addr);
  });
});
