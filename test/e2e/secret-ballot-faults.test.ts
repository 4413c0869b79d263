import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import {
  type Ballot,
  type ElectionRecord as QvRecord,
  ballotMessage,
  ceremonyContext,
  decodeScalar,
  defaultGroup,
  encodeScalar,
  evaluateShare,
  fromHex,
  generateVoterKey,
  sealShare,
  Q,
  signMessage,
  toHex,
  verifyRecord,
} from '../../shared/ballots';
import { computeTracker } from '../../shared/ballots/tracker';
import { systemClock } from '../../shared/clock';
import { parseSeeds } from '../../shared/config';
import type { Election } from '../../shared/elections/model';
import { ElectionStore } from '../../shared/elections/store';
import { createRedisCluster } from '../../shared/redis/client';
import { secretElectionKeys } from '../../shared/redis/keys';
import { type ApiCall, expectStatus } from '../../shared/secret/api-call';
import { manifestOf } from '../../shared/secret/election-manifest';
import { secretBallot } from '../../shared/secret/secret-ballot';
import {
  type TrusteeKeys,
  ceremonyStep,
  decryptAndPost,
  newTrusteeKeys,
} from '../../shared/secret/trustee-client';
import { castBallot, challengeBallot, makeBallot } from '../../shared/secret/voter-client';
import { submitVote } from '../../shared/votes/submit';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';

/**
 * Secret ballots when someone misbehaves, through the real stack (Redis Cluster, three
 * validating coordinators, serverless-offline):
 * - a dealer sends one trustee a bad share: the complaint is upheld, the record carries
 *   the dealer's revealed share so anyone can see it fail, and the dealer is left out
 *   of Q; a false complaint against an honest dealer is dismissed by its reveal; the
 *   election goes on with the qualified trustees, who decrypt it;
 * - a ceremony with fewer than k qualified trustees fails: the admin is told why and
 *   by whom, the election stays a draft that can never open;
 * - a challenge retried after a lost answer is published once;
 * - a second ballot of the same voter, a copy of another voter's ballot, a ballot from a
 *   voter off the list, one from a voter with no key on the roll (straight into the
 *   queue, past intake) and ballots made for another election are refused or rejected
 *   with their reasons.
 */

const OPTIONS = [
  { id: 'yes', label: 'Yes' },
  { id: 'no', label: 'No' },
];

