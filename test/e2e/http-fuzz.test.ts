import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { validateHeaderValue } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import type { Cluster } from 'ioredis';
import { SignJWT } from 'jose';
import { ensureKeyPair } from '../../shared/auth/keys';
import { generateVoterKey, toHex } from '../../shared/ballots';
import type { Election } from '../../shared/elections/model';
import { newTrusteeKeys } from '../../shared/secret/trustee-client';
import { makeBallot } from '../../shared/secret/voter-client';
import { mintToken } from '../../shared/auth/tokens';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { isRateLimitKey } from '../../shared/redis/keys';
import {
  type CoverageGoal,
  type FuzzStats,
  assertFuzzCoverage,
  countAnswer,
  countStateChange,
  emptyFuzzStats,
} from '../helpers/fuzz-coverage';
import { AUTH_FORMATS, type FuzzRequest, type TokenCase, fuzzArbitraries } from '../helpers/fuzz-arbitraries';
import { type Role, type Route, fuzzRoutes } from '../helpers/fuzz-routes';
import { type TestOffline, startTestOffline } from '../helpers/stack';
import { type IsolatedRedis, startIsolatedRedis } from '../helpers/tcp-proxy';

/**
 * Invariant 7 ("bad input changes nothing") as a fuzz of the HTTP handlers: random
 * routes, ids, bodies, content types, headers and tokens (valid, expired, forged,
 * wrong role...). Every answer must be below 500, carry API.md's error envelope when it
 * is an error, have headers HTTP can carry, and match what the request deserves where
 * that is known up front (413/415/400 for the body, 401/403 for the token). After every
 * request the whole keyspace of a dedicated Redis Cluster is compared with the one
 * before: only a 2xx of a state-changing route (a new vote, election, user, a
 * transition) may change it. Rate-limit counters (`{rl:...}`) are the one exception:
 * they count bad requests too, by design, and expire on their own.
 *
 * Most runs call the exported handlers in-process with synthetic HTTP API v2 events
 * (thousands of runs); a few hundred go over real HTTP through serverless-offline.
 */

const PARTITIONS = 2;
const OPTION_IDS = ['yes', 'no'];
const IN_PROCESS_RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);
const ADMIN_RUNS = Math.max(100, Math.round(IN_PROCESS_RUNS / 4));
const AUTH_TOKEN_RUNS = 100; // each well-formed attempt pays one scrypt
const SECRET_RUNS = Math.max(200, Math.round(IN_PROCESS_RUNS / 4));
const HTTP_RUNS = Number(process.env['FUZZ_HTTP_RUNS'] ?? 300);
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*(;.*)?$/;

const ROUTES = fuzzRoutes();
const route = (name: string): Route => {
  const r = ROUTES.find((x) => x.name === name);
  if (!r) throw new Error(`no fuzzed route ${name} in docs/openapi.yaml`);
  return r;
};

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** What the request is owed before any route logic runs, when that is known. */
function expectedEarly(req: FuzzRequest, overHttp: boolean): { status: number; code: string } | undefined {
  // 1. The body (functions/lib/http.ts parses it before the route runs).
  if (req.body !== undefined && req.body !== '' && !(overHttp && req.route.method === 'GET')) {
    const raw = req.isBase64Encoded ? Buffer.from(req.body, 'base64') : Buffer.from(req.body, 'utf8');
    if (raw.length > req.route.maxBodyBytes) return { status: 413, code: 'payload_too_large' };
    const given = lowerKeys(req.headers)['content-type'];
    // Over HTTP an empty (or blank) header may not arrive at all; then JSON is assumed.
    if (overHttp && given !== undefined && given.trim() === '') return undefined;
    const type = given ?? 'application/json';
    if (!/^application\/(.+\+)?json\b/i.test(type)) return { status: 415, code: 'unsupported_media_type' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      if (!overHttp) return { status: 400, code: 'invalid_request' };
      // Over HTTP the bytes may be re-encoded on the way; only "not 5xx" is certain.
      return undefined;
    }
    // serverless-offline parses JSON bodies itself and hands a JSON string literal over
    // unquoted and a JSON null as no body (API Gateway sends the text as it came).
    if (overHttp && (typeof parsed === 'string' || parsed === null)) return undefined;
  }
  // 2. The token.
  const rule = req.route.auth;
  if (rule === 'none') return undefined;
  const format = AUTH_FORMATS[req.authFormat]!;
  if (!req.token || !format.valid || !req.token.role) return { status: 401, code: 'unauthorized' };
  if (rule !== 'any' && req.token.role !== rule) return { status: 403, code: 'forbidden' };
  return undefined;
}

