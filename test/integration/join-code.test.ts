import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { ensureKeyPair } from '../../shared/auth/keys';
import { mintToken } from '../../shared/auth/tokens';
import { joinCodePattern, newJoinCode } from '../../shared/elections/join-code';
import { JoinStore, reserveJoinCode } from '../../shared/elections/join-store';
import { newElectionId } from '../../shared/elections/model';
import { type Handler, type Reply, httpEvent, invoke } from '../helpers/lambda-events';
import { testRedis, testRedisSeeds, uniqueNs } from '../helpers/redis';

/**
 * Code-access elections at handler level against the run's real Redis Cluster: an
 * admin makes a poll with a join code, devices join it (`POST /join`) and vote with the
 * token they get. The functions are loaded twice with different join limits (modules
 * read their settings once), each instance in its own module registry:
 * - `loose`: per address 3, per election 5, per long window (a token back every few
 *   minutes, so each sequence is exact however slow the machine), no cap;
 * - `capped`: generous rates, a cap of 2 identities per election.
 */
type Fns = {
  create: Handler;
  get: Handler;
  open: Handler;
  close: Handler;
  join: Handler;
  submit: Handler;
  disconnect: () => void;
};

const WINDOW_MS = 600_000;
const ns = uniqueNs('jc');
let keyDir: string;
let loose: Fns;
let capped: Fns;
let admin: string;
let ipCounter = 0;
/** An address no other request of this file used. */
const freshIp = (): string => `10.91.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;
/** A device secret as the web app makes it: 16 random bytes, base64url (22 characters). */
const newDevice = (): string => randomBytes(16).toString('base64url');
const yesNo = [
  { id: 'yes', label: 'Yes' },
  { id: 'no', label: 'No' },
];

function load(env: Record<string, string>): Fns {
  Object.assign(process.env, env);
  let fns: Fns | undefined;
  jest.isolateModules(() => {
    const h = (m: string): Handler => require(`../../functions/${m}`).handler;
    const lib = require('../../functions/lib/redis');
    fns = {
      create: h('elections-create'),
      get: h('elections-get'),
      open: h('elections-open'),
      close: h('elections-close'),
      join: h('join'),
      submit: h('votes-submit'),
      disconnect: () => lib.redis().disconnect(),
    };
  });
  return fns!;
}

beforeAll(() => {
  keyDir = mkdtempSync(join(tmpdir(), 'qv-join-keys-'));
  ensureKeyPair({ keyDir });
  Object.assign(process.env, {
    REDIS_SEEDS: testRedisSeeds(),
    JWT_KEY_DIR: keyDir,
    COORDINATORS: 'c1,c2,c3',
    // A 202 waits for a replica; on a busy machine that can take more than 250 ms.
    SUBMIT_WAIT_MS: '3000',
    REQUEST_DEADLINE_MS: '20000',
    // Where the web app is: join links are made from it.
    WEB_ORIGIN: 'https://vote.example.org',
  });
  loose = load({
    RATE_LIMIT_JOIN_IP: '3',
    RATE_LIMIT_JOIN_ELECTION: '5',
    RATE_LIMIT_JOIN_WINDOW_MS: String(WINDOW_MS),
    JOIN_MAX_PER_ELECTION: '0',
  });
  capped = load({
    RATE_LIMIT_JOIN_IP: '100',
    RATE_LIMIT_JOIN_ELECTION: '100',
    JOIN_MAX_PER_ELECTION: '2',
  });
});

beforeAll(async () => {
  admin = await mintToken({ sub: `${ns}-admin`, role: 'admin' }, { keyDir, ttlS: 3600 });
});

afterAll(() => {
  loose?.disconnect();
  capped?.disconnect();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function createElection(body: Record<string, unknown>, fns: Fns = loose): Promise<Reply> {
  return invoke(fns.create, httpEvent('POST', '/elections', { headers: bearer(admin), body }));
}

/** A new code-access election (opened unless told otherwise): its id and join code. */
async function codePoll(fns: Fns = loose, open = true): Promise<{ id: string; code: string }> {
  const created = await createElection({ title: `Poll ${ns}`, options: yesNo, access: 'code' }, fns);
  expect(created.status).toBe(201);
  const { id, joinCode } = created.body;
  if (open) {
    const opened = await invoke(
      fns.open,
      httpEvent('POST', `/elections/${id}/open`, { headers: bearer(admin), params: { id } }),
    );
    expect(opened.status).toBe(200);
  }
  return { id, code: joinCode };
}

function joinAs(code: string, device: string, sourceIp = freshIp(), fns: Fns = loose): Promise<Reply> {
  return invoke(fns.join, httpEvent('POST', '/join', { body: { code, device }, sourceIp }));
}

function vote(id: string, token: string, optionId = 'yes'): Promise<Reply> {
  return invoke(
    loose.submit,
    httpEvent('POST', `/elections/${id}/votes`, {
      headers: bearer(token),
      body: { optionId },
      params: { id },
      sourceIp: freshIp(),
    }),
  );
}

async function viewAs(token: string, id: string): Promise<Reply> {
  return invoke(loose.get, httpEvent('GET', `/elections/${id}`, { headers: bearer(token), params: { id } }));
}

const joinedCount = async (id: string): Promise<number> => (await viewAs(admin, id)).body.joined;

/** Status and error code of an answer, what most assertions compare. */
const outcome = (r: Reply): string =>
  r.status < 300 ? String(r.status) : `${r.status} ${r.body?.error?.code}`;

describe('code-access elections: creation', () => {
  test('a code election gets a join code that admins see with the joined count; voters do not see the code', async () => {
    const created = await createElection({ title: 'Lecture', options: yesNo, access: 'code' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ access: 'code', joined: 0, status: 'draft' });
    expect(created.body.joinCode).toMatch(joinCodePattern);
    expect(created.body.joinLink).toBe(`https://vote.example.org/#/join/${created.body.joinCode}`);
    const id: string = created.body.id;
    expect((await viewAs(admin, id)).body).toMatchObject({ access: 'code', joinCode: created.body.joinCode });
    const voter = await mintToken({ sub: `${ns}-v`, role: 'voter' }, { keyDir, ttlS: 600 });
    const seen = await viewAs(voter, id);
    expect(seen.status).toBe(200);
    expect(seen.body.access).toBe('code');
    expect(seen.body).not.toHaveProperty('joinCode');
    expect(seen.body).not.toHaveProperty('joined');
    expect(seen.body).not.toHaveProperty('joinKey');
    expect((await viewAs(admin, id)).body).not.toHaveProperty('joinKey');
  });

  test('access defaults to "roll" (no code); bad access values and voter lists on code elections are 400', async () => {
    const plain = await createElection({ title: 'Board', options: yesNo });
    expect(plain.status).toBe(201);
    expect(plain.body.access).toBe('roll');
    expect(plain.body).not.toHaveProperty('joinCode');
    const bad = await createElection({ title: 'Bad', options: yesNo, access: 'open' });
    expect([outcome(bad), bad.body.error.details]).toEqual(['400 invalid_request', { field: 'access' }]);
    const listed = await createElection({ title: 'Bad', options: yesNo, access: 'code', voters: ['usr_a'] });
    expect([outcome(listed), listed.body.error.details]).toEqual([
      '400 invalid_request',
      { field: 'voters' },
    ]);
  });

  test('two code elections never share a code: a drawn code that is taken is drawn again', async () => {
    const polls = await Promise.all([1, 2, 3, 4].map(() => codePoll(loose, false)));
    expect(new Set(polls.map((p) => p.code)).size).toBe(4);
    // Force collisions: the first two candidates are codes that elections already hold.
    const redis = testRedis();
    try {
      const store = new JoinStore(redis);
      const fresh = newJoinCode();
      const drawn = [polls[0]!.code, polls[1]!.code, fresh];
      const got = await reserveJoinCode(redis, newElectionId(), () => drawn.shift()!);
      expect([drawn, got.joinCode]).toEqual([[], fresh]);
      expect(got.joinKey).toMatch(/^[0-9a-f]{64}$/);
      // The taken codes still name their own elections.
      expect(await store.electionOf(polls[0]!.code)).toBe(polls[0]!.id);
      expect(await store.electionOf(polls[1]!.code)).toBe(polls[1]!.id);
    } finally {
      await redis.quit();
    }
  });
});

