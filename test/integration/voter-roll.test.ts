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

type Handlers = Record<'create' | 'open' | 'submit' | 'results' | 'electionGet' | 'electionList', Handler>;

const ns = uniqueNs('roll');
let keyDir: string;
let h: Handlers;
let disconnect: () => void;
let adminAuth: Record<string, string>;
let ipCounter = 0;
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
  });
  const load = async (path: string): Promise<Handler> =>
    ((await import(path)) as { handler: Handler }).handler;
  h = {
    create: await load('../../functions/elections-create'),
    open: await load('../../functions/elections-open'),
    submit: await load('../../functions/votes-submit'),
    results: await load('../../functions/results-get'),
    electionGet: await load('../../functions/elections-get'),
    electionList: await load('../../functions/elections-list'),
  };
  const lib = await import('../../functions/lib/redis');
  disconnect = () => lib.redis().disconnect();
  adminAuth = bearer(await mintToken({ sub: `${ns}-admin`, role: 'admin' }, { keyDir, ttlS: 3600 }));
});

afterAll(() => {
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