/** Every path to a value inside `v` (objects and arrays), the root excluded. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return keys.flatMap((k) => [[...at, k], ...paths((v as Record<string, unknown>)[k], [...at, k])]);
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function buildPath(req: FuzzRequest): string {
  return req.route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const encoded = encodeURIComponent(req.params[name] ?? '');
    // A "." or ".." segment (even as %2E) is resolved away by every URL client, so the
    // request would go to another route (e.g. /elections/./close → /elections/close,
    // serverless-offline's own 404): keep such a value an ordinary invalid id.
    return encoded === '.' || encoded === '..' ? `${encoded}~` : encoded;
  });
}

function requestHeaders(req: FuzzRequest): Record<string, string> {
  const h: Record<string, string> = { ...req.headers };
  if (req.token !== null) h[req.authHeaderName] = AUTH_FORMATS[req.authFormat]!.make(req.token.token);
  return h;
}

function toEvent(req: FuzzRequest): APIGatewayProxyEventV2 {
  const path = buildPath(req);
  const rawQueryString = new URLSearchParams(req.query).toString();
  const params = Object.fromEntries(
    Object.entries(req.params).filter(([k]) => req.route.path.includes(`{${k}}`)),
  );
  return {
    version: '2.0',
    routeKey: `${req.route.method} ${req.route.path}`,
    rawPath: path,
    rawQueryString,
    headers: requestHeaders(req),
    ...(Object.keys(req.query).length ? { queryStringParameters: req.query } : {}),
    ...(Object.keys(params).length ? { pathParameters: params } : {}),
    requestContext: {
      accountId: 'offline',
      apiId: 'fuzz',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: req.route.method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: req.sourceIp,
        userAgent: 'fuzz',
      },
      requestId: `fuzz-${Math.random().toString(36).slice(2)}`,
      routeKey: `${req.route.method} ${req.route.path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(req.body === undefined ? {} : { body: req.body }),
    isBase64Encoded: req.isBase64Encoded,
  };
}

/** The checks every answer must pass, whatever the request. */
function checkAnswer(req: FuzzRequest, a: Answer, overHttp: boolean): void {
  const where = `${req.route.method} ${buildPath(req)} → ${a.status} ${a.body.slice(0, 300)}`;
  if (!(a.status >= 200 && a.status < 500)) throw new Error(`status ${a.status}: ${where}`);
  for (const [k, v] of Object.entries(a.headers)) {
    try {
      validateHeaderValue(k, v);
    } catch {
      throw new Error(`header ${k} cannot travel over HTTP (${JSON.stringify(v)}): ${where}`);
    }
  }
  let body: { error?: { code?: unknown; message?: unknown } } | null;
  try {
    body = JSON.parse(a.body);
  } catch {
    throw new Error(`body is not JSON: ${where}`);
  }
  if (a.status >= 400) {
    const e = body?.error;
    const ok =
      body &&
      typeof body === 'object' &&
      Object.keys(body).length === 1 &&
      typeof e?.code === 'string' &&
      /^[a-z][a-z0-9_]*$/.test(e.code) &&
      typeof e.message === 'string' &&
      e.message.length > 0 &&
      !/\n\s+at |\.ts:\d+/.test(e.message);
    if (!ok) throw new Error(`not the error envelope: ${where}`);
  }
  const early = expectedEarly(req, overHttp);
  if (early && (a.status !== early.status || body?.error?.code !== early.code)) {
    throw new Error(`expected ${early.status} ${early.code}: ${where}`);
  }
}