describe('secret ballots: misbehaving trustees and voters', () => {
  let cluster: TestCluster;
  let offline: TestOffline;
  let api: Api;
  let keyDir: string;
  let redis: Cluster;
  let admin: string;
  let prefix: string;

  const as =
    (token: string): ApiCall =>
    (method, path, body, headers) =>
      api.call(method, path, {
        token,
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      });
  const get = async (id: string): Promise<Election> =>
    (await api.call('GET', `/elections/${id}`, { token: admin })).body as Election;
  const ceremonyOf = async (id: string) =>
    (await api.call('GET', `/elections/${id}/ceremony`, { token: admin })).body;

  /** A secret election with `n` trustees (tokens minted) and threshold `k`. */
  async function secretElection(
    name: string,
    n: number,
    k: number,
    extra: Record<string, unknown> = {},
  ): Promise<{ election: Election; tokens: string[] }> {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${name}-t${i + 1}`);
    const tokens = await Promise.all(ids.map((id) => api.token(id, 'trustee')));
    const r = await api.call('POST', '/elections', {
      token: admin,
      body: { title: name, options: OPTIONS, ballot: 'secret', trustees: ids, threshold: k, ...extra },
    });
    expect(r.status).toBe(201);
    return { election: r.body as Election, tokens };
  }

  /** A bad share: the right one plus 1 (mod q), so it fails the check against the dealer's commitments. */
  const wrong = (share: string) => encodeScalar((decodeScalar(share) + 1n) % Q);

  /** Trustee `keys` deals to every other trustee, sending `badFor` a share off by one. */
  async function dealWithBadShare(call: ApiCall, election: Election, keys: TrusteeKeys, badFor: number) {
    const view = await ceremonyOf(election.id);
    const ctx = ceremonyContext(manifestOf(election));
    const shares = await Promise.all(
      (view.commitments as { trustee: number; transportKey: string }[])
        .filter((c) => c.trustee !== keys.trustee)
        .map(async (c) => {
          const good = evaluateShare(keys.polynomial, c.trustee);
          const s = await sealShare(
            defaultGroup,
            ctx,
            { index: keys.trustee, keys: keys.transport },
            { index: c.trustee, publicKey: c.transportKey },
            c.trustee === badFor ? wrong(good) : good,
          );
          return { to: s.to, nonce: s.nonce, ciphertext: s.ciphertext };
        }),
    );
    expectStatus(await call('POST', `/elections/${election.id}/ceremony/shares`, { shares }), 'shares', 200);
  }

  beforeAll(async () => {
    keyDir = testKeyDir();
    prefix = `sf${Math.random().toString(36).slice(2, 6)}`;
    const members = [1, 2, 3].map((i) => `${prefix}-c${i}`);
    offline = await startTestOffline({
      JWT_KEY_DIR: keyDir,
      CLUSTER_NAME: prefix,
      COORDINATORS: members.join(','),
    });
    cluster = new TestCluster(members, { LAMBDA_ENDPOINT: offline.lambdaUrl }, undefined, prefix);
    await Promise.all(members.map((id) => cluster.startNode(id)));
    api = makeApi(offline.httpUrl, keyDir);
    redis = createRedisCluster(parseSeeds(cluster.redisSeeds));
    admin = await api.token(`${prefix}-admin`, 'admin');
  }, 120000);

  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([offline?.stop(), cluster?.stop()]);
    if (keyDir) (await import('node:fs')).rmSync(keyDir, { recursive: true, force: true });
  });

  // The election of the upheld complaint, used by the voter tests after it.
  let main: Election;
  let mainTokens: string[] = [];
  const mainKeys: TrusteeKeys[] = [];
  // A second election (one trustee), for ballots made for the other one.
  let other: Election;
  let otherKeys: TrusteeKeys;
  let otherToken = '';

  test('a dealer who sends a bad share: complaint upheld, shown by its revealed share, the dealer left out of Q', async () => {
    ({ election: main, tokens: mainTokens } = await secretElection('upheld', 3, 2));
    const id = main.id;
    for (let i = 1; i <= 3; i++) mainKeys[i] = newTrusteeKeys(main, i);
    const call = (i: number) => as(mainTokens[i - 1]!);
    // Everyone commits; trustees 1 and 2 deal honestly; trustee 3 sends trustee 1 a bad share.
    for (let i = 1; i <= 3; i++) await ceremonyStep(call(i), main, mainKeys[i]!);
    expect((await ceremonyOf(id)).state).toBe('shares');
    expect(await ceremonyStep(call(1), main, mainKeys[1]!)).toBe('wait for shares from 2, 3');
    expect(await ceremonyStep(call(2), main, mainKeys[2]!)).toBe('wait for shares from 3');
    await dealWithBadShare(call(3), main, mainKeys[3]!, 1);
    // Trustee 2 complains against honest trustee 1 (a false complaint).
    expect((await call(2)('POST', `/elections/${id}/ceremony/complaints`, { against: 1 })).status).toBe(201);
    // Trustee 1 answers the false complaint with its true share, and complains against 3.
    expect(await ceremonyStep(call(1), main, mainKeys[1]!)).toBe('wait for the admin to finish');
    let view = await ceremonyOf(id);
    expect(view.complaints).toEqual(
      expect.arrayContaining([
        { from: 2, against: 1, answered: true, upheld: false },
        { from: 1, against: 3, answered: false },
      ]),
    );
    // Trustee 3 must answer in the clear; it reveals the bad share it sent: upheld.
    const bad = wrong(evaluateShare(mainKeys[3]!.polynomial, 1));
    const reveal = await call(3)('POST', `/elections/${id}/ceremony/reveals`, { to: 1, share: bad });
    expect({ status: reveal.status, upheld: reveal.body.upheld }).toEqual({ status: 200, upheld: true });

    const finished = await api.call('POST', `/elections/${id}/ceremony/finish`, { token: admin });
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({ state: 'done', qualified: [1, 2] });
    expect(finished.body.failure).toBeUndefined();
    // The decided complaints carry the revealed shares: anyone can judge them again.
    const decided = finished.body.decided as { from: number; against: number; upheld: boolean }[];
    expect(decided).toEqual([
      { from: 2, against: 1, upheld: false, revealedShare: evaluateShare(mainKeys[1]!.polynomial, 2) },
      { from: 1, against: 3, upheld: true, revealedShare: bad },
    ]);

    // What happens next: the election opens under the key of Q = {1, 2}, voters vote,
    // and the qualified trustees decrypt (tested below, after the voters).
    main = await get(id);
    view = await ceremonyOf(id);
    expect(main.jointKey).toBe(view.jointKey);
    expect((await api.call('POST', `/elections/${id}/open`, { token: admin })).status).toBe(200);
    main = await get(id);
  }, 120000);

  test('a ceremony with fewer than k qualified trustees fails: told why, the election never opens', async () => {
    const { election, tokens } = await secretElection('failed', 3, 2);
    const id = election.id;
    const keys = [1, 2, 3].map((i) => newTrusteeKeys(election, i));
    const call = (i: number) => as(tokens[i - 1]!);
    for (let i = 1; i <= 3; i++) await ceremonyStep(call(i), election, keys[i - 1]!);
    // Trustee 1 deals honestly; trustee 2 sends trustee 1 a bad share, trustee 1
    // complains and trustee 2 never answers; trustee 3 committed but never deals.
    await ceremonyStep(call(1), election, keys[0]!);
    await dealWithBadShare(call(2), election, keys[1]!, 1);
    expect(await ceremonyStep(call(1), election, keys[0]!)).toBe('wait for shares from 3');
    expect((await call(1)('POST', `/elections/${id}/ceremony/complaints`, { against: 2 })).status).toBe(201);

    const finished = await api.call('POST', `/elections/${id}/ceremony/finish`, { token: admin });
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({
      state: 'failed',
      qualified: [],
      jointKey: null,
      electionHash: null,
    });
    expect(finished.body.failure).toBe(
      'The key ceremony failed: 1 trustee(s) qualified, fewer than the threshold 2 ' +
        '(upheld complaints against trustee(s) 2, 3). This election can never open; create a new election.',
    );
    // Finishing again answers the same; the election is a draft whose ceremony failed.
    expect((await api.call('POST', `/elections/${id}/ceremony/finish`, { token: admin })).body).toEqual(
      finished.body,
    );
    expect(await get(id)).toMatchObject({ status: 'draft', ceremony: 'failed', jointKey: null });
    const open = await api.call('POST', `/elections/${id}/open`, { token: admin });
    expect({ status: open.status, code: open.body.error?.code, details: open.body.error?.details }).toEqual({
      status: 409,
      code: 'ceremony_not_done',
      details: { state: 'failed' },
    });
    expect(open.body.error.message).toMatch(/failed .* can never open; create a new election/);
    expect((await get(id)).status).toBe('draft');
    // No step of the ceremony is taken any more.
    const late = await call(3)('POST', `/elections/${id}/ceremony/shares`, { shares: [] });
    expect({ status: late.status, code: late.body.error?.code }).toEqual({
      status: 409,
      code: 'ceremony_phase',
    });
  }, 120000);

  test('a second election with one trustee, restricted to a voter list', async () => {
    otherToken = await api.token(`${prefix}-other-t1`, 'trustee');
    const r = await api.call('POST', '/elections', {
      token: admin,
      body: {
        title: 'other',
        options: OPTIONS,
        ballot: 'secret',
        trustees: [`${prefix}-other-t1`],
        threshold: 1,
        voters: [`${prefix}-listed`],
      },
    });
    expect(r.status).toBe(201);
    other = r.body as Election;
    otherKeys = newTrusteeKeys(other, 1);
    await eventually(
      async () => (await ceremonyStep(as(otherToken), other, otherKeys)) === 'wait for the admin to finish',
      30000,
      'the one-trustee ceremony',
    );
    const f = await api.call('POST', `/elections/${other.id}/ceremony/finish`, { token: admin });
    expect(f.body.state).toBe('done');
    expect((await api.call('POST', `/elections/${other.id}/open`, { token: admin })).status).toBe(200);
    other = await get(other.id);
  }, 60000);

  const counted = [0, 0];
  const rejected: { voteId: string; voter: string; reason: string }[] = [];

  test('a challenge retried after a lost answer is idempotent and published once', async () => {
    const voter = await api.token(`${prefix}-challenger`, 'voter');
    const key = generateVoterKey();
    const challenged = makeBallot(main, [0, 1], key.secretKey);
    // The first answer is lost on the way back (the server did publish it): the client retries.
    let calls = 0;
    const lossy: ApiCall = async (method, path, body, headers) => {
      const r = await as(voter)(method, path, body, headers);
      if (++calls === 1) throw new Error('socket hang up');
      return r;
    };
    await challengeBallot(lossy, main, challenged.ballot, challenged.opening);
    expect(calls).toBe(2);
    // And the voter's app, unsure, sends it once more: same answer.
    const again = await as(voter)('POST', `/elections/${main.id}/spoiled`, {
      ballot: challenged.ballot,
      opening: challenged.opening,
    });
    expect({ status: again.status, body: again.body }).toEqual({
      status: 201,
      body: { tracker: challenged.ballot.tracker, state: 'spoiled' },
    });
    const cast = await as(voter)('POST', `/elections/${main.id}/votes`, { ballot: challenged.ballot });
    expect({ status: cast.status, code: cast.body.error?.code }).toEqual({
      status: 409,
      code: 'ballot_spoiled',
    });
    // The voter then casts a fresh ballot.
    const fresh = makeBallot(main, [1, 0], key.secretKey);
    await castBallot(as(voter), main, fresh.ballot);
    counted[0]! += 1;
  }, 60000);

  test('duplicates, voters off the list or off the roll, and ballots for another election are refused with their reasons', async () => {
    const id = main.id;
    // A voter's second ballot (another Idempotency-Key): 409 already_voted, nothing stored.
    const v1 = await api.token(`${prefix}-v1`, 'voter');
    const k1 = generateVoterKey();
    const first = makeBallot(main, [0, 1], k1.secretKey);
    await castBallot(as(v1), main, first.ballot);
    counted[1]! += 1;
    const second = makeBallot(main, [1, 0], k1.secretKey);
    const dup = await as(v1)('POST', `/elections/${id}/votes`, { ballot: second.ballot });
    expect({ status: dup.status, code: dup.body.error?.code }).toEqual({
      status: 409,
      code: 'already_voted',
    });
    const same = await as(v1)(
      'POST',
      `/elections/${id}/votes`,
      { ballot: first.ballot },
      {
        'idempotency-key': randomUUID(),
      },
    );
    expect({ status: same.status, code: same.body.error?.code }).toEqual({
      status: 409,
      code: 'already_voted',
    });
    // Another voter replays v1's ballot (v1's key is on the roll): 409 key_in_use.
    const v2 = await api.token(`${prefix}-v2`, 'voter');
    const copy = await as(v2)('POST', `/elections/${id}/votes`, { ballot: first.ballot });
    expect({ status: copy.status, code: copy.body.error?.code }).toEqual({ status: 409, code: 'key_in_use' });

    // A voter off a restricted election's list: 403 not_eligible, no key on the roll.
    const off = await api.token(`${prefix}-unlisted`, 'voter');
    const kOff = generateVoterKey();
    const offBallot = makeBallot(other, [1, 0], kOff.secretKey);
    for (const [path, body] of [
      [`/elections/${other.id}/voter-key`, { publicKey: toHex(kOff.publicKey) }],
      [`/elections/${other.id}/votes`, { ballot: offBallot.ballot }],
    ] as const) {
      const r = await as(off)('POST', path, body);
      expect({ path, status: r.status, code: r.body.error?.code }).toEqual({
        path,
        status: 403,
        code: 'not_eligible',
      });
    }

    // A ballot made for `main`, sent to `other`: its tracker hashes main's election hash (400 bad_tracker).
    const listed = await api.token(`${prefix}-listed`, 'voter');
    const kListed = generateVoterKey();
    const forMain = makeBallot(main, [1, 0], kListed.secretKey);
    const cross = await as(listed)('POST', `/elections/${other.id}/votes`, { ballot: forMain.ballot });
    expect({ status: cross.status, code: cross.body.error?.code }).toEqual({
      status: 400,
      code: 'bad_tracker',
    });
    // Re-tracked and re-signed for `other`, its proofs still bind main: the validators reject it.
    const moved = retarget(other, forMain.ballot, kListed.secretKey);
    const took = await as(listed)('POST', `/elections/${other.id}/votes`, { ballot: moved });
    expect(took.status).toBe(202);
    rejected.push({ voteId: took.body.voteId, voter: listed, reason: 'bad_selection_proof:1' });

    // A ballot whose voter has no key on the roll, put straight into the queue (as an
    // intake that skipped the roll would): the validators reject it, not_on_roll.
    const ghost = `${prefix}-ghost`;
    const ghostKey = generateVoterKey();
    const ghostBallot = makeBallot(main, [1, 0], ghostKey.secretKey);
    const record = await new ElectionStore(redis, systemClock, 16).require(id);
    const queued = await submitVote(
      redis,
      systemClock,
      secretBallot,
      record,
      ghost,
      { ballot: ghostBallot.ballot },
      randomUUID(),
      {
        waitReplicas: 0,
        waitTimeoutMs: 0,
      },
    );
    rejected.push({ voteId: queued.voteId, voter: await api.token(ghost, 'voter'), reason: 'not_on_roll' });

    for (const r of rejected) {
      const seen = await eventually(
        async () => {
          const v = await api.call('GET', `/votes/${r.voteId}`, { token: r.voter });
          return v.body.status === 'rejected' ? v.body : undefined;
        },
        60000,
        `vote ${r.voteId} rejected`,
      );
      expect({ status: seen.status, reason: seen.reason }).toEqual({ status: 'rejected', reason: r.reason });
    }
  }, 120000);

  test('close; the qualified trustees decrypt; the record shows the upheld complaint and verifies', async () => {
    const id = main.id;
    const total = counted[0]! + counted[1]!;
    await eventually(
      async () => {
        const r = (await api.call('GET', `/elections/${id}/results`, { token: admin })).body;
        return r.finalized === total && r.pending === 0;
      },
      60000,
      'every ballot finalized',
    );
    expect((await api.call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    main = await get(id);
    await eventually(
      async () => (await api.call('GET', `/elections/${id}/tally`, { token: admin })).body.final,
      30000,
      'the tally final',
    );
    // Trustee 3, disqualified by the upheld complaint, still holds valid shares from 1
    // and 2 and so could make a share that verifies: it is refused, named, not stored.
    await expect(decryptAndPost(as(mainTokens[2]!), main, mainKeys[3]!)).rejects.toThrow(
      /403 trustee_disqualified/,
    );
    const refused = await api.call('POST', `/elections/${id}/decryption-shares`, {
      token: mainTokens[2]!,
      body: { shareKey: 'ab'.repeat(32), values: [] },
    });
    expect({ status: refused.status, error: refused.body.error }).toEqual({
      status: 403,
      error: expect.objectContaining({
        code: 'trustee_disqualified',
        message: expect.stringContaining('upheld complaint(s) from trustee(s) 1'),
        details: { trustee: 3, reason: 'upheld_complaint', complainants: [1] },
      }),
    });
    expect(await redis.hlen(secretElectionKeys(id).shares)).toBe(0);
    // Trustee 1 got a bad share from 3, but 3 is not in Q: x_1 sums the shares of Q only.
    const one = await decryptAndPost(as(mainTokens[0]!), main, mainKeys[1]!);
    expect(one.waitingFor).toBe(1);
    const two = await decryptAndPost(as(mainTokens[1]!), main, mainKeys[2]!);
    expect(two.decryption).toEqual({ used: [1, 2], totals: counted });

    const record = (await api.call('GET', `/elections/${id}/record`, { token: admin })).body as QvRecord;
    expect(record.ceremony.qualified).toEqual([1, 2]);
    expect(record.ceremony.complaints).toContainEqual(
      expect.objectContaining({ from: 1, against: 3, upheld: true }),
    );
    expect(record.ballots.filter((b) => b.state === 'spoiled')).toHaveLength(1);
    expect(record.ballots.filter((b) => b.reason === 'not_on_roll')).toHaveLength(1);
    expect(verifyRecord(record, { group: defaultGroup })).toEqual({ ok: true, failures: [] });
    // The published check names the misbehaving dealer: a record that says its
    // complaint was not upheld fails, naming trustee 3.
    const forged: QvRecord = JSON.parse(JSON.stringify(record));
    for (const c of forged.ceremony.complaints) if (c.against === 3) c.upheld = false;
    const v = verifyRecord(forged, { group: defaultGroup });
    expect(v.failures).toContainEqual(expect.objectContaining({ check: 'complaint', trustee: 3 }));
  }, 120000);
});

/** `ballot` with its tracker and signature redone for `election` (its proofs left as they were). */
function retarget(election: Election, ballot: Ballot, secretKey: Uint8Array): Ballot {
  const hash = fromHex(election.electionHash!, 32);
  const tracker = computeTracker(
    hash,
    fromHex(ballot.publicKey, 32),
    ballot.selections.map((s) => ({
      alpha: fromHex(s.alpha, 32),
      beta: fromHex(s.beta, 32),
      c: s.proof.c.map((x) => fromHex(x, 32)),
      v: s.proof.v.map((x) => fromHex(x, 32)),
    })),
    {
      c: ballot.total.proof.c.map((x) => fromHex(x, 32)),
      v: ballot.total.proof.v.map((x) => fromHex(x, 32)),
    },
  );
  return {
    ...ballot,
    tracker: toHex(tracker),
    signature: toHex(signMessage(secretKey, ballotMessage(hash, tracker))),
  };
}
