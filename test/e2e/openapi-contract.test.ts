import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findFreePortRange } from '../../local/ports';
import { mintToken } from '../../shared/auth/tokens';
import { MAX_ROLL_BODY_BYTES } from '../../shared/roll/roll-input';
import { generateVoterKey, toHex } from '../../shared/ballots';
import type { Election } from '../../shared/elections/model';
import type { ApiCall } from '../../shared/secret/api-call';
import { ceremonyStep, decryptAndPost, newTrusteeKeys } from '../../shared/secret/trustee-client';
import { makeBallot } from '../../shared/secret/voter-client';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { maxBodyBytes } from '../helpers/fuzz-routes';
import { OpenApiContract, type Operation, repoRoot, serverlessHttpRoutes, sub } from '../helpers/openapi';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';

/**
 * docs/openapi.yaml against the running functions (serverless-offline + 3 coordinators
 * on the test Redis Cluster): a realistic flow and the error cases of API.md, where
 * every response's status, headers and body must be what the document says for its
 * operation. The document and serverless.yml must list the same routes, and every
 * documented answer must be produced at least once (except 500 and 503, which need a
 * broken stack; 503 is still produced where a dead Redis makes it cheap).
 */

type CallOpts = { token?: string; body?: unknown; headers?: Record<string, string> };
type Res = Awaited<ReturnType<Api['call']>>;

/**
 * Codes the source raises that no HTTP request can reach: `fenced` is raised only for a
 * leader's scheduled open/close (a term is passed); admin requests pass none.
 */
const UNREACHABLE_CODES = new Set(['fenced']);
/** Statuses that need a broken stack (an unexpected exception, an unreachable cluster). */
const NEEDS_BROKEN_STACK = new Set(['500', '503']);

