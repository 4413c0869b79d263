import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKeyPair } from '../../shared/auth/keys';
import { mintToken } from '../../shared/auth/tokens';
import { type Handler, type Reply, httpEvent, invoke } from '../helpers/lambda-events';
import { testRedisSeeds, uniqueNs } from '../helpers/redis';

/**
 * Issue 17 at handler level, on the run's real Redis Cluster: election-bound tokens
 * (claim `eid`, 403 `wrong_election`). The handlers run in-process with synthetic
 * HTTP API events, sharing one key folder and one set of elections.
 */
jest.setTimeout(60_000);

type Handlers = Record<
  | 'create'
  | 'open'
  | 'close'
  | 'submit'
  | 'results'
  | 'electionGet'
  | 'electionList'
  | 'rollImport'
  | 'rollList'
  | 'reissue'
  | 'revoke'
  | 'credential'
  | 'usersList',
  Handler
>;

const ns = uniqueNs('roll');
let keyDir: string;
let h: Handlers;
let disconnect: () => void;
let adminAuth: Record<string, string>;
let ipCounter = 0;
/** Every log line the functions wrote (fd 1 and 2) during this file. */
const logged: string[] = [];
/** Every credential the tests saw: none of them, nor their hashes, may be in `logged`. */
const secrets: string[] = [];
const freshIp = (): string => `10.91.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

async function call(
  handler: Handler,
  method: string,
  path: string,
  opts: Parameters<typeof httpEvent>[2] = {},
): Promise<Reply> {
  return invoke(handler, httpEvent(method, path, { sourceIp: freshIp(), ...opts }));
}

async function newElection(title: string): Promise<string> {
  const created = await call(h.create, 'POST', '/elections', {
    headers: adminAuth,
    body: {
      title,
      options: [
        { id: 'yes', label: 'Yes' },
        { id: 'no', label: 'No' },
      ],
    },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  const opened = await call(h.open, 'POST', `/elections/${id}/open`, { headers: adminAuth, params: { id } });
  expect(opened.status).toBe(200);
  return id;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const vote = (token: string, id: string, key: string, optionId = 'yes') =>
  call(h.submit, 'POST', `/elections/${id}/votes`, {
    body: { optionId },
    headers: { ...bearer(token), 'idempotency-key': key },
    params: { id },
  });

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'qv-roll-keys-'));
  ensureKeyPair({ keyDir });
  Object.assign(process.env, {
    REDIS_SEEDS: testRedisSeeds(),
    JWT_KEY_DIR: keyDir,
    COORDINATORS: 'c1,c2,c3',
    SUBMIT_WAIT_MS: '3000',
    REQUEST_DEADLINE_MS: '30000',
    // Every line the functions log, captured below: no credential may be among them.
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    WEB_ORIGIN: 'https://vote.example.org',
  });
  // pino writes with fs.writeSync on fds 1 and 2 (sonic-boom): both names of the module.
  // biome-ignore lint/style/useNodejsImportProtocol: the bare name is what sonic-boom requires
  for (const fs of new Set([require('fs'), require('node:fs')] as typeof import('node:fs')[])) {
    const writeSync = fs.writeSync;
    jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
      if (fd === 1 || fd === 2) {
        logged.push(typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8'));
        return typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).length;
      }
      return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    }) as typeof fs.writeSync);
  }
  const load = async (path: string): Promise<Handler> =>
    ((await import(path)) as { handler: Handler }).handler;
  h = {
    create: await load('../../functions/elections-create'),
    open: await load('../../functions/elections-open'),
    submit: await load('../../functions/votes-submit'),
    results: await load('../../functions/results-get'),
    electionGet: await load('../../functions/elections-get'),
    electionList: await load('../../functions/elections-list'),
    close: await load('../../functions/elections-close'),
    rollImport: await load('../../functions/roll-import'),
    rollList: await load('../../functions/roll-list'),
    reissue: await load('../../functions/roll-reissue'),
    revoke: await load('../../functions/roll-revoke'),
    credential: await load('../../functions/auth-credential'),
    usersList: await load('../../functions/users-list'),
  };
  const lib = await import('../../functions/lib/redis');
  disconnect = () => lib.redis().disconnect();
  adminAuth = bearer(await mintToken({ sub: `${ns}-admin`, role: 'admin' }, { keyDir, ttlS: 3600 }));
});

afterAll(() => {
  jest.restoreAllMocks();
  disconnect?.();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe('election-bound tokens (claim eid)', () => {
  test('vote, results and election reads: 403 wrong_election in another election, allowed in its own', async () => {
    const [a, b] = [await newElection('Bound A'), await newElection('Bound B')];
    const token = await mintToken({ sub: `${ns}-bound`, role: 'voter', eid: a }, { keyDir, ttlS: 3600 });
    const elsewhere = await vote(token, b, 'k-b');
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([403, 'wrong_election']);
    for (const route of [h.results, h.electionGet]) {
      const r = await call(route, 'GET', `/elections/${b}`, { headers: bearer(token), params: { id: b } });
      expect([r.status, r.body.error.code]).toEqual([403, 'wrong_election']);
    }
    const own = await vote(token, a, 'k-a');
    expect(own.status).toBe(202);
    const results = await call(h.results, 'GET', `/elections/${a}/results`, {
      headers: bearer(token),
      params: { id: a },
    });
    expect(results.status).toBe(200);
    const list = await call(h.electionList, 'GET', '/elections', { headers: bearer(token) });
    expect(list.body.elections.map((e: { id: string }) => e.id)).toEqual([a]);
    // An account's token (no eid) is not bound.
    const account = await mintToken({ sub: `${ns}-account`, role: 'voter' }, { keyDir, ttlS: 3600 });
    expect((await vote(account, b, 'k-acc')).status).toBe(202);
  });
});

/** The weight stored in a vote's log entry (the partition stream). */
async function storedWeight(voteId: string): Promise<number> {
  const [electionId, p, streamId] = voteId.split('.') as [string, string, string];
  const { elections } = await import('../../functions/lib/elections');
  const { redis } = await import('../../functions/lib/redis');
  const { partitionKeys } = await import('../../shared/redis/keys');
  const { decodeVoteLogEntry } = await import('../../shared/votes/vote-log');
  const e = await elections.get(electionId);
  const rows = await redis().xrange(partitionKeys(e!.tags[Number(p)]!).votes, streamId, streamId);
  return decodeVoteLogEntry(rows[0]![1]).weight;
}

const importRoll = (id: string, body: unknown) =>
  call(h.rollImport, 'POST', `/elections/${id}/roll`, { headers: adminAuth, body, params: { id } });
const listRoll = (id: string, query: Record<string, string> = {}) =>
  invoke(h.rollList, {
    ...httpEvent('GET', `/elections/${id}/roll`, { headers: adminAuth, params: { id }, sourceIp: freshIp() }),
    queryStringParameters: query,
  });
const signIn = (credential: string) =>
  call(h.credential, 'POST', '/auth/credential', { body: { credential } });

describe('voter roll import', () => {
  test('a 10,000-line roll with 3 bad lines is refused with those line numbers and nothing stored; the good one imports', async () => {
    const id = await newElection('Big roll');
    const rows = ['external_id,name,weight'];
    for (let i = 0; i < 10_000; i++) rows.push(`M${i},Member ${i},${(i % 3) + 1}`);
    rows[17] = 'M15,,1'; // line 18: the external id of line 17 again
    rows[4000] = 'M3999,Member 3999,0';
    rows[10_000] = 'M9999,"Member 9999,x';
    rows[10_000] = 'M9999,Member 9999,abc';
    const bad = await importRoll(id, { csv: rows.join('\r\n') });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_roll');
    expect(bad.body.error.details.map((d: { line: number }) => d.line)).toEqual([18, 4001, 10_001]);
    expect((await listRoll(id)).body.voters).toEqual([]);

    rows[17] = 'M16b,Member 16b,1';
    rows[4000] = 'M3999,Member 3999,2';
    rows[10_000] = 'M9999,Member 9999,1';
    const good = await importRoll(id, { csv: rows.join('\r\n') });
    expect(good.status).toBe(201);
    expect(good.body.imported).toBe(10_000);
    const first = good.body.voters[0];
    expect(first).toMatchObject({ externalId: 'M0', name: 'Member 0', weight: 1 });
    expect(first.link).toBe(`https://vote.example.org/#/c/${first.credential}`);
    secrets.push(first.credential, good.body.voters[9999].credential);
    const page = await listRoll(id, { limit: '2' });
    expect(page.body.voters).toEqual([
      {
        voterId: first.voterId,
        externalId: 'M0',
        name: 'Member 0',
        weight: 1,
        credential: 'active',
        voted: false,
      },
      expect.objectContaining({ externalId: 'M1', weight: 2 }),
    ]);
    const next = await listRoll(id, { limit: '2', cursor: page.body.nextCursor });
    expect(next.body.voters.map((v: { externalId: string }) => v.externalId)).toEqual(['M2', 'M3']);
    const found = await listRoll(id, { q: 'member 9999' });
    expect(found.body.voters.map((v: { externalId: string }) => v.externalId)).toEqual(['M9999']);
    // Duplicates against the stored roll are refused too, nothing added.
    const again = await importRoll(id, { voters: [{ name: 'New' }, { externalId: 'M5' }] });
    expect(again.body.error.details).toEqual([
      { line: 2, field: 'externalId', message: 'externalId is already on the roll' },
    ]);
    const admin = await call(h.electionGet, 'GET', `/elections/${id}`, {
      headers: adminAuth,
      params: { id },
    });
    expect(admin.body.roll).toEqual({ voters: 10_000, credentialsActive: 10_000 });
  });

  test('non-admins are refused; a closed election refuses an import', async () => {
    const id = await newElection('Roll rules');
    const voter = await mintToken({ sub: `${ns}-v`, role: 'voter' }, { keyDir, ttlS: 3600 });
    const r = await call(h.rollImport, 'POST', `/elections/${id}/roll`, {
      headers: bearer(voter),
      body: { voters: [{ name: 'A' }] },
      params: { id },
    });
    expect([r.status, r.body.error.code]).toEqual([403, 'forbidden']);
    for (const route of [h.rollList, h.usersList]) {
      const res = await call(route, 'GET', `/elections/${id}/roll`, {
        headers: bearer(voter),
        params: { id },
      });
      expect(res.status).toBe(403);
    }
    await call(h.close, 'POST', `/elections/${id}/close`, { headers: adminAuth, params: { id } });
    const closed = await importRoll(id, { voters: [{ name: 'Late' }] });
    expect([closed.status, closed.body.error.code]).toEqual([409, 'election_closed']);
  });
});