/**
 * The whole keyspace of the cluster, key → digest of its logical content (rate-limit
 * counters left out). Not DUMP: a hash stored as a hash table serializes in bucket
 * order, and a mere read (HGET steps an incremental rehash) can change that order.
 */
const typeCache = new Map<string, string>();

async function keyspace(redis: Cluster): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    redis.nodes('master').map(async (node) => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch.filter((k) => !isRateLimitKey(k)));
      } while (cursor !== '0');
      const unknown = keys.filter((k) => !typeCache.has(k));
      if (unknown.length) {
        const types = node.pipeline();
        for (const k of unknown) types.type(k);
        for (const [i, r] of ((await types.exec()) ?? []).entries()) typeCache.set(unknown[i]!, String(r[1]));
      }
      const reads = node.pipeline();
      for (const k of keys) {
        const t = typeCache.get(k);
        if (t === 'string') reads.get(k);
        else if (t === 'hash') reads.hgetall(k);
        else if (t === 'set') reads.smembers(k);
        else if (t === 'zset') reads.call('ZRANGE', k, '0', '-1', 'WITHSCORES');
        else if (t === 'list') reads.lrange(k, 0, -1);
        else if (t === 'stream') reads.xrange(k, '-', '+');
        else reads.type(k);
      }
      const values = (await reads.exec()) ?? [];
      keys.forEach((k, i) => {
        const [err, raw] = values[i] ?? [null, null];
        if (err) {
          // Deleted and made again as another type since it was cached: look again next time.
          typeCache.delete(k);
          out.set(k, `unreadable ${String(err)}`);
          return;
        }
        const t = typeCache.get(k);
        let v = raw;
        if (t === 'hash') v = Object.entries(v as Record<string, string>).sort();
        else if (t === 'set') v = [...(v as string[])].sort();
        out.set(
          k,
          createHash('sha1')
            .update(`${t}|${JSON.stringify(v)}`)
            .digest('hex'),
        );
      });
    }),
  );
  return out;
}

function diff(a: Map<string, string>, b: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [k, v] of b) if (a.get(k) !== v) changes.push(`${a.has(k) ? 'changed' : 'added'} ${k}`);
  for (const k of a.keys()) if (!b.has(k)) changes.push(`removed ${k}`);
  return changes;
}