/** A sample value for a path parameter that names nothing. */
const SAMPLE_PARAMS: Record<string, string> = {
  id: 'elzzzzzzzzzz',
  voteId: 'elzzzzzzzzzz.0.1-1',
  voterId: 'vzzzzzzzzzzz',
};
const fill = (template: string) => template.replace(/\{(\w+)\}/g, (_, name: string) => SAMPLE_PARAMS[name]!);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('docs/openapi.yaml matches the HTTP API', () => {
  const contract = new OpenApiContract();
  let cluster: TestCluster | undefined;
  let offline: TestOffline | undefined;
  let deadOffline: TestOffline | undefined;
  let api: Api;
  let deadApi: Api;
  let admin: string;
  let auditor: string;

  beforeAll(async () => {
    const keyDir = testKeyDir();
    const deadPort = await findFreePortRange(1);
    [cluster, deadOffline] = await Promise.all([
      TestCluster.start(3),
      startTestOffline({ JWT_KEY_DIR: keyDir }, `127.0.0.1:${deadPort}`),
    ]);
    offline = await startTestOffline({
      JWT_KEY_DIR: keyDir,
      ...cluster.offlineEnv(),
      RATE_LIMIT_VOTER: '8',
      // Read buckets that hardly refill during the run, so one reader can empty its own.
      RATE_LIMIT_READ_WINDOW_MS: '3600000',
      RATE_LIMIT_READ_IP: '1000000',
      // Three first joins per address and election, so one poll can run out (429).
      RATE_LIMIT_JOIN_IP: '3',
      QV_TEST_MODE: '1', // the contract test resets a closed, counted election
      // A sign-in's scrypt can queue for seconds on a busy machine: answers about the
      // input, not 503s (the dead stack below keeps the default to produce its 503s).
      REQUEST_DEADLINE_MS: '20000',
    });
    api = makeApi(offline.httpUrl, keyDir);
    deadApi = makeApi(deadOffline.httpUrl, keyDir, { voteAttempts: 1 }); // it wants the 503s
    admin = await api.token('ct-admin', 'admin');
    auditor = await api.token('ct-auditor', 'auditor');
    await cluster.waitForLeader();
  }, 120000);

  afterAll(async () => {
    await Promise.all([offline?.stop(), deadOffline?.stop(), cluster?.stop()]);
  });

  /**
   * Every contract problem of every exchange of the current test, kept even when the
   * request was a poll inside `eventually()` that retried past it (a poll retries on
   * any throw, so an expect inside it alone would hide a wrong middle answer).
   */
  const problems: string[] = [];
  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  /** One request; its response must match the document (checked now and after the test). */
  async function call(method: string, path: string, opts: CallOpts = {}): Promise<Res> {
    const res = await api.call(method, path, opts);
    const found = contract.check(method, path, res, opts.body);
    problems.push(...found);
    expect(found).toEqual([]);
    return res;
  }

  /** One request that must fail with this status and code (and match the document). */
  async function fails(method: string, path: string, opts: CallOpts, status: number, code: string) {
    const res = await call(method, path, opts);
    expect({ request: `${method} ${path}`, status: res.status, code: res.body?.error?.code }).toEqual({
      request: `${method} ${path}`,
      status,
      code,
    });
    return res;
  }

  const yesNo = [
    { id: 'yes', label: 'Yes' },
    { id: 'no', label: 'No' },
  ];

  async function openElection(extra: Record<string, unknown> = {}): Promise<string> {
    const created = await call('POST', '/elections', {
      token: admin,
      body: { title: 'Contract', options: yesNo, ...extra },
    });
    expect(created.status).toBe(201);
    expect((await call('POST', `/elections/${created.body.id}/open`, { token: admin })).status).toBe(200);
    return created.body.id;
  }

  test('the document is OpenAPI 3.1 with resolvable refs, unique operation ids and declared path parameters', () => {
    expect(String(contract.doc['openapi'])).toMatch(/^3\.1\.\d+$/);
    const broken = contract.refs().filter(({ ref }) => {
      try {
        contract.at(ref);
        return false;
      } catch {
        return true;
      }
    });
    expect(broken).toEqual([]);
    const ids = contract.operations.map((o) => o.operationId);
    expect(ids.filter((id) => !id)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of contract.operations) {
      const inTemplate = [...o.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = o.parameters
        .filter((p) => p['in'] === 'path')
        .map((p) => p['name'])
        .sort();
      expect({ op: o.key, params: declared }).toEqual({ op: o.key, params: inTemplate });
      expect({ op: o.key, success: o.statuses.some((s) => s.startsWith('2')) }).toEqual({
        op: o.key,
        success: true,
      });
      // Compiling every response (and request) schema catches unknown keywords and bad refs.
      for (const status of o.statuses) {
        const responses = o.op['responses'] as Record<string, unknown>;
        const resp = contract.deref(responses[status], `${o.at}${sub(['responses', status])}`);
        for (const type of Object.keys((resp.value['content'] as object | undefined) ?? {})) {
          expect(() => contract.validator(`${resp.where}${sub(['content', type, 'schema'])}`)).not.toThrow();
        }
      }
      if (o.requestSchema) expect(() => contract.validator(o.requestSchema!)).not.toThrow();
    }
    const components = contract.doc['components'] as { schemas: Record<string, unknown> };
    for (const name of Object.keys(components.schemas)) {
      expect(() => contract.validator(`#/components/schemas/${name}`)).not.toThrow();
    }
  });

  test('every httpApi route of serverless.yml is documented, and nothing else', () => {
    expect(contract.routes()).toEqual(serverlessHttpRoutes());
  });

  test('every error code the source raises is in ErrorCode, and API.md’s codes are all there', () => {
    const documented = (contract.at('#/components/schemas/ErrorCode') as { enum: string[] }).enum;
    const raised = new Set<string>();
    for (const file of [
      ...sourceFiles(join(repoRoot, 'functions')),
      ...sourceFiles(join(repoRoot, 'shared')),
    ]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/ApiError\(\s*\d{3},\s*'([a-z_]+)'/g))
        raised.add(m[1]!);
    }
    // shared/errors.ts's helpers (badRequest, notFound...) spell their codes the same way.
    expect(raised).toContain('invalid_request');
    const missing = [...raised].filter((c) => !documented.includes(c) && !UNREACHABLE_CODES.has(c));
    expect(missing).toEqual([]);
    const apiMd = [
      'invalid_request',
      'invalid_option',
      'unauthorized',
      'invalid_credentials',
      'forbidden',
      'not_eligible',
      'not_found',
      'already_voted',
      'election_not_open',
      'invalid_state',
      'user_exists',
      'payload_too_large',
      'unsupported_media_type',
      'rate_limited',
      'unavailable',
    ];
    expect(apiMd.filter((c) => !documented.includes(c))).toEqual([]);
  });

  test('public endpoints: health, ping, JWKS, the HTML client', async () => {
    const health = await call('GET', '/health', { headers: { 'x-request-id': 'contract-1' } });
    expect(health.status).toBe(200);
    const ping = await call('GET', '/ping');
    expect([ping.status, ping.body]).toEqual([200, { pong: true }]);
    expect(health.headers.get('x-request-id')).toBe('contract-1');
    const jwks = await call('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys[0]).toMatchObject({ alg: 'EdDSA', crv: 'Ed25519', use: 'sig' });
    const page = await call('GET', '/client');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
  });

  test('identity: create a user, sign in, and the identity errors', async () => {
    const username = `ct_${Math.random().toString(36).slice(2, 10)}`;
    const created = await call('POST', '/users', {
      token: admin,
      body: { username, password: 'correct-horse-1', role: 'voter' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username, role: 'voter' });
    await fails(
      'POST',
      '/users',
      { token: admin, body: { username: username.toUpperCase(), password: 'another-pass', role: 'voter' } },
      409,
      'user_exists',
    );
    const badRole = await fails(
      'POST',
      '/users',
      { token: admin, body: { username: `${username}x`, password: 'correct-horse-1', role: 'root' } },
      400,
      'invalid_request',
    );
    expect(badRole.body.error.details).toEqual({ field: 'role' });
    await fails(
      'POST',
      '/users',
      { token: admin, body: { username: `${username}y`, password: 'short', role: 'voter' } },
      400,
      'invalid_request',
    );

    const signedIn = await call('POST', '/auth/token', { body: { username, password: 'correct-horse-1' } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toMatchObject({ role: 'voter', sub: created.body.id, tokenType: 'Bearer' });
    await fails(
      'POST',
      '/auth/token',
      { body: { username, password: 'wrong-horse-1' } },
      401,
      'invalid_credentials',
    );
    await fails(
      'POST',
      '/auth/token',
      { body: { username: 'nobody_here', password: 'whatever-1' } },
      401,
      'invalid_credentials',
    );
    await fails('POST', '/auth/token', { body: { username } }, 400, 'invalid_request');
    await fails('POST', '/auth/token', { body: '{"username":' }, 400, 'invalid_request');

    // The issued token works: this user votes.
    const id = await openElection();
    const vote = await call('POST', `/elections/${id}/votes`, {
      token: signedIn.body.token,
      body: { optionId: 'yes' },
    });
    expect(vote.status).toBe(202);
  });

  test('identity: login back-off, ending sessions, disabling a user', async () => {
    const username = `ct_${Math.random().toString(36).slice(2, 10)}`;
    const created = await call('POST', '/users', {
      token: admin,
      body: { username, password: 'correct-horse-2', role: 'voter' },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const creds = { username, password: 'correct-horse-2' };
    const token = (await call('POST', '/auth/token', { body: creds })).body.token as string;
    expect((await call('GET', '/elections', { token })).status).toBe(200);

    const revoked = await call('POST', `/users/${id}/revoke-sessions`, { token: admin });
    expect(revoked.body).toMatchObject({ id, disabled: false, sessionVersion: 1 });
    // At once, on every function: no cache lets the old token through.
    await fails('GET', '/elections', { token }, 401, 'unauthorized');
    expect((await call('POST', `/users/${id}/disable`, { token: admin })).body.disabled).toBe(true);
    await fails('POST', '/auth/token', { body: creds }, 403, 'user_disabled');
    expect((await call('POST', `/users/${id}/enable`, { token: admin })).body.disabled).toBe(false);
    expect((await call('POST', '/auth/token', { body: creds })).status).toBe(200);
    for (const action of ['revoke-sessions', 'disable', 'enable']) {
      await fails('POST', `/users/${'x'.repeat(129)}/${action}`, { token: admin }, 400, 'invalid_request');
    }

    // Five wrong passwords, then the user name backs off.
    for (let i = 0; i < 5; i++) {
      await fails(
        'POST',
        '/auth/token',
        { body: { username, password: 'wrong-horse-2' } },
        401,
        'invalid_credentials',
      );
    }
    const limited = await fails('POST', '/auth/token', { body: creds }, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  test('elections, votes, results and audit through a whole election', async () => {
    // Create, read, list.
    const created = await call('POST', '/elections', {
      token: admin,
      body: {
        title: '  Board  ',
        options: yesNo,
        closesAt: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: 'Board', status: 'draft' });
    const id: string = created.body.id;
    expect((await call('GET', `/elections/${id}`, { token: auditor })).body.id).toBe(id);
    const list = await call('GET', '/elections', { token: auditor });
    expect(list.body.elections.map((e: { id: string }) => e.id)).toContain(id);

    // A draft takes no votes and cannot be closed.
    const alice = await api.token(`ct-alice-${id}`, 'voter');
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: alice, body: { optionId: 'yes' } },
      409,
      'election_not_open',
    );
    await fails('POST', `/elections/${id}/close`, { token: admin }, 409, 'invalid_state');

    // Open (twice: idempotent).
    expect((await call('POST', `/elections/${id}/open`, { token: admin })).body.status).toBe('open');
    expect((await call('POST', `/elections/${id}/open`, { token: admin })).body.status).toBe('open');

    // Vote, repeat with the same key, vote again with another key.
    const first = await call('POST', `/elections/${id}/votes`, {
      token: alice,
      body: { optionId: 'yes' },
      headers: { 'Idempotency-Key': 'ct-key-1' },
    });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBe('false');
    const repeat = await call('POST', `/elections/${id}/votes`, {
      token: alice,
      body: { optionId: 'yes' },
      headers: { 'Idempotency-Key': 'ct-key-1' },
    });
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    // The same key with another choice is refused: the key is bound to its request.
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: alice, body: { optionId: 'no' }, headers: { 'Idempotency-Key': 'ct-key-1' } },
      422,
      'idempotency_key_reused',
    );
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: alice, body: { optionId: 'no' }, headers: { 'Idempotency-Key': 'ct-key-2' } },
      409,
      'already_voted',
    );

    // The vote's status until it is finalized (every poll is checked).
    const { voteId, receipt } = first.body;
    const final = await eventually(
      async () => {
        const s = await call('GET', `/votes/${voteId}`, { token: alice });
        return s.body.status === 'finalized' ? s.body : undefined;
      },
      15000,
      'vote finalized',
    );
    expect(final).toMatchObject({ voteId, electionId: id, receipt, optionId: 'yes' });
    expect((await call('GET', `/votes/${voteId}`, { token: auditor })).status).toBe(200);
    const bob = await api.token(`ct-bob-${id}`, 'voter');
    await fails('GET', `/votes/${voteId}`, { token: bob }, 403, 'forbidden');
    await fails('GET', `/votes/${id}.0.1-1`, { token: bob }, 404, 'not_found');
    await fails('GET', '/votes/not-a-vote-id', { token: bob }, 404, 'not_found');

    // Submission errors (another voter, to stay under the rate limit).
    const dave = await api.token(`ct-dave-${id}`, 'voter');
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: dave, body: { optionId: 'maybe' } },
      400,
      'invalid_option',
    );
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: dave, body: '{"optionId":' },
      400,
      'invalid_request',
    );
    await fails('POST', `/elections/${id}/votes`, { token: dave }, 400, 'invalid_request');
    const extra = await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: dave, body: { optionId: 'no', weight: 2 } },
      400,
      'invalid_request',
    );
    expect(extra.body.error.details).toEqual({ fields: ['weight'] });
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: dave, body: { optionId: 'no' }, headers: { 'Idempotency-Key': 'has space' } },
      400,
      'invalid_request',
    );
    expect(
      (await call('POST', `/elections/${id}/votes`, { token: bob, body: { optionId: 'no' } })).status,
    ).toBe(202);

    // Live results.
    const live = await eventually(
      async () => {
        const r = await call('GET', `/elections/${id}/results`, { token: bob });
        return r.body.finalized === 2 && r.body.pending === 0 ? r.body : undefined;
      },
      15000,
      'two votes finalized',
    );
    expect(live).toMatchObject({ status: 'open', totals: { yes: 1, no: 1 }, final: false });

    // Close (twice: idempotent); no more votes; it cannot reopen; the result is final.
    expect((await call('POST', `/elections/${id}/close`, { token: admin })).body.status).toBe('closed');
    expect((await call('POST', `/elections/${id}/close`, { token: admin })).body.status).toBe('closed');
    const carol = await api.token(`ct-carol-${id}`, 'voter');
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: carol, body: { optionId: 'no' } },
      409,
      'election_not_open',
    );
    await fails('POST', `/elections/${id}/open`, { token: admin }, 409, 'invalid_state');
    const closed = await eventually(
      async () => {
        const r = await call('GET', `/elections/${id}/results`, { token: auditor });
        return r.body.final ? r.body : undefined;
      },
      15000,
      'final result',
    );
    expect(closed).toMatchObject({ status: 'closed', totals: { yes: 1, no: 1 }, pending: 0 });

    // The audit log, one entry per page to follow the cursor.
    const entries: { receipt: string }[] = [];
    let cursor: string | null = '';
    for (let pages = 0; cursor !== null && pages < 50; pages++) {
      const page: Res = await call(
        'GET',
        `/elections/${id}/audit?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        {
          token: bob,
        },
      );
      entries.push(...page.body.entries);
      cursor = page.body.nextCursor;
    }
    expect(cursor).toBeNull();
    expect(entries.map((e) => e.receipt)).toContain(receipt);
    expect(entries).toHaveLength(2);
    await fails('GET', `/elections/${id}/audit?limit=0`, { token: bob }, 400, 'invalid_request');
    await fails('GET', `/elections/${id}/audit?limit=abc`, { token: bob }, 400, 'invalid_request');
    await fails('GET', `/elections/${id}/audit?cursor=zz`, { token: bob }, 400, 'invalid_request');

    // Reset (non-production) clears the votes.
    const reset = await call('POST', `/elections/${id}/reset`, { token: admin });
    expect(reset.body).toMatchObject({ id, reset: true });
    expect((await call('GET', `/elections/${id}/results`, { token: admin })).body.finalized).toBe(0);
  });

  test('election options: voter lists, hidden totals, invalid elections', async () => {
    const restricted = await openElection({ voters: ['ct-eligible'] });
    const outsider = await api.token('ct-outsider', 'voter');
    await fails(
      'POST',
      `/elections/${restricted}/votes`,
      { token: outsider, body: { optionId: 'yes' } },
      403,
      'not_eligible',
    );
    const eligible = await api.token('ct-eligible', 'voter');
    expect(
      (await call('POST', `/elections/${restricted}/votes`, { token: eligible, body: { optionId: 'yes' } }))
        .status,
    ).toBe(202);

    const hidden = await openElection({ hideTotalsUntilClosed: true });
    const r = await call('GET', `/elections/${hidden}/results`, { token: admin });
    expect(r.body).toMatchObject({ hidden: true, totals: {} });

    const bad: [string, unknown, string?][] = [
      ['one option', { title: 't', options: [{ id: 'a', label: 'A' }] }, 'options'],
      [
        'duplicate ids',
        {
          title: 't',
          options: [
            { id: 'a', label: 'A' },
            { id: 'a', label: 'B' },
          ],
        },
        'options',
      ],
      ['blank title', { title: '  ', options: yesNo }, 'title'],
      [
        'closes before it opens',
        { title: 't', options: yesNo, opensAt: '2030-01-02T00:00:00Z', closesAt: '2030-01-01T00:00:00Z' },
        'closesAt',
      ],
      ['unknown field', { title: 't', options: yesNo, quorum: 3 }],
      ['not an object', [1, 2]],
    ];
    for (const [name, body, field] of bad) {
      const res = await fails('POST', '/elections', { token: admin, body }, 400, 'invalid_request');
      if (field) expect({ name, details: res.body.error.details }).toEqual({ name, details: { field } });
    }
  });

  test('code-access elections: join code, POST /join, votes of joined devices, and the join errors', async () => {
    const device = () => randomBytes(16).toString('base64url');
    const created = await call('POST', '/elections', {
      token: admin,
      body: { title: 'Live poll', options: yesNo, access: 'code' },
    });
    expect(created.body).toMatchObject({ access: 'code', joined: 0 });
    const { id, joinCode } = created.body as { id: string; joinCode: string };
    expect((await call('POST', `/elections/${id}/open`, { token: admin })).status).toBe(200);
    const phone = device();
    const joined = await call('POST', '/join', { body: { code: joinCode, device: phone } });
    expect(joined.body).toMatchObject({ role: 'voter', electionId: id });
    const again = await call('POST', '/join', { body: { code: joinCode.toLowerCase(), device: phone } });
    expect(again.body.sub).toBe(joined.body.sub);
    const seen = await call('GET', `/elections/${id}`, { token: admin });
    expect(seen.body).toMatchObject({ access: 'code', joinCode, joined: 1 });
    expect(seen.body.joinLink).toMatch(new RegExp(`^http://[^/]+/#/join/${joinCode}$`));
    expect(
      (await call('POST', `/elections/${id}/votes`, { token: joined.body.token, body: { optionId: 'yes' } }))
        .status,
    ).toBe(202);
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: await api.token(`ct-account-${id}`, 'voter'), body: { optionId: 'yes' } },
      403,
      'not_joined',
    );

    await fails('POST', '/join', { body: { code: '00000000', device: device() } }, 404, 'unknown_code');
    await fails('POST', '/join', { body: { code: joinCode, device: 'short' } }, 400, 'invalid_request');
    await fails(
      'POST',
      '/elections',
      { token: admin, body: { title: 't', options: yesNo, access: 'code', voters: ['usr_x'] } },
      400,
      'invalid_request',
    );
    // Three first joins per address and election (this stack's setting): the second
    // device above was the same, so two more new ones pass and the next is refused.
    for (let i = 0; i < 2; i++) {
      expect((await call('POST', '/join', { body: { code: joinCode, device: device() } })).status).toBe(200);
    }
    const limited = await fails(
      'POST',
      '/join',
      { body: { code: joinCode, device: device() } },
      429,
      'rate_limited',
    );
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // An admin disables the joined identity: it cannot join again.
    expect((await call('POST', `/users/${joined.body.sub}/disable`, { token: admin })).status).toBe(200);
    await fails('POST', '/join', { body: { code: joinCode, device: phone } }, 403, 'user_disabled');
    expect((await call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    await fails('POST', '/join', { body: { code: joinCode, device: device() } }, 409, 'election_not_open');
  });

  test('voter rolls: import, list, voting credentials, reissue, revoke, GET /users, and their errors', async () => {
    const username = `ct-roll-${randomBytes(4).toString('hex')}`;
    const listed = await call('POST', '/users', {
      token: admin,
      body: { username, password: 'correct-horse-3', role: 'voter' },
    });
    expect(listed.status).toBe(201);
    const users = await call('GET', `/users?q=${username}&limit=5`, { token: admin });
    expect(users.body.users).toEqual([expect.objectContaining({ username, role: 'voter' })]);
    await fails('GET', '/users?limit=0', { token: admin }, 400, 'invalid_request');

    const id = (await call('POST', '/elections', { token: admin, body: { title: 'Roll', options: yesNo } }))
      .body.id as string;
    const refused = await fails(
      'POST',
      `/elections/${id}/roll`,
      { token: admin, body: { csv: 'name,email\nAda,ada@example.org\nBo,not-an-email\n' } },
      400,
      'invalid_roll',
    );
    expect(refused.body.error.details).toEqual([expect.objectContaining({ line: 3 })]);
    const imported = await call('POST', `/elections/${id}/roll`, {
      token: admin,
      body: {
        voters: [
          { name: 'Ada', email: 'ada@example.org' },
          { name: 'Bo', externalId: 'M-2', weight: 2 },
          { username },
        ],
      },
    });
    expect(imported.status).toBe(201);
    expect(imported.body.imported).toBe(3);
    const [ada, bo, byName] = imported.body.voters as { voterId: string; credential?: string }[];
    expect(ada!.credential).toMatch(new RegExp(`^${id}\\.`));
    expect(byName!.credential).toBeUndefined();
    const page = await call('GET', `/elections/${id}/roll?limit=2`, { token: admin });
    expect(page.body.voters).toHaveLength(2);
    await fails('GET', `/elections/${id}/roll?limit=x`, { token: admin }, 400, 'invalid_request');

    expect((await call('POST', `/elections/${id}/open`, { token: admin })).status).toBe(200);
    const signedIn = await call('POST', '/auth/credential', { body: { credential: ada!.credential } });
    expect(signedIn.body).toMatchObject({ role: 'voter', electionId: id });
    expect(
      (
        await call('POST', `/elections/${id}/votes`, {
          token: signedIn.body.token,
          body: { optionId: 'yes' },
        })
      ).status,
    ).toBe(202);
    // Ada's token is for this election only.
    const other = await openElection();
    for (const path of ['', '/audit', '/ceremony', '/record', '/results', '/tally']) {
      await fails('GET', `/elections/${other}${path}`, { token: signedIn.body.token }, 403, 'wrong_election');
    }
    // Another voter account is not on this roll.
    await fails(
      'POST',
      `/elections/${id}/votes`,
      { token: await api.token(`ct-outsider-${id}`, 'voter'), body: { optionId: 'no' } },
      403,
      'not_on_roll',
    );

    const reissued = await call('POST', `/elections/${id}/roll/${bo!.voterId}/reissue`, { token: admin });
    expect(reissued.body.credential).not.toBe(bo!.credential);
    await fails(
      'POST',
      '/auth/credential',
      { body: { credential: bo!.credential } },
      401,
      'invalid_credentials',
    );
    const revoked = await call('POST', `/elections/${id}/roll/${bo!.voterId}/revoke`, { token: admin });
    expect(revoked.body).toMatchObject({ voterId: bo!.voterId, credential: 'revoked' });
    await fails(
      'POST',
      `/elections/${id}/roll/${byName!.voterId}/reissue`,
      { token: admin },
      409,
      'no_credential',
    );
    await fails(
      'POST',
      `/elections/${id}/roll/${byName!.voterId}/revoke`,
      { token: admin },
      409,
      'no_credential',
    );
    await fails('POST', `/elections/${id}/roll/nobody/reissue`, { token: admin }, 404, 'not_found');
    await fails('POST', '/auth/credential', { body: {} }, 400, 'invalid_request');

    expect((await call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    await fails(
      'POST',
      `/elections/${id}/roll`,
      { token: admin, body: { voters: [{ name: 'Late', email: 'late@example.org' }] } },
      409,
      'election_closed',
    );
    // Guessing credentials from one address ends in back-off (20 free failures).
    let last: Res | undefined;
    for (let i = 0; i < 25 && last?.status !== 429; i++) {
      last = await call('POST', '/auth/credential', {
        body: { credential: `${id}.${randomBytes(20).toString('base64url')}` },
      });
    }
    expect({ status: last?.status, code: last?.body?.error?.code }).toEqual({
      status: 429,
      code: 'rate_limited',
    });
  });

  test('"choose up to m": maxChoices, {optionIds}, ballots and the audit entry of an approval ballot', async () => {
    const abc = [...yesNo, { id: 'maybe', label: 'Maybe' }];
    const id = await openElection({ options: abc, maxChoices: 2 });
    expect((await call('GET', `/elections/${id}`, { token: auditor })).body.maxChoices).toBe(2);
    const single = await openElection();
    expect((await call('GET', `/elections/${single}`, { token: auditor })).body.maxChoices).toBe(1);
    for (const [body, field] of [
      [{ title: 't', options: yesNo, maxChoices: 3 }, 'maxChoices'],
      [{ title: 't', options: yesNo, maxChoices: 0 }, 'maxChoices'],
      [
        { title: 't', options: yesNo, maxChoices: 2, ballot: 'secret', trustees: ['t1'], threshold: 1 },
        'maxChoices',
      ],
    ] as const) {
      const res = await fails('POST', '/elections', { token: admin, body }, 400, 'invalid_request');
      expect(res.body.error.details).toEqual({ field });
    }
    const ann = await api.token(`ct-ann-${id}`, 'voter');
    const ben = await api.token(`ct-ben-${id}`, 'voter');
    const votes = `/elections/${id}/votes`;
    await fails('POST', votes, { token: ann, body: { optionIds: ['yes', 'yes'] } }, 400, 'duplicate_option');
    await fails(
      'POST',
      votes,
      { token: ann, body: { optionIds: abc.map((o) => o.id) } },
      400,
      'too_many_choices',
    );
    await fails('POST', votes, { token: ann, body: { optionIds: [] } }, 400, 'invalid_request');
    await fails('POST', votes, { token: ann, body: { optionIds: ['yes', 'nope'] } }, 400, 'invalid_option');
    const headers = { 'Idempotency-Key': `ct-approval-${id}` };
    const first = await call('POST', votes, { token: ann, body: { optionIds: ['maybe', 'yes'] }, headers });
    expect(first.status).toBe(202);
    const replay = await call('POST', votes, { token: ann, body: { optionIds: ['yes', 'maybe'] }, headers });
    expect(replay.body.voteId).toBe(first.body.voteId);
    await fails(
      'POST',
      votes,
      { token: ann, body: { optionIds: ['no'] }, headers },
      422,
      'idempotency_key_reused',
    );
    expect((await call('POST', votes, { token: ben, body: { optionId: 'yes' } })).status).toBe(202);
    const results = await eventually(
      async () => {
        const r = await call('GET', `/elections/${id}/results`, { token: auditor });
        return r.body.finalized === 2 && r.body.pending === 0 ? r.body : undefined;
      },
      15000,
      'two ballots finalized',
    );
    expect(results).toMatchObject({ totals: { yes: 2, no: 0, maybe: 1 }, ballots: 2 });
    const mine = await call('GET', `/votes/${first.body.voteId}`, { token: ann });
    expect(mine.body).toMatchObject({ status: 'finalized', optionIds: ['yes', 'maybe'] });
    const audit = await call('GET', `/elections/${id}/audit`, { token: auditor });
    expect(audit.body.entries.map((e: { option: string }) => e.option).sort()).toEqual(['yes', 'yes,maybe']);
  });

  test('secret ballots: ceremony, roll, spoiled ballots, casting, tally, decryption and record', async () => {
    const t1 = await api.token('ct-trustee-1', 'trustee');
    const t2 = await api.token('ct-trustee-2', 'trustee');
    const as =
      (token: string): ApiCall =>
      (method, path, body, headers) =>
        call(method, path, {
          token,
          ...(body === undefined ? {} : { body }),
          ...(headers ? { headers } : {}),
        });
    const created = await call('POST', '/elections', {
      token: admin,
      body: {
        title: 'Secret',
        options: yesNo,
        ballot: 'secret',
        trustees: ['ct-trustee-1', 'ct-trustee-2'],
        threshold: 1,
      },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    let election = created.body as Election;
    const open = await openElection(); // an open-ballot election: the secret routes refuse it (409 not_secret)
    const e = `/elections/${id}`;
    expect((await call('GET', `${e}/ceremony`, { token: auditor })).status).toBe(200);
    await fails('POST', `${e}/open`, { token: admin }, 409, 'ceremony_not_done');

    const k1 = newTrusteeKeys(election, 1);
    const k2 = newTrusteeKeys(election, 2);
    await fails('POST', `${e}/ceremony/commitments`, { token: t1, body: {} }, 400, 'invalid_request');
    await fails(
      'POST',
      `${e}/ceremony/commitments`,
      {
        token: t1,
        body: {
          coefficients: k1.commitment.coefficients,
          proofs: k2.commitment.proofs,
          transportKey: k1.transport.publicKey,
        },
      },
      422,
      'bad_commitment_proof',
    );
    expect(await ceremonyStep(as(t1), election, k1)).toBe('wait for every commitment');
    const other = newTrusteeKeys(election, 1); // trustee 1's second, different entry
    await fails(
      'POST',
      `${e}/ceremony/commitments`,
      {
        token: t1,
        body: {
          coefficients: other.commitment.coefficients,
          proofs: other.commitment.proofs,
          transportKey: other.transport.publicKey,
        },
      },
      409,
      'already_committed',
    );
    await fails('POST', `${e}/ceremony/shares`, { token: t1, body: { shares: [] } }, 409, 'ceremony_phase');
    await fails('POST', `${e}/ceremony/acknowledge`, { token: t1 }, 409, 'ceremony_phase');
    await fails('GET', `/elections/${open}/ceremony/shares`, { token: t1 }, 409, 'not_secret');
    expect(await ceremonyStep(as(t2), election, k2)).toBe('wait for every commitment');
    await fails(
      'POST',
      `${e}/ceremony/shares`,
      { token: t1, body: { shares: [{}] } },
      400,
      'invalid_request',
    );
    expect(await ceremonyStep(as(t1), election, k1)).toBe('wait for shares from 2');
    // Trustee 2 complains against 1; 1 reveals the share, which checks: not upheld.
    await fails(
      'POST',
      `${e}/ceremony/complaints`,
      { token: t2, body: { against: 9 } },
      400,
      'invalid_request',
    );
    expect((await call('POST', `${e}/ceremony/complaints`, { token: t2, body: { against: 1 } })).status).toBe(
      201,
    );
    await fails(
      'POST',
      `${e}/ceremony/complaints`,
      { token: t2, body: { against: 1 } },
      409,
      'already_complained',
    );
    await fails('POST', `${e}/ceremony/reveals`, { token: t1, body: { to: 2 } }, 400, 'invalid_request');
    const ceremony = (await call('GET', `${e}/ceremony`, { token: t1 })).body;
    expect(ceremony.complaints).toEqual([{ from: 2, against: 1, answered: false }]);
    expect(await ceremonyStep(as(t1), election, k1)).toBe('wait for shares from 2');
    await fails(
      'POST',
      `${e}/ceremony/reveals`,
      { token: t1, body: { to: 2, share: 'ab'.repeat(32) } },
      409,
      'already_answered',
    );
    expect(await ceremonyStep(as(t2), election, k2)).toBe('wait for the admin to finish');
    expect(await ceremonyStep(as(t1), election, k1)).toBe('wait for the admin to finish');
    expect((await call('GET', `${e}/ceremony/shares`, { token: t2 })).body.shares).toHaveLength(1);
    await fails('POST', `/elections/${open}/ceremony/finish`, { token: admin }, 409, 'ceremony_phase');
    const finished = await call('POST', `${e}/ceremony/finish`, { token: admin });
    expect(finished.body).toMatchObject({
      state: 'done',
      qualified: [1, 2],
      decided: [{ from: 2, against: 1, upheld: false }],
    });
    expect((await call('POST', `${e}/open`, { token: admin })).status).toBe(200);
    election = (await call('GET', e, { token: admin })).body;

    // The roll, a challenge, a cast ballot.
    const bob = await api.token(`ct-secret-voter-${id}`, 'voter');
    const key = generateVoterKey();
    await fails('POST', `${e}/voter-key`, { token: bob, body: { publicKey: 'zz' } }, 400, 'invalid_request');
    expect(
      (await call('POST', `${e}/voter-key`, { token: bob, body: { publicKey: toHex(key.publicKey) } }))
        .status,
    ).toBe(201);
    expect(
      (await call('POST', `${e}/voter-key`, { token: bob, body: { publicKey: toHex(key.publicKey) } }))
        .status,
    ).toBe(200);
    await fails(
      'POST',
      `${e}/voter-key`,
      { token: bob, body: { publicKey: toHex(generateVoterKey().publicKey) } },
      409,
      'voter_key_mismatch',
    );
    const challenged = makeBallot(election, [1, 0], key.secretKey);
    await fails(
      'POST',
      `${e}/spoiled`,
      { token: bob, body: { ballot: challenged.ballot } },
      400,
      'invalid_request',
    );
    await fails(
      'POST',
      `${e}/spoiled`,
      {
        token: bob,
        body: { ballot: challenged.ballot, opening: { ...challenged.opening, plaintexts: [0, 1] } },
      },
      422,
      'bad_opening',
    );
    expect((await call('POST', `${e}/spoiled`, { token: bob, body: challenged })).status).toBe(201);
    await fails('POST', `/elections/${open}/spoiled`, { token: bob, body: challenged }, 409, 'not_secret');
    await fails(
      'POST',
      `${e}/votes`,
      { token: bob, body: { ballot: challenged.ballot } },
      409,
      'ballot_spoiled',
    );
    await fails(
      'POST',
      `${e}/votes`,
      { token: bob, body: { ballot: { tracker: 1 } } },
      400,
      'malformed_ballot',
    );
    const cast = await call('POST', `${e}/votes`, {
      token: bob,
      body: { ballot: makeBallot(election, [0, 1], key.secretKey).ballot },
    });
    expect(cast.status).toBe(202);
    expect(cast.body.receipt).toBe(cast.body.tracker);

    // Tally and decryption.
    expect((await call('GET', `${e}/tally`, { token: auditor })).body.final).toBe(false);
    await fails('GET', `/elections/${open}/tally`, { token: auditor }, 409, 'not_secret');
    await fails(
      'POST',
      `${e}/decryption-shares`,
      { token: t1, body: { shareKey: 'ab'.repeat(32), values: [] } },
      409,
      'tally_not_final',
    );
    await eventually(
      async () => (await call('GET', `${e}/results`, { token: admin })).body.finalized === 1,
      30000,
      'the ballot counted',
    );
    expect((await call('POST', `${e}/close`, { token: admin })).status).toBe(200);
    await eventually(
      async () => (await call('GET', `${e}/tally`, { token: admin })).body.final,
      30000,
      'the tally final',
    );
    await fails('POST', `${e}/decryption-shares`, { token: t1, body: { values: 1 } }, 400, 'invalid_request');
    const tamper: ApiCall = async (method, path, body, headers) => {
      if (method !== 'POST') return as(t1)(method, path, body, headers);
      const share = JSON.parse(JSON.stringify(body));
      share.values[0].proof.c = share.values[1].proof.c;
      return as(t1)(method, path, share, headers);
    };
    await expect(decryptAndPost(tamper, election, k1)).rejects.toThrow(/422 bad_decryption_proof/);
    const published = await decryptAndPost(as(t1), election, k1);
    expect(published.decryption).toEqual({ used: [1], totals: [0, 1] });
    const results = (await call('GET', `${e}/results`, { token: admin })).body;
    expect(results).toMatchObject({ totals: { yes: 0, no: 1 }, decryption: { state: 'published' } });

    // The record, as JSON and NDJSON.
    const record = await call('GET', `${e}/record`, { token: auditor });
    expect(record.body).toMatchObject({ version: 'qv/v1', decryption: { used: [1], totals: [0, 1] } });
    const lines = await call('GET', `${e}/record`, {
      token: auditor,
      headers: { accept: 'application/x-ndjson' },
    });
    expect(String(lines.body).trim().split('\n')).toHaveLength(7);
    // The audit page of a secret election: its own entry shape (SecretAuditEntry).
    const audit = await call('GET', `${e}/audit`, { token: auditor });
    expect(audit.body.ballot).toBe('secret');
    expect(audit.body.entries).toEqual([
      expect.objectContaining({ tracker: cast.body.tracker, outcome: 'counted', tally: expect.any(Array) }),
    ]);
    expect(audit.body.entries[0]).not.toHaveProperty('option');
    await fails('GET', `/elections/${open}/record`, { token: auditor }, 409, 'not_secret');
    await fails('GET', `/elections/${open}/ceremony`, { token: auditor }, 409, 'not_secret');
  }, 60000);

  test('rate limiting answers 429 with Retry-After', async () => {
    const id = await openElection();
    const busy = await api.token(`ct-busy-${id}`, 'voter');
    const statuses: number[] = [];
    // 20 in a row: however the 10 s windows split them, one window sees more than 8.
    for (let i = 0; i < 20; i++) {
      statuses.push(
        (await call('POST', `/elections/${id}/votes`, { token: busy, body: { optionId: 'yes' } })).status,
      );
    }
    expect(statuses[0]).toBe(202);
    expect(statuses).toContain(429);
  });

  test('read routes answer 429 with Retry-After once a reader has emptied its bucket', async () => {
    const id = await openElection();
    const reader = await api.token(`ct-reader-${id}`, 'voter');
    const voted = await call('POST', `/elections/${id}/votes`, { token: reader, body: { optionId: 'yes' } });
    expect(voted.status).toBe(202);
    // One bucket for the reader's results/elections/votes reads (200 by default) ...
    let status = 200;
    for (let i = 0; i < 400 && status !== 429; i++) {
      status = (await call('GET', `/elections/${id}`, { token: reader })).status;
    }
    expect(status).toBe(429);
    for (const path of [
      '/elections',
      `/elections/${id}/results`,
      `/votes/${voted.body.voteId}`,
      `/elections/${id}/ceremony`,
      `/elections/${id}/tally`,
      `/elections/${id}/record`,
    ]) {
      const r = await fails('GET', path, { token: reader }, 429, 'rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // ... and one for its audit pages (100 by default).
    status = 200;
    for (let i = 0; i < 200 && status !== 429; i++) {
      status = (await call('GET', `/elections/${id}/audit`, { token: reader })).status;
    }
    expect(status).toBe(429);
  });

  test('GET /cluster shows three coordinators and the Redis Cluster', async () => {
    const view = await eventually(
      async () => {
        const r = await call('GET', '/cluster', { token: admin });
        return r.body.nodes.length === 3 && r.body.leader ? r.body : undefined;
      },
      10000,
      'cluster view',
    );
    expect(view.redis).toMatchObject({ state: 'ok', slotsCovered: 16384 });
  });

  test('every secured operation: 401 without a valid token, 403 for a role it does not accept', async () => {
    const expired = await mintToken(
      { sub: 'ct-late', role: 'admin' },
      { keyDir: api.keyDir, iat: 1_600_000_000, exp: 1_600_000_060 },
    );
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'ct-none', role: 'admin' })}.`;
    const secured = contract.operations.filter((o) => o.secured);
    expect(secured.length).toBeGreaterThan(0);
    for (const o of secured) {
      const path = fill(o.template);
      for (const token of [undefined, 'x.y.z', expired, unsigned]) {
        const res = await fails(o.method, path, token ? { token } : {}, 401, 'unauthorized');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="quorumvote"/);
      }
      const wrong = (['voter', 'admin', 'auditor'] as const).find(
        (r) => o.roles.length && !o.roles.includes(r),
      );
      if (wrong)
        await fails(o.method, path, { token: await api.token(`ct-${wrong}-403`, wrong) }, 403, 'forbidden');
    }
  });

  test('every operation with an id in its path: 404 not_found for an unknown one', async () => {
    const withIds = contract.operations.filter(
      (o: Operation) => o.statuses.includes('404') && o.template.includes('{'),
    );
    expect(withIds.length).toBeGreaterThan(0);
    for (const o of withIds) {
      const role = (o.roles[0] ?? 'admin') as 'voter' | 'admin' | 'auditor';
      const token = await api.token(`ct-404-${role}`, role);
      const body = o.requestSchema ? { optionId: 'yes' } : undefined;
      await fails(o.method, fill(o.template), { token, ...(body ? { body } : {}) }, 404, 'not_found');
    }
  });

  test('every operation with a body: 413 over its limit (64 KiB, a roll import 5 MiB), 415 when not JSON', async () => {
    const withBody = contract.operations.filter((o) => o.requestSchema);
    expect(withBody.length).toBeGreaterThan(0);
    for (const o of withBody) {
      const path = fill(o.template);
      const limit = maxBodyBytes(o.op, o.operationId);
      // The documented limit is the one the handler enforces.
      expect(limit).toBe(o.key === 'POST /elections/{id}/roll' ? MAX_ROLL_BODY_BYTES : 64 * 1024);
      await fails(
        o.method,
        path,
        { body: JSON.stringify({ pad: 'x'.repeat(limit + 1000) }) },
        413,
        'payload_too_large',
      );
      await fails(
        o.method,
        path,
        { body: 'hello', headers: { 'content-type': 'text/plain' } },
        415,
        'unsupported_media_type',
      );
    }
  });

  /** Requests to the serverless-offline whose Redis is dead: each must be `503 unavailable`. */
  async function expectUnavailable(cases: [string, string, CallOpts][]) {
    const voter = await deadApi.token('ct-dead', 'voter');
    const admin = await deadApi.token('ct-dead-admin', 'admin');
    const tokens: Record<string, string> = { voter, admin };
    const results = await Promise.all(
      cases.map(async ([method, path, opts]) => {
        const sent = { ...opts, ...(opts.token ? { token: tokens[opts.token] } : {}) };
        const res = await deadApi.call(method, path, sent);
        return {
          request: `${method} ${path}`,
          status: res.status,
          code: res.body?.error?.code,
          problems: contract.check(method, path, res, opts.body),
        };
      }),
    );
    expect(results).toEqual(
      cases.map(([method, path]) => ({
        request: `${method} ${path}`,
        status: 503,
        code: 'unavailable',
        problems: [],
      })),
    );
  }

  test('an unreachable Redis Cluster answers 503 unavailable with Retry-After', async () => {
    await expectUnavailable([
      ['GET', '/health', {}],
      ['GET', '/cluster', { token: 'admin' }],
    ]);
  }, 30000);

  // API.md: "cluster unavailable → 503 unavailable with Retry-After", on every route:
  // the middleware's request deadline turns a queued Redis call into a 503.
  test('routes that need Redis answer 503 with Retry-After when it is unreachable', async () => {
    await expectUnavailable([
      ['GET', '/elections', { token: 'voter' }],
      ['POST', '/auth/token', { body: { username: 'someone', password: 'whatever-1' } }],
      ['POST', '/elections/elzzzzzzzzzz/votes', { token: 'voter', body: { optionId: 'yes' } }],
    ]);
  }, 30000);

  test('every documented answer was produced (500 and most 503s need a broken stack)', () => {
    const missing = contract
      .documented()
      .filter((k) => !contract.seen.has(k) && !NEEDS_BROKEN_STACK.has(k.split(' ').pop()!));
    expect(missing).toEqual([]);
  });
});