describe('voting credentials', () => {
  test('a credential signs in and votes once in its election, not in another; revoked and reissued ones stop working', async () => {
    const [a, b] = [await newElection('Cred A'), await newElection('Cred B')];
    const imported = await importRoll(a, {
      voters: [{ name: 'Ann', weight: 3 }, { name: 'Ben' }, { name: 'Cy' }, { name: 'Di' }],
    });
    expect(imported.status).toBe(201);
    const [ann, ben, cy, di] = imported.body.voters;
    secrets.push(ann.credential, ben.credential, cy.credential, di.credential);

    const login = await signIn(ann.credential);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ role: 'voter', sub: ann.voterId, electionId: a, tokenType: 'Bearer' });
    const token: string = login.body.token;
    const annVote = await vote(token, a, 'ann-1');
    expect(annVote.status).toBe(202);
    // The roll entry's weight travels with the vote (counted at finalize).
    expect(await storedWeight(annVote.body.voteId)).toBe(3);
    const twice = await vote(token, a, 'ann-2');
    expect([twice.status, twice.body.error.code]).toEqual([409, 'already_voted']);
    const other = await vote(token, b, 'ann-3');
    expect([other.status, other.body.error.code]).toEqual([403, 'wrong_election']);
    const listed = await listRoll(a, { q: 'ann' });
    expect(listed.body.voters).toEqual([
      expect.objectContaining({ voterId: ann.voterId, weight: 3, voted: true }),
    ]);

    // Revoked: no sign-in, and the token it gave is refused at submit.
    const benToken = (await signIn(ben.credential)).body.token as string;
    const revoked = await call(h.revoke, 'POST', `/elections/${a}/roll/${ben.voterId}/revoke`, {
      headers: adminAuth,
      params: { id: a, voterId: ben.voterId },
    });
    expect(revoked.body).toEqual({ voterId: ben.voterId, credential: 'revoked' });
    const benAgain = await signIn(ben.credential);
    expect([benAgain.status, benAgain.body.error.code]).toEqual([401, 'invalid_credentials']);
    expect((await vote(benToken, a, 'ben-1')).status).toBe(401);

    // Reissued: the old credential and its token stop working, the new one works.
    const cyOld = (await signIn(cy.credential)).body.token as string;
    const reissued = await call(h.reissue, 'POST', `/elections/${a}/roll/${cy.voterId}/reissue`, {
      headers: adminAuth,
      params: { id: a, voterId: cy.voterId },
    });
    expect(reissued.status).toBe(200);
    secrets.push(reissued.body.credential);
    expect(reissued.body.link).toBe(`https://vote.example.org/#/c/${reissued.body.credential}`);
    expect((await signIn(cy.credential)).status).toBe(401);
    expect((await vote(cyOld, a, 'cy-1')).status).toBe(401);
    const cyNew = await signIn(reissued.body.credential);
    expect(cyNew.status).toBe(200);
    expect((await vote(cyNew.body.token, a, 'cy-2')).status).toBe(202);

    // Unknown, malformed, other election's shape: all 401 (malformed body 400).
    expect((await signIn(`${a}.${'A'.repeat(27)}`)).status).toBe(401);
    expect((await signIn('nonsense')).status).toBe(401);
    const noBody = await call(h.credential, 'POST', '/auth/credential', { body: { credential: 5 } });
    expect(noBody.status).toBe(400);
    const state = (await listRoll(a)).body.voters.map((v: { credential: string }) => v.credential);
    expect(state).toEqual(['active', 'revoked', 'active', 'active']);
    void di;
  });

  test('a non-empty roll admits only its voters (403 not_on_roll); an empty roll admits every voter account', async () => {
    const id = await newElection('Roll only');
    const outsider = await mintToken({ sub: `${ns}-outsider`, role: 'voter' }, { keyDir, ttlS: 3600 });
    const r = await importRoll(id, { voters: [{ name: 'Only' }] });
    secrets.push(r.body.voters[0].credential);
    const refused = await vote(outsider, id, 'out-1');
    expect([refused.status, refused.body.error.code]).toEqual([403, 'not_on_roll']);
    const open = await newElection('No roll');
    expect((await vote(outsider, open, 'out-2')).status).toBe(202);
  });
});

