import { rmSync } from 'node:fs';
import { ensureKeyPair } from '../../shared/auth/keys';
import { mintToken } from '../../shared/auth/tokens';
import { testKeyDir } from '../helpers/api';
import { testSeeds } from '../helpers/stack';

/**
 * WebSocket limits, with the `$connect`, `$disconnect` and message handlers in-process
 * against the run's Redis Cluster (under a cluster name of this file's own): one token
 * cannot hold more than `WS_MAX_CONNECTIONS_PER_USER` connections, cannot connect in a
 * loop (`RATE_LIMIT_WS_CONNECT`), and a connection that sends messages in a loop gets
 * `rate_limited` error events (`RATE_LIMIT_WS_MESSAGES`) instead of costing a snapshot
 * read each.
 */
type Reply = { statusCode: number; body?: string };
type Handler = (event: unknown) => Promise<Reply>;

const MAX_CONNECTIONS = 3;
const CONNECT_LIMIT = 8;
const MESSAGE_LIMIT = 10;

describe('WebSocket: connections per user, connect rate, message rate', () => {
  let keyDir: string;
  let connect: Handler;
  let disconnect: Handler;
  let message: Handler;
  let closeRedis: () => void = () => {};
  let n = 0;

  beforeAll(async () => {
    keyDir = testKeyDir();
    ensureKeyPair({ keyDir }); // the verifiers read jwks.json when they load
    Object.assign(process.env, {
      REDIS_SEEDS: testSeeds(),
      JWT_KEY_DIR: keyDir,
      CLUSTER_NAME: `wsl${Math.random().toString(36).slice(2, 8)}`,
      WS_MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS),
      RATE_LIMIT_WS_CONNECT: String(CONNECT_LIMIT),
      RATE_LIMIT_WS_WINDOW_MS: '600000',
      RATE_LIMIT_WS_MESSAGES: String(MESSAGE_LIMIT),
      RATE_LIMIT_WS_MESSAGES_WINDOW_MS: '600000',
    });
    connect = ((await import('../../functions/ws-connect')) as { handler: Handler }).handler;
    disconnect = ((await import('../../functions/ws-disconnect')) as { handler: Handler }).handler;
    message = ((await import('../../functions/ws-message')) as { handler: Handler }).handler;
    const lib = await import('../../functions/lib/redis');
    closeRedis = () => lib.redis().disconnect();
  });
  afterAll(() => {
    closeRedis();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const open = async (token: string): Promise<{ id: string; reply: Reply }> => {
    const id = `conn-${++n}-${Math.random().toString(36).slice(2, 8)}`;
    const reply = await connect({ requestContext: { connectionId: id }, queryStringParameters: { token } });
    return { id, reply };
  };
  const close = (id: string) => disconnect({ requestContext: { connectionId: id } });
  const code = (r: Reply): string | undefined => (r.body ? JSON.parse(r.body).error?.code : undefined);

  test('a user holds at most WS_MAX_CONNECTIONS_PER_USER connections; closing one frees a place', async () => {
    const token = await mintToken({ sub: 'ws-many', role: 'voter' }, { keyDir, ttlS: 3600 });
    const held: string[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const c = await open(token);
      expect(c.reply.statusCode).toBe(200);
      held.push(c.id);
    }
    const refused = await open(token);
    expect(refused.reply.statusCode).toBe(429);
    expect(code(refused.reply)).toBe('too_many_connections');
    // Another user is not affected.
    const other = await mintToken({ sub: 'ws-other', role: 'voter' }, { keyDir, ttlS: 3600 });
    expect((await open(other)).reply.statusCode).toBe(200);
    await close(held.pop()!);
    expect((await open(token)).reply.statusCode).toBe(200);
  });

  test('connecting in a loop meets the per-user connect rate (429 rate_limited)', async () => {
    const token = await mintToken({ sub: 'ws-looper', role: 'voter' }, { keyDir, ttlS: 3600 });
    const statuses: number[] = [];
    for (let i = 0; i < CONNECT_LIMIT + 2; i++) {
      const c = await open(token);
      statuses.push(c.reply.statusCode);
      if (c.reply.statusCode === 200) await close(c.id);
      else expect(code(c.reply)).toBe('rate_limited');
    }
    expect(statuses.slice(0, CONNECT_LIMIT)).toEqual(Array(CONNECT_LIMIT).fill(200));
    expect(statuses.slice(CONNECT_LIMIT)).toEqual([429, 429]);
  });

  test('a connection sending messages in a loop gets rate_limited error events', async () => {
    const token = await mintToken({ sub: 'ws-chatty', role: 'voter' }, { keyDir, ttlS: 3600 });
    const c = await open(token);
    expect(c.reply.statusCode).toBe(200);
    const replies: { type: string; code?: string }[] = [];
    for (let i = 0; i < MESSAGE_LIMIT + 3; i++) {
      const r = await message({
        requestContext: { connectionId: c.id, routeKey: 'subscribe' },
        body: JSON.stringify({ action: 'subscribe', topic: 'election:nope' }),
      });
      replies.push(JSON.parse(r.body!));
    }
    expect(replies.slice(0, MESSAGE_LIMIT).some((r) => r.code === 'rate_limited')).toBe(false);
    expect(replies.slice(MESSAGE_LIMIT).map((r) => [r.type, r.code])).toEqual([
      ['error', 'rate_limited'],
      ['error', 'rate_limited'],
      ['error', 'rate_limited'],
    ]);
    await close(c.id);
  });
});