describe('POST /join', () => {
  test('the same device gets the same identity and one vote; another device another identity', async () => {
    const { id, code } = await codePoll();
    const device = newDevice();
    const first = await joinAs(code, device);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ role: 'voter', tokenType: 'Bearer', electionId: id });
    expect(decodeJwt(first.body.token)).toMatchObject({ sub: first.body.sub, role: 'voter', eid: id });
    // Typed as people type it: lower case, with a hyphen in the middle.
    const typed = `${code.slice(0, 4)}-${code.slice(4)}`.toLowerCase();
    const again = await joinAs(typed, device);
    expect(again.status).toBe(200);
    expect(again.body.sub).toBe(first.body.sub);
    expect(again.body.token).not.toBe(first.body.token);

    expect(outcome(await vote(id, first.body.token, 'yes'))).toBe('202');
    // The second join's token is the same identity: its vote is refused.
    expect(outcome(await vote(id, again.body.token, 'no'))).toBe('409 already_voted');

    const other = await joinAs(code, newDevice());
    expect(other.status).toBe(200);
    expect(other.body.sub).not.toBe(first.body.sub);
    expect(outcome(await vote(id, other.body.token, 'no'))).toBe('202');
    expect(await joinedCount(id)).toBe(2);
  });

  test('joined is exact: every new device counts once, rejoins never', async () => {
    const { id, code } = await codePoll(loose, false); // joining a draft is allowed
    const devices = [newDevice(), newDevice(), newDevice()];
    for (const d of devices) expect((await joinAs(code, d)).status).toBe(200);
    expect(await joinedCount(id)).toBe(3);
    for (const d of devices) expect((await joinAs(code, d)).status).toBe(200);
    expect(await joinedCount(id)).toBe(3);
  });

  test('unknown code 404, malformed input 400, closed election 409', async () => {
    const { id, code } = await codePoll();
    // A code no election has (codes of this alphabet never contain U).
    expect(outcome(await joinAs('00000000', newDevice()))).toBe('404 unknown_code');
    const malformed = await joinAs('UUUU', newDevice());
    expect([outcome(malformed), malformed.body.error.details]).toEqual([
      '400 invalid_request',
      { field: 'code' },
    ]);
    const shortDevice = await joinAs(code, 'abc');
    expect([outcome(shortDevice), shortDevice.body.error.details]).toEqual([
      '400 invalid_request',
      { field: 'device' },
    ]);
    const extra = await invoke(
      loose.join,
      httpEvent('POST', '/join', { body: { code, device: newDevice(), role: 'admin' } }),
    );
    expect(outcome(extra)).toBe('400 invalid_request');
    expect(await joinedCount(id)).toBe(0);

    const closed = await invoke(
      loose.close,
      httpEvent('POST', `/elections/${id}/close`, { headers: bearer(admin), params: { id } }),
    );
    expect(closed.status).toBe(200);
    expect(outcome(await joinAs(code, newDevice()))).toBe('409 election_not_open');
    expect(await joinedCount(id)).toBe(0);
  });

  test('per address: a burst of 3 new devices, then 429 with Retry-After that changes nothing; rejoins and other addresses still pass', async () => {
    const { id, code } = await codePoll();
    const ip = freshIp();
    const devices = [newDevice(), newDevice(), newDevice()];
    const joined = [];
    for (const d of devices) joined.push(await joinAs(code, d, ip));
    expect(joined.map(outcome)).toEqual(['200', '200', '200']);
    const limited = await joinAs(code, newDevice(), ip);
    expect(outcome(limited)).toBe('429 rate_limited');
    const wait = Number(limited.headers['Retry-After']);
    // One token comes back every WINDOW_MS / 3 (200 s); Retry-After rounds up.
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(WINDOW_MS / 3 / 1000);
    expect(await joinedCount(id)).toBe(3);
    // A device that joined before gets its identity back at no cost, from the same address.
    const rejoin = await joinAs(code, devices[0]!, ip);
    expect(rejoin.status).toBe(200);
    expect(rejoin.body.sub).toBe(joined[0]!.body.sub);
    expect(outcome(await joinAs(code, newDevice(), ip))).toBe('429 rate_limited');
    // Per election and address: another address joins, and so does this address elsewhere.
    expect(outcome(await joinAs(code, newDevice(), freshIp()))).toBe('200');
    const elsewhere = await codePoll();
    expect(outcome(await joinAs(elsewhere.code, newDevice(), ip))).toBe('200');
    expect(await joinedCount(id)).toBe(4);
  });

  test('per election: 5 new devices from 5 addresses, then 429 for the election', async () => {
    const { id, code } = await codePoll();
    const results = [];
    for (let i = 0; i < 6; i++) results.push(outcome(await joinAs(code, newDevice())));
    expect(results).toEqual(['200', '200', '200', '200', '200', '429 rate_limited']);
    expect(await joinedCount(id)).toBe(5);
  });

  test('the cap: an election holds at most JOIN_MAX_PER_ELECTION identities (409 join_full); those joined rejoin', async () => {
    const { id, code } = await codePoll(capped);
    const a = newDevice();
    expect(outcome(await joinAs(code, a, freshIp(), capped))).toBe('200');
    expect(outcome(await joinAs(code, newDevice(), freshIp(), capped))).toBe('200');
    expect(outcome(await joinAs(code, newDevice(), freshIp(), capped))).toBe('409 join_full');
    expect(outcome(await joinAs(code, a, freshIp(), capped))).toBe('200');
    expect(await joinedCount(id)).toBe(2);
  });
});