describe('GET /users and roll voters by username', () => {
  test('searchable by prefix, paginated; a listed username votes with its account', async () => {
    const { UserStore } = await import('../../shared/auth/users');
    const lib = await import('../../functions/lib/redis');
    const store = new UserStore(lib.redis(), { scrypt: { N: 1024, r: 8, p: 1 } });
    const prefix = `rl${ns.slice(5, 13)}`.toLowerCase();
    const made = [];
    for (const n of ['c', 'a', 'b']) {
      made.push(
        await store.create({ username: `${prefix}-${n}`, password: 'pw-long-enough-1', role: 'voter' }),
      );
    }
    const page1 = await invoke(h.usersList, {
      ...httpEvent('GET', '/users', { headers: adminAuth }),
      queryStringParameters: { q: prefix.toUpperCase(), limit: '2' },
    });
    expect(page1.status).toBe(200);
    expect(page1.body.users.map((u: { username: string }) => u.username)).toEqual([
      `${prefix}-a`,
      `${prefix}-b`,
    ]);
    expect(page1.body.users[0]).toEqual({
      id: made[1]!.id,
      username: `${prefix}-a`,
      role: 'voter',
      disabled: false,
    });
    const page2 = await invoke(h.usersList, {
      ...httpEvent('GET', '/users', { headers: adminAuth }),
      queryStringParameters: { q: prefix, limit: '2', cursor: page1.body.nextCursor },
    });
    expect(page2.body.users.map((u: { username: string }) => u.username)).toEqual([`${prefix}-c`]);
    expect(page2.body.nextCursor).toBeUndefined();

    const id = await newElection('By username');
    const r = await importRoll(id, {
      voters: [{ username: `${prefix}-A`, weight: 2 }, { username: `${prefix}-zz` }],
    });
    expect(r.body.error.details).toEqual([
      { line: 2, field: 'username', message: `no user is named "${prefix}-zz"` },
    ]);
    const ok = await importRoll(id, { voters: [{ username: `${prefix}-A`, weight: 2 }] });
    expect(ok.status).toBe(201);
    expect(ok.body.voters[0].credential).toBeUndefined();
    const member = await mintToken({ sub: made[1]!.id, role: 'voter' }, { keyDir, ttlS: 3600 });
    const other = await mintToken({ sub: made[0]!.id, role: 'voter' }, { keyDir, ttlS: 3600 });
    expect((await vote(member, id, 'm-1')).status).toBe(202);
    expect((await vote(other, id, 'o-1')).body.error.code).toBe('not_on_roll');
  });
});

describe('logs', () => {
  test('no credential and no credential hash appears in what the functions logged', async () => {
    const { credentialHash } = await import('../../shared/roll/credentials');
    expect(secrets.length).toBeGreaterThan(5);
    const text = logged.join('');
    // The capture works: the requests above were logged.
    expect(text).toContain('"route":"POST /auth/credential"');
    expect(text).toContain('"route":"POST /elections/{id}/roll"');
    for (const c of secrets) {
      expect(text).not.toContain(c);
      expect(text).not.toContain(c.split('.')[1]);
      expect(text).not.toContain(credentialHash(c));
    }
  });
});
