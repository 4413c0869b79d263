import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Cluster } from 'ioredis';
import { ensureKeyPair } from '../../shared/auth/keys';
import { mintToken } from '../../shared/auth/tokens';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { type IsolatedRedis, startIsolatedRedis } from '../helpers/tcp-proxy';

/**
 * Reads cannot be turned against vote intake: one token (or one address) reading in a
 * loop meets `429 rate_limited` with Retry-After after its burst, and GET /results for
 * many voters costs Redis one sum per election per second per function instance, not
 * 16 partitions × 3 commands per request. The handlers run in-process against a Redis
 * Cluster of this file's own, so the command counts (INFO commandstats) are ours alone.
 */
type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const READ_LIMIT = 20;
const AUDIT_LIMIT = 5;
const IP_LIMIT = 60;

describe('read routes: rate limits and the results cache', () => {
  let redisCluster: IsolatedRedis;
  let probe: Cluster;
  let keyDir: string;
  let closeHandlerRedis: () => void = () => {};
  const h: Record<string, Handler> = {};
  let admin: string;
  let electionId: string;
  let ipCounter = 0;
  /** A fresh client address per call unless one is given (keeps the per-address limit out of the way). */
  const freshIp = (): string => `10.9.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

  const event = (
    method: string,
    path: string,
    token: string,
    o: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; ip?: string } = {},
  ): APIGatewayProxyEventV2 =>
    ({
      version: '2.0',
      rawPath: path,
      rawQueryString: new URLSearchParams(o.query ?? {}).toString(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(o.query ? { queryStringParameters: o.query } : {}),
      ...(o.params ? { pathParameters: o.params } : {}),
      requestContext: { http: { method, path, sourceIp: o.ip ?? freshIp() }, requestId: 'r' },
      ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
      isBase64Encoded: false,
    }) as unknown as APIGatewayProxyEventV2;

  const results = (token: string, ip?: string) =>
    h['results-get']!(
      event('GET', `/elections/${electionId}/results`, token, { params: { id: electionId }, ip }),
    );

  /** Calls of `command` on every master so far. */
  async function calls(command: string): Promise<number> {
    let n = 0;
    for (const node of probe.nodes('master')) {
      const info = await node.info('commandstats');
      const m = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
      n += m ? Number(m[1]) : 0;
    }
    return n;
  }

  beforeAll(async () => {
    redisCluster = await startIsolatedRedis();
    keyDir = mkdtempSync(join(tmpdir(), 'qv-read-keys-'));
    ensureKeyPair({ keyDir }); // the verifiers read jwks.json when they load
    Object.assign(process.env, {
      REDIS_SEEDS: redisCluster.seeds,
      JWT_KEY_DIR: keyDir,
      COORDINATORS: 'c1,c2,c3',
      RATE_LIMIT_READ: String(READ_LIMIT),
      RATE_LIMIT_AUDIT: String(AUDIT_LIMIT),
      RATE_LIMIT_READ_IP: String(IP_LIMIT),
      // Buckets that hardly refill while a test runs (1 token per 10 s or slower).
      RATE_LIMIT_READ_WINDOW_MS: '600000',
    });
    for (const m of [
      'results-get',
      'audit-get',
      'elections-get',
      'elections-list',
      'votes-get',
      'elections-create',
      'elections-open',
      'elections-close',
    ]) {
      h[m] = ((await import(`../../functions/${m}`)) as { handler: Handler }).handler;
    }
    const lib = await import('../../functions/lib/redis');
    closeHandlerRedis = () => lib.redis().disconnect();
    probe = createRedisCluster(parseSeeds(redisCluster.seeds));
    admin = await mintToken({ sub: 'rl-admin', role: 'admin' }, { keyDir, ttlS: 3600 });
    const created = await h['elections-create']!(
      event('POST', '/elections', admin, {
        body: {
          title: 'Reads',
          options: [
            { id: 'yes', label: 'Yes' },
            { id: 'no', label: 'No' },
          ],
        },
      }),
    );
    expect(created.statusCode).toBe(201);
    electionId = (JSON.parse(created.body!) as { id: string }).id;
    const opened = await h['elections-open']!(
      event('POST', `/elections/${electionId}/open`, admin, { params: { id: electionId } }),
    );
    expect(opened.statusCode).toBe(200);
  }, 60000);

  afterAll(async () => {
    closeHandlerRedis();
    probe?.disconnect();
    await redisCluster?.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  test('one token reading /results in a loop gets 429 rate_limited with Retry-After after its burst', async () => {
    const token = await mintToken({ sub: 'rl-looper', role: 'voter' }, { keyDir, ttlS: 3600 });
    const statuses: number[] = [];
    let refused: APIGatewayProxyStructuredResultV2 | undefined;
    for (let i = 0; i < READ_LIMIT + 10; i++) {
      const r = await results(token);
      statuses.push(r.statusCode!);
      if (r.statusCode === 429) refused ??= r;
    }
    expect(statuses.slice(0, READ_LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(READ_LIMIT).every((s) => s === 429)).toBe(true);
    expect(JSON.parse(refused!.body!)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(refused!.headers!['Retry-After'])).toBeGreaterThanOrEqual(1);
    // The same user's other reads share the bucket; another user is not affected.
    const get = await h['elections-get']!(
      event('GET', `/elections/${electionId}`, token, { params: { id: electionId } }),
    );
    expect(get.statusCode).toBe(429);
    const other = await mintToken({ sub: 'rl-other', role: 'voter' }, { keyDir, ttlS: 3600 });
    expect((await results(other)).statusCode).toBe(200);
  });

  test('audit pages have their own, smaller bucket per user', async () => {
    const token = await mintToken({ sub: 'rl-auditor', role: 'auditor' }, { keyDir, ttlS: 3600 });
    const statuses: number[] = [];
    for (let i = 0; i < AUDIT_LIMIT + 3; i++) {
      const r = await h['audit-get']!(
        event('GET', `/elections/${electionId}/audit`, token, { params: { id: electionId } }),
      );
      statuses.push(r.statusCode!);
    }
    expect(statuses.slice(0, AUDIT_LIMIT)).toEqual(Array(AUDIT_LIMIT).fill(200));
    expect(statuses.slice(AUDIT_LIMIT)).toEqual([429, 429, 429]);
  });

  test('one address with many tokens meets the per-address limit; other addresses do not', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < IP_LIMIT + 5; i++) {
      const token = await mintToken({ sub: `rl-many-${i}`, role: 'voter' }, { keyDir, ttlS: 3600 });
      statuses.push((await results(token, '192.0.2.77')).statusCode!);
    }
    expect(statuses.slice(0, IP_LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(IP_LIMIT).every((s) => s === 429)).toBe(true);
    const token = await mintToken({ sub: 'rl-elsewhere', role: 'voter' }, { keyDir, ttlS: 3600 });
    expect((await results(token, '192.0.2.78')).statusCode).toBe(200);
  });

  test('/results for many voters costs one sum per second, not 16 partitions × 3 commands per request', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        mintToken({ sub: `rl-reader-${i}`, role: 'voter' }, { keyDir, ttlS: 3600 }),
      ),
    );
    const before = await calls('xlen');
    const started = performance.now();
    for (let i = 0; i < tokens.length; i += 20) {
      const batch = await Promise.all(tokens.slice(i, i + 20).map((t) => results(t)));
      for (const r of batch) expect(r.statusCode).toBe(200);
    }
    const elapsedS = (performance.now() - started) / 1000;
    const sums = ((await calls('xlen')) - before) / 16; // one XLEN per partition per sum
    // At most one sum per started second (and one more for a boundary), whatever the load.
    expect(sums).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);
  });

  test('a close is never answered from a result read before it', async () => {
    const token = await mintToken({ sub: 'rl-closer', role: 'voter' }, { keyDir, ttlS: 3600 });
    const open = JSON.parse((await results(token)).body!) as { status: string };
    expect(open.status).toBe('open');
    const closed = await h['elections-close']!(
      event('POST', `/elections/${electionId}/close`, admin, { params: { id: electionId } }),
    );
    expect(closed.statusCode).toBe(200);
    const after = JSON.parse((await results(token)).body!) as { status: string };
    expect(after.status).toBe('closed');
  });
});
