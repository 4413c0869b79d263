import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKeyPair } from '../../shared/auth/keys';
import { mintToken } from '../../shared/auth/tokens';
import { type Handler, type Reply, httpEvent, invoke } from '../helpers/lambda-events';
import { testRedisSeeds, uniqueNs } from '../helpers/redis';

/**
 * The two token buckets in front of POST /elections/{id}/votes (functions/votes-submit.ts,
 * shared/votes/rate-limit.ts): one per voter (RATE_LIMIT_VOTER), one per client address
 * (RATE_LIMIT_IP), both refilled at `limit` per RATE_LIMIT_WINDOW_MS. Every request
 * takes a token from both before anything else is looked at (an already-voted voter's
 * retry too); an empty bucket answers 429 `rate_limited` with Retry-After (whole
 * seconds, at least 1) and takes nothing.
 *
 * The handler runs in-process against the run's real Redis Cluster, loaded twice with
 * different knobs: a long window (a token back every 150-200 s, so a sequence is exact
 * however slow the machine) and a short one (2 s, to wait out). Voters and addresses are
 * fresh per test, so no test meets another's buckets.
 */

const LONG = { voter: 3, ip: 4, windowMs: 600_000 };
const SHORT = { voter: 2, ip: 2, windowMs: 2_000 };
/** Seconds until one token is back in a bucket of `limit` per `windowMs`. */
const refillS = (limit: number, windowMs: number): number => windowMs / limit / 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance {
  submit: Handler;
  disconnect: () => void;
}