describe('HTTP handlers under fuzzing: never a 5xx, always the envelope, bad input changes nothing', () => {
  let redisCluster: IsolatedRedis;
  let probe: Cluster;
  let keyDir: string;
  let otherKeyDir: string;
  const handlers = new Map<string, Handler>();
  let closeHandlerRedis: () => void = () => {};
  let offline: TestOffline | undefined;
  const tokens: TokenCase[] = [];
  const ids: Record<string, string> = {};
  /** The secret-ballot phase's elections, bodies made for them, and those bodies as values. */
  const secretIds: Record<string, string> = {};
  const secretBodies: Record<string, string[]> = {};
  const secretValid: unknown[] = [];
  const voteIds: string[] = [];
  let baseline = new Map<string, string>();
  const stats = { ...emptyFuzzStats(), requestMs: 0, stateCheckMs: 0 };
  /** What each property (test) exercised: each must reach its own goal. */
  const phases: Record<string, FuzzStats> = {};
  let phase = emptyFuzzStats();
  /** Runs one fuzz property as its own phase and checks what the phase exercised. */
  async function fuzzPhase(
    name: string,
    goal: CoverageGoal,
    arb: fc.Arbitrary<FuzzRequest>,
    overHttp: boolean,
    numRuns: number,
  ): Promise<void> {
    phase = emptyFuzzStats();
    phases[name] = phase;
    await fc.assert(
      fc.asyncProperty(arb, (req) => runOne(req, overHttp)),
      { numRuns, seed, endOnFailure: true },
    );
    assertFuzzCoverage(`${name} (seed ${seed})`, phase, goal);
  }

  let setupIp = 0;
  async function call(
    name: string,
    init: Partial<FuzzRequest>,
  ): Promise<{ status: number; body: { id?: string; voteId?: string } }> {
    const req: FuzzRequest = {
      route: route(name),
      params: {},
      query: {},
      token: null,
      authFormat: 0,
      authHeaderName: 'authorization',
      headers: {},
      body: undefined,
      isBase64Encoded: false,
      // Setup requests must not meet the low per-IP limit.
      sourceIp: `192.0.2.${++setupIp}`,
      ...init,
    };
    const a = await invokeInProcess(req);
    return { status: a.status, body: JSON.parse(a.body) };
  }

  async function invokeInProcess(req: FuzzRequest): Promise<Answer> {
    const h = handlers.get(req.route.module)!;
    const r = await h(toEvent(req));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k] = String(v);
    return { status: r.statusCode ?? 0, headers, body: typeof r.body === 'string' ? r.body : '' };
  }

  async function invokeOverHttp(req: FuzzRequest): Promise<Answer> {
    const qs = new URLSearchParams(req.query).toString();
    const headers = requestHeaders(req);
    let body: string | Buffer | undefined;
    if (req.route.method === 'POST' && req.body !== undefined) {
      body = req.isBase64Encoded ? Buffer.from(req.body, 'base64') : req.body;
      // Without one, fetch would label a string body text/plain itself.
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
        headers['content-type'] = 'application/json';
      }
    }
    const res = await fetch(`${offline!.httpUrl}${buildPath(req)}${qs ? `?${qs}` : ''}`, {
      method: req.route.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(10000),
    });
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      out[k] = v;
    });
    return { status: res.status, headers: out, body: await res.text() };
  }

  /** Runs one request and checks the answer and the keyspace. */
  async function runOne(req: FuzzRequest, overHttp: boolean): Promise<void> {
    if (overHttp) {
      // An empty path segment matches no route: the emulator answers that itself.
      for (const k of Object.keys(req.params)) if (req.params[k] === '') req.params[k] = '-';
      // fetch encodes the body itself; keep HTTP requests what a client can send.
      if (req.route.method === 'POST' && req.body !== undefined && !req.isBase64Encoded) {
        req.body = req.body.replace(/[\ud800-\udfff]/g, '?');
      }
      const ct = Object.keys(req.headers).find((k) => k.toLowerCase() === 'content-type');
      if (req.route.method === 'POST' && req.body !== undefined && ct === undefined) {
        req.headers['content-type'] = 'application/json';
      }
      // hapi (serverless-offline) answers a syntactically broken Content-Type itself,
      // before any handler runs (API Gateway would pass it on); those cases run in-process.
      if (ct !== undefined && !MEDIA_TYPE.test(req.headers[ct]!)) req.headers[ct] = 'text/plain';
    }
    const t0 = performance.now();
    const a = overHttp ? await invokeOverHttp(req) : await invokeInProcess(req);
    const t1 = performance.now();
    const code = /"code":"([a-z_]+)"/.exec(a.body)?.[1];
    for (const s of [stats, phase]) countAnswer(s, a.status, code);
    const after = await keyspace(probe);
    stats.requestMs += performance.now() - t0 - (performance.now() - t1);
    stats.stateCheckMs += performance.now() - t1;
    const changes = diff(baseline, after);
    baseline = after;
    checkAnswer(req, a, overHttp);
    if (changes.length === 0) return;
    const replayed = Object.entries(a.headers).some(
      ([k, v]) => k.toLowerCase() === 'idempotent-replayed' && v === 'true',
    );
    if (!(req.route.mutates && a.status >= 200 && a.status < 300) || replayed) {
      throw new Error(
        `${req.route.method} ${buildPath(req)} answered ${a.status}${replayed ? ' (replayed)' : ''} ` +
          `but changed state: ${changes.slice(0, 8).join('; ')}`,
      );
    }
    for (const s of [stats, phase]) countStateChange(s, req.route.name);
  }

  beforeAll(async () => {
    redisCluster = await startIsolatedRedis();
    keyDir = mkdtempSync(join(tmpdir(), 'qv-fuzz-keys-'));
    otherKeyDir = mkdtempSync(join(tmpdir(), 'qv-fuzz-other-'));
    // What `npm start` does once: functions only read the key pair (and fail at start without it).
    ensureKeyPair({ keyDir });
    const env = {
      REDIS_SEEDS: redisCluster.seeds,
      JWT_KEY_DIR: keyDir,
      PARTITIONS: String(PARTITIONS),
      COORDINATORS: 'c1,c2,c3',
      // Voters are few and reused; the per-IP limit is low so the one "hot" source IP
      // of the generator meets 429s now and then.
      RATE_LIMIT_VOTER: '1000000',
      RATE_LIMIT_IP: '2',
      RATE_LIMIT_WINDOW_MS: '10000',
      // The few tokens read thousands of times: keep reads from being all 429s, but let
      // the hot source IP meet the per-address read limit now and then.
      RATE_LIMIT_READ: '1000000',
      RATE_LIMIT_AUDIT: '1000000',
      RATE_LIMIT_READ_IP: '20',
      // A vote is answered 202 only once a replica confirmed it, else 503: with both
      // jest workers busy a healthy replica can take longer than the default 250 ms.
      // Wait longer here, so that every answer the fuzzer sees is a verdict on its input.
      SUBMIT_WAIT_MS: '3000',
      // Likewise a user creation's or login's scrypt can queue for seconds behind the
      // other jest worker: past the default 5 s request deadline it would be a 503.
      REQUEST_DEADLINE_MS: '20000',
    };
    Object.assign(process.env, env);
    for (const r of ROUTES) {
      if (!handlers.has(r.module)) {
        const mod = (await import(`../../functions/${r.module}`)) as { handler: Handler };
        handlers.set(r.module, mod.handler);
      }
    }
    const lib = await import('../../functions/lib/redis');
    closeHandlerRedis = () => lib.redis().disconnect();
    probe = createRedisCluster(parseSeeds(redisCluster.seeds));

    // Tokens: valid ones of each role, and every way a token can be wrong.
    const now = Math.floor(Date.now() / 1000);
    const mint = (claims: Record<string, unknown>, opts: Record<string, unknown> = {}) =>
      mintToken(claims as { sub: string; role: string }, { keyDir, ttlS: 3600, ...opts });
    const valid = async (sub: string, role: Role) =>
      tokens.push({ label: `${role}:${sub}`, token: await mint({ sub, role }), role });
    await valid('fz-admin', 'admin');
    await valid('fz-auditor', 'auditor');
    // A trustee of no election: the ceremony and decryption routes must refuse it cleanly.
    await valid('fz-trustee', 'trustee');
    for (let i = 0; i < 4; i++) await valid(`fz-voted-${i}`, 'voter');
    for (let i = 0; i < 12; i++) await valid(`fz-fresh-${i}`, 'voter');
    await valid('fz-eligible-0', 'voter');
    const voterToken = await mint({ sub: 'fz-forger', role: 'voter' });
    const [h, , s] = voterToken.split('.');
    const bad: [string, string][] = [
      ['expired', await mint({ sub: 'fz-x', role: 'admin' }, { iat: now - 7200, exp: now - 3600 })],
      ['not-yet-valid', await mint({ sub: 'fz-x', role: 'admin', nbf: now + 3600 })],
      ['wrong-issuer', await mint({ sub: 'fz-x', role: 'admin' }, { issuer: 'someone-else' })],
      ['wrong-audience', await mint({ sub: 'fz-x', role: 'admin' }, { audience: 'another-api' })],
      ['other-key', await mint({ sub: 'fz-x', role: 'admin' }, { keyDir: otherKeyDir })],
      ['unknown-role', await mint({ sub: 'fz-x', role: 'superuser' })],
      ['no-sub', await mint({ sub: undefined, role: 'admin' })],
      ['empty-sub', await mint({ sub: '', role: 'admin' })],
      [
        'alg-none',
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'x', role: 'admin', exp: now + 99 })}.`,
      ],
      [
        'tampered',
        `${h}.${b64url({ sub: 'fz-forger', role: 'admin', iss: 'quorumvote-local', aud: 'quorumvote', iat: now, exp: now + 3600 })}.${s}`,
      ],
      [
        'hs256',
        await new SignJWT({ sub: 'x', role: 'admin' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('quorumvote-local')
          .setAudience('quorumvote')
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(randomBytes(32)),
      ],
      ['garbage', 'abc.def.ghi'],
      ['huge', `${'a'.repeat(9000)}.b.c`],
      ['not-a-jwt', 'hello'],
    ];
    for (const [label, token] of bad) tokens.push({ label, token });

    // Elections the fuzz aims at, in every state, and votes to look up.
    const admin = tokens[0]!;
    const create = async (extra: Record<string, unknown> = {}) => {
      const r = await call('createElection', {
        token: admin,
        body: JSON.stringify({
          title: 'Fuzz',
          options: OPTION_IDS.map((id) => ({ id, label: id })),
          ...extra,
        }),
      });
      expect(r.status).toBe(201);
      return r.body.id as string;
    };
    const open = async (id: string) =>
      expect((await call('openElection', { token: admin, params: { id } })).status).toBe(200);
    ids['open'] = await create();
    await open(ids['open']);
    ids['draft'] = await create();
    ids['closed'] = await create();
    await open(ids['closed']);
    ids['restricted'] = await create({ voters: ['fz-eligible-0', 'fz-voted-0'] });
    await open(ids['restricted']);
    for (const name of ['spare1', 'spare2', 'spare3']) ids[name] = await create();
    await open(ids['spare2']!);
    for (let i = 0; i < 4; i++) {
      const r = await call('submitVote', {
        token: tokens.find((t) => t.label === `voter:fz-voted-${i}`)!,
        params: { id: ids['open'] },
        headers: { 'Idempotency-Key': `fz-key-${i}` },
        body: JSON.stringify({ optionId: OPTION_IDS[i % 2] }),
      });
      expect(r.status).toBe(202);
      voteIds.push(r.body.voteId!);
    }
    expect((await call('closeElection', { token: admin, params: { id: ids['closed'] } })).status).toBe(200);
    const user = await call('createUser', {
      token: admin,
      body: JSON.stringify({ username: 'fz-user', password: 'correct horse battery', role: 'voter' }),
    });
    expect(user.status).toBe(201);
    await secretWorld(admin, open);
    baseline = await keyspace(probe);
  }, 120000);

  /**
   * Secret-ballot elections for their own phase: a draft whose ceremony waits for a
   * second trustee who never comes, and an open one (one trustee, its ceremony run here
   * through the handlers), with real bodies made for them: commitments, voter keys,
   * ballots, challenges, ceremony messages, a decryption share.
   */
  async function secretWorld(admin: TokenCase, open: (id: string) => Promise<void>): Promise<void> {
    const trustee = tokens.find((t) => t.label === 'trustee:fz-trustee')!;
    const create = async (trustees: string[]): Promise<Election> => {
      const r = await call('createElection', {
        token: admin,
        body: JSON.stringify({
          title: 'Fuzz secret',
          options: OPTION_IDS.map((id) => ({ id, label: id })),
          ballot: 'secret',
          trustees,
          threshold: 1,
        }),
      });
      expect(r.status).toBe(201);
      return r.body as unknown as Election;
    };
    const draft = await create(['fz-trustee', 'fz-trustee-2']);
    const opened = await create(['fz-trustee']);
    const keys = newTrusteeKeys(opened, 1);
    const step = async (name: string, token: TokenCase, body?: unknown) => {
      const r = await call(name, {
        token,
        params: { id: opened.id },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect({ name, status: r.status }).toEqual({ name, status: 200 });
    };
    await step('publishCommitments', trustee, {
      coefficients: keys.commitment.coefficients,
      proofs: keys.commitment.proofs,
      transportKey: keys.transport.publicKey,
    });
    await step('dealShares', trustee, { shares: [] });
    await step('finishCeremony', admin);
    await open(opened.id);
    const election = (await call('getElection', { token: admin, params: { id: opened.id } }))
      .body as unknown as Election;
    secretIds['secretDraft'] = draft.id;
    secretIds['secretOpen'] = opened.id;
    secretIds['open'] = ids['open']!; // an open-ballot election: 409 not_secret
    const h = (n: number) => randomBytes(n).toString('hex');
    const draftKeys = [1, 2].map((i) => newTrusteeKeys(draft, i));
    const voters = [0, 1, 2].map(() => generateVoterKey());
    const bodies: Record<string, unknown[]> = {
      publishCommitments: draftKeys.map((k) => ({
        coefficients: k.commitment.coefficients,
        proofs: k.commitment.proofs,
        transportKey: k.transport.publicKey,
      })),
      dealShares: [{ shares: [{ to: 2, nonce: h(12), ciphertext: h(48) }] }],
      complain: [{ against: 2 }],
      revealShare: [{ to: 2, share: h(32) }],
      registerVoterKey: voters.map((k) => ({ publicKey: toHex(k.publicKey) })),
      submitVote: voters.map((k, i) => ({
        ballot: makeBallot(election, [i % 2, 1 - (i % 2)], k.secretKey).ballot,
      })),
      // Challenges, and the same with an opening that does not match (422 bad_opening).
      spoilBallot: voters.flatMap((k) => {
        const c = makeBallot(election, [1, 0], k.secretKey);
        return [c, { ...c, opening: { ...c.opening, plaintexts: [0, 1] } }];
      }),
      postDecryptionShare: [
        { shareKey: h(32), values: [0, 1].map(() => ({ share: h(32), proof: { c: h(32), v: h(32) } })) },
      ],
    };
    for (const [name, list] of Object.entries(bodies))
      secretBodies[name] = list.map((b) => JSON.stringify(b));
    secretValid.push(...Object.values(bodies).flat());
  }

  afterAll(async () => {
    const ms = { requestMs: Math.round(stats.requestMs), stateCheckMs: Math.round(stats.stateCheckMs) };
    process.stdout.write(`\n[http-fuzz] ${JSON.stringify({ ...stats, ...ms, keys: baseline.size })}\n`);
    process.stdout.write(`[http-fuzz] per phase ${JSON.stringify(phases)}\n`);
    await offline?.stop();
    closeHandlerRedis();
    probe?.disconnect();
    await redisCluster?.stop();
    for (const d of [keyDir, otherKeyDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const { voteBody, electionBody, userBody, credentialsBody, mixed } = fuzzArbitraries({
    ids,
    voteIds,
    tokens,
    optionIds: OPTION_IDS,
  });

  const secret = fuzzArbitraries({
    ids: secretIds,
    voteIds,
    tokens,
    optionIds: OPTION_IDS,
    validBodies: secretBodies,
  });
  /** A body made for a secret route with one value inside it (any depth) replaced by junk or dropped. */
  const secretJunkBody = fc
    .tuple(fc.nat(), fc.nat(), fc.jsonValue({ maxDepth: 2 }), fc.boolean())
    .map(([b, at, junk, drop]) => {
      const body = structuredClone(secretValid[b % secretValid.length]) as Record<string | number, unknown>;
      const all = paths(body);
      const path = all[at % all.length]!;
      let o = body;
      for (const p of path.slice(0, -1)) o = o[p] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      if (drop && !Array.isArray(o)) delete o[last];
      else o[last] = junk;
      return JSON.stringify(body);
    });
  const secretRoutes = ROUTES.filter((r) =>
    [
      'getCeremony',
      'publishCommitments',
      'dealShares',
      'getMyShares',
      'acknowledgeShares',
      'complain',
      'revealShare',
      'finishCeremony',
      'registerVoterKey',
      'submitVote',
      'spoilBallot',
      'getTally',
      'postDecryptionShare',
      'getRecord',
    ].includes(r.name),
  );

  const readerAndVoterRoutes = ROUTES.filter((r) =>
    [
      'getHealth',
      'getJwks',
      'getCluster',
      'listElections',
      'getElection',
      'submitVote',
      'getVote',
      'getResults',
      'getAudit',
    ].includes(r.name),
  );
  const adminRoutes = ROUTES.filter((r) =>
    ['createUser', 'createElection', 'openElection', 'closeElection', 'resetElection'].includes(r.name),
  );
  const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2147483647);

  // Each phase must reach past the first checks: successes (and the state changes they
  // make) as well as the refusals its routes exist to give; a phase of zero requests fails.
  // The goals fit the default run counts (FUZZ_RUNS, FUZZ_HTTP_RUNS): a run cut to a few
  // requests fails them, as it should (it did not test what the file promises).
  test(`in-process: ${IN_PROCESS_RUNS} requests to the reader and voter routes`, async () => {
    await fuzzPhase(
      'reader and voter routes',
      {
        statuses: ['2xx', '409', '429'],
        codes: ['already_voted', 'rate_limited'],
        stateChanges: ['submitVote'],
      },
      mixed(readerAndVoterRoutes, [voteBody]),
      false,
      IN_PROCESS_RUNS,
    );
  }, 300000);

  test(`in-process: ${ADMIN_RUNS} requests to the admin routes`, async () => {
    await fuzzPhase(
      'admin routes',
      {
        statuses: ['2xx', '409'],
        codes: ['invalid_state'],
        // Opens and closes succeed only a few times a run (few drafts and open elections):
        // the goal names the routes that succeed dozens of times, so a healthy run meets it.
        stateChanges: ['createUser', 'createElection', 'resetElection'],
      },
      mixed(adminRoutes, [electionBody, userBody]),
      false,
      ADMIN_RUNS,
    );
  }, 300000);

  test(`in-process: ${SECRET_RUNS} requests to the secret-ballot routes`, async () => {
    await fuzzPhase(
      'secret-ballot routes',
      {
        statuses: ['2xx', '400', '409'],
        codes: ['invalid_request', 'not_secret', 'ceremony_phase'],
        someStateChange: true,
      },
      // Mostly secret bodies with one value spoiled, now and then an open ballot's.
      secret.mixed(secretRoutes, [secretJunkBody, secretJunkBody, voteBody]),
      false,
      SECRET_RUNS,
    );
  }, 300000);

  test(`in-process: ${AUTH_TOKEN_RUNS} requests to POST /auth/token`, async () => {
    await fuzzPhase(
      'POST /auth/token',
      { statuses: ['200', '401'], codes: ['invalid_credentials'] },
      mixed([route('createToken')], [credentialsBody]),
      false,
      AUTH_TOKEN_RUNS,
    );
  }, 300000);

  test(`over HTTP through serverless-offline: ${HTTP_RUNS} requests to every route`, async () => {
    offline = await startTestOffline(
      {
        JWT_KEY_DIR: keyDir,
        PARTITIONS: String(PARTITIONS),
        COORDINATORS: 'c1,c2,c3',
        // Every request over HTTP comes from 127.0.0.1.
        RATE_LIMIT_VOTER: '1000000',
        RATE_LIMIT_IP: '1000000',
        RATE_LIMIT_READ: '1000000',
        RATE_LIMIT_AUDIT: '1000000',
        RATE_LIMIT_READ_IP: '1000000',
        SUBMIT_WAIT_MS: '3000',
        // A login's scrypt (~0.4 s idle, seconds with both jest workers busy) queues behind
        // the one-at-a-time hash bound: give requests longer than the 5 s default so an
        // answer here is a verdict on the input, not on the machine's load.
        REQUEST_DEADLINE_MS: '20000',
      },
      redisCluster.seeds,
    );
    baseline = await keyspace(probe);
    const httpRoutes = ROUTES.filter((r) => r.name !== 'createToken');
    await fuzzPhase(
      'over HTTP',
      // By now the voters have voted and the admin routes closed or reset the elections:
      // new votes are rare here (the in-process phase owes them), other writes are not.
      { statuses: ['2xx', '4xx'], someStateChange: true },
      fc.oneof(
        { weight: 12, arbitrary: mixed(httpRoutes, [voteBody, electionBody, userBody]) },
        { weight: 1, arbitrary: mixed([route('createToken')], [credentialsBody]) },
      ),
      true,
      HTTP_RUNS,
    );
  }, 300000);
});