describe('who votes in a code election', () => {
  test('a joined token votes only in its own election (403 wrong_election elsewhere); an account cannot vote in a code election (403 not_joined)', async () => {
    const a = await codePoll();
    const b = await codePoll();
    const plain = await createElection({ title: 'Board', options: yesNo });
    const plainId: string = plain.body.id;
    await invoke(
      loose.open,
      httpEvent('POST', `/elections/${plainId}/open`, { headers: bearer(admin), params: { id: plainId } }),
    );
    const joined = await joinAs(a.code, newDevice());
    expect(outcome(await vote(b.id, joined.body.token))).toBe('403 wrong_election');
    expect(outcome(await vote(plainId, joined.body.token))).toBe('403 wrong_election');
    const account = await mintToken({ sub: `${ns}-acct`, role: 'voter' }, { keyDir, ttlS: 600 });
    expect(outcome(await vote(a.id, account))).toBe('403 not_joined');
    // A token that names the election but is no joined identity (e.g. a roll credential's).
    const bound = await mintToken({ sub: `${ns}-cred`, role: 'voter', eid: a.id }, { keyDir, ttlS: 600 });
    expect(outcome(await vote(a.id, bound))).toBe('403 not_joined');
    // Nothing of that was counted: the joined device still has its one vote.
    expect(outcome(await vote(a.id, joined.body.token))).toBe('202');
    expect(outcome(await vote(plainId, account))).toBe('202');
  });
});