describe('vote submits: exact per-voter and per-address rate limits', () => {
  let keyDir: string;
  let long: Instance;
  let short: Instance;
  let electionId: string;
  const ns = uniqueNs('rl');
  let ipCounter = 0;
  /** An address no other request of this file used. */
  const freshIp = (): string => `10.77.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;
  const voter = (name: string) => mintToken({ sub: `${ns}-${name}`, role: 'voter' }, { keyDir, ttlS: 3600 });

  async function submit(
    on: Instance,
    token: string,
    optionId: string,
    key: string,
    sourceIp: string = freshIp(),
  ): Promise<Reply> {
    return invoke(
      on.submit,
      httpEvent('POST', `/elections/${electionId}/votes`, {
        body: { optionId },
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
        params: { id: electionId },
        sourceIp,
      }),
    );
  }

  /** What a test compares: status and error code (or the replay flag of a 202). */
  const outcome = (r: Reply): string =>
    r.status === 202
      ? `202${r.headers['Idempotent-Replayed'] === 'true' ? ' replayed' : ''}`
      : `${r.status} ${r.body?.error?.code}`;

  /** Retry-After of a 429, checked to be whole seconds. */
  function retryAfter(r: Reply): number {
    expect(r.status).toBe(429);
    const v = String(r.headers['Retry-After']);
    expect(v).toMatch(/^[1-9][0-9]*$/);
    return Number(v);
  }

  async function load(knobs: { voter: number; ip: number; windowMs: number }): Promise<Instance> {
    Object.assign(process.env, {
      RATE_LIMIT_VOTER: String(knobs.voter),
      RATE_LIMIT_IP: String(knobs.ip),
      RATE_LIMIT_WINDOW_MS: String(knobs.windowMs),
    });
    const submitModule = (await import('../../functions/votes-submit')) as { handler: Handler };
    const lib = await import('../../functions/lib/redis');
    return { submit: submitModule.handler, disconnect: () => lib.redis().disconnect() };
  }

  beforeAll(async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'qv-vote-limits-keys-'));
    ensureKeyPair({ keyDir });
    Object.assign(process.env, {
      REDIS_SEEDS: testRedisSeeds(),
      JWT_KEY_DIR: keyDir,
      COORDINATORS: 'c1,c2,c3',
      // A 202 waits for a replica: on a busy machine that can take longer than the
      // default 250 ms, and a 503 here would be noise, not a verdict on the limits.
      SUBMIT_WAIT_MS: '3000',
    });
    long = await load(LONG);
    const create = ((await import('../../functions/elections-create')) as { handler: Handler }).handler;
    const open = ((await import('../../functions/elections-open')) as { handler: Handler }).handler;
    // The same modules again, from a fresh registry: the limits are read once per load.
    jest.resetModules();
    short = await load(SHORT);

    const admin = await mintToken({ sub: `${ns}-admin`, role: 'admin' }, { keyDir, ttlS: 3600 });
    const auth = { authorization: `Bearer ${admin}` };
    const created = await invoke(
      create,
      httpEvent('POST', '/elections', {
        headers: auth,
        body: {
          title: 'Rate limits',
          options: [
            { id: 'yes', label: 'Yes' },
            { id: 'no', label: 'No' },
          ],
        },
      }),
    );
    expect(created.status).toBe(201);
    electionId = created.body.id;
    const opened = await invoke(
      open,
      httpEvent('POST', `/elections/${electionId}/open`, { headers: auth, params: { id: electionId } }),
    );
    expect(opened.status).toBe(200);
  }, 60000);

  afterAll(() => {
    long?.disconnect();
    short?.disconnect();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  test(`one voter: ${LONG.voter} requests pass (vote, replay, 409 already_voted), then 429 with Retry-After; another voter is unaffected`, async () => {
    const a = await voter('a');
    const started = Date.now();
    const first = await submit(long, a, 'yes', 'a-1');
    const replay = await submit(long, a, 'yes', 'a-1');
    const second = await submit(long, a, 'no', 'a-2');
    const limited = await submit(long, a, 'no', 'a-3');
    const elapsed = Date.now() - started;
    expect([first, replay, second, limited].map(outcome)).toEqual([
      '202',
      '202 replayed',
      '409 already_voted',
      '429 rate_limited',
    ]);
    expect(replay.body.voteId).toBe(first.body.voteId);
    // The bucket was emptied at most `elapsed` ago: one token is back in
    // 200 s minus what refilled since, and Retry-After rounds that up.
    const wait = retryAfter(limited);
    const interval = refillS(LONG.voter, LONG.windowMs);
    expect(wait).toBeLessThanOrEqual(interval);
    expect(wait).toBeGreaterThanOrEqual(Math.ceil(interval - elapsed / 1000));
    // A refused request takes nothing and is refused again, whatever it asks for (even
    // the replay of the accepted vote); the wait does not grow.
    const again = await submit(long, a, 'yes', 'a-1');
    expect(outcome(again)).toBe('429 rate_limited');
    expect(retryAfter(again)).toBeLessThanOrEqual(wait);

    // Another voter, at the same moment: a bucket of its own, the same exact sequence.
    const b = await voter('b');
    const bSeq = [];
    bSeq.push(await submit(long, b, 'no', 'b-1'));
    bSeq.push(await submit(long, b, 'yes', 'b-2'));
    bSeq.push(await submit(long, b, 'yes', 'b-3'));
    bSeq.push(await submit(long, b, 'no', 'b-1'));
    expect(bSeq.map(outcome)).toEqual(['202', '409 already_voted', '409 already_voted', '429 rate_limited']);
    expect(bSeq[0]!.body.voteId).not.toBe(first.body.voteId);
  }, 60000);

  test(`one address: ${LONG.ip} voters from it pass, the next is 429 with Retry-After; the voters themselves are not limited`, async () => {
    const ip = freshIp();
    const voters = await Promise.all([1, 2, 3, 4, 5].map((i) => voter(`p${i}`)));
    const started = Date.now();
    const passed = [];
    for (let i = 0; i < LONG.ip; i++) passed.push(await submit(long, voters[i]!, 'yes', `p${i}`, ip));
    const limited = await submit(long, voters[4]!, 'no', 'p4', ip);
    const elapsed = Date.now() - started;
    expect(passed.map(outcome)).toEqual(Array(LONG.ip).fill('202'));
    expect(outcome(limited)).toBe('429 rate_limited');
    const wait = retryAfter(limited);
    const interval = refillS(LONG.ip, LONG.windowMs);
    expect(wait).toBeLessThanOrEqual(interval);
    expect(wait).toBeGreaterThanOrEqual(Math.ceil(interval - elapsed / 1000));
    // The address is refused before anything else is looked at: a voter who already
    // voted gets 429 from it, not 409.
    expect(outcome(await submit(long, voters[0]!, 'no', 'p0-again', ip))).toBe('429 rate_limited');
    // The refused voter votes from another address (the 429 recorded no vote), and a
    // new voter from a new address is not touched by the full one.
    expect(outcome(await submit(long, voters[4]!, 'no', 'p4'))).toBe('202');
    expect(outcome(await submit(long, await voter('p6'), 'yes', 'p6'))).toBe('202');
  }, 60000);

  test(`short window: both buckets are full again ${SHORT.windowMs} ms after they ran dry`, async () => {
    // One voter and one address, each emptied by a burst sent at once (the tokens are
    // taken before any vote waits for its replica, so no refill slips in between).
    const r = await voter('r');
    expect(outcome(await submit(short, r, 'yes', 'r-1'))).toBe('202');
    const burst = await Promise.all([1, 2, 3, 4].map((i) => submit(short, r, 'no', `r-burst-${i}`)));
    const ip = freshIp();
    const addressVoters = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => voter(`z${i}`)));
    const addressBurst = await Promise.all(
      addressVoters.slice(0, 4).map((t, i) => submit(short, t, 'yes', `z${i}`, ip)),
    );
    const dryAt = Date.now();
    const burstOutcomes = burst.map(outcome).sort();
    expect(burstOutcomes).toContain('429 rate_limited');
    expect(burstOutcomes.every((o) => o === '409 already_voted' || o === '429 rate_limited')).toBe(true);
    const addressOutcomes = addressBurst.map(outcome).sort();
    // Exactly the bucket: a 202 each for the first `ip` voters, then refusals.
    expect(addressOutcomes).toEqual([
      ...Array(SHORT.ip).fill('202'),
      ...Array(4 - SHORT.ip).fill('429 rate_limited'),
    ]);
    // One token is back within a second: Retry-After is the minimum, 1.
    for (const res of [...burst, ...addressBurst].filter((x) => x.status === 429)) {
      expect(retryAfter(res)).toBe(Math.ceil(refillS(SHORT.voter, SHORT.windowMs)));
    }

    await sleep(SHORT.windowMs + 100 - (Date.now() - dryAt));
    // A whole burst passes again: the voter's requests reach the vote check (409), the
    // address takes `ip` new voters.
    const voterAfter = await Promise.all(
      Array.from({ length: SHORT.voter }, (_, i) => submit(short, r, 'no', `r-after-${i}`)),
    );
    expect(voterAfter.map(outcome)).toEqual(Array(SHORT.voter).fill('409 already_voted'));
    const addressAfter = await Promise.all(
      addressVoters.slice(4, 4 + SHORT.ip).map((t, i) => submit(short, t, 'no', `z-after-${i}`, ip)),
    );
    expect(addressAfter.map(outcome)).toEqual(Array(SHORT.ip).fill('202'));
  }, 60000);
});
