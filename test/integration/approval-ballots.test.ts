import type { Cluster } from 'ioredis';
import { Finalizer } from '../../coordinator/pipeline/finalizer';
import { Validator } from '../../coordinator/pipeline/validator';
import { systemClock } from '../../shared/clock';
import { type Election, newElectionId, partitionOf } from '../../shared/elections/model';
import type { ElectionRecord } from '../../shared/elections/store';
import { createLogger } from '../../shared/logger';
import { partitionKeys, partitionTag } from '../../shared/redis/keys';
import { electionBallots } from '../../shared/secret/election-ballots';
import { plainBallot } from '../../shared/votes/ballot';
import { readAuditPage, readResults, readVote } from '../../shared/votes/read';
import { type SubmitOptions, submitVote } from '../../shared/votes/submit';
import { verifyAudit } from '../../shared/votes/verify';
import { deleteNamespace, testRedis } from '../helpers/redis';

/**
 * Weighted votes and "choose up to m" (approval) ballots in open elections (issue 17),
 * on the real Redis Cluster with the real submit path, Validator and Finalizer: what a
 * ballot chose and its weight reach the tally, the audit log and the recount of
 * `npm run verify` (verifyAudit) exactly, and what the submit path would refuse is
 * refused by the validators too when it reaches the vote log past it.
 *
 * Elections are built by hand and never registered as active, so the coordinators of
 * other test files (which share this Redis Cluster) never touch them.
 */

const P = 2;
const COMMITTEE = ['v1', 'v2', 'v3'];
const log = createLogger({ component: 'test' }, 'silent');
const noWait: SubmitOptions = { waitReplicas: 0, waitTimeoutMs: 0 };

describe('weighted votes and approval ballots through the pipeline', () => {
  let redis: Cluster;
  const made: ElectionRecord[] = [];

  beforeAll(() => {
    redis = testRedis();
  });

  afterAll(async () => {
    for (const e of made) await deleteNamespace(redis, e.id);
    await redis.quit();
  });

  /** An open election of options a, b, c, its gates open. */
  async function openElection(extra: Partial<Election> = {}): Promise<ElectionRecord> {
    const id = newElectionId();
    const e: ElectionRecord = {
      id,
      title: 'approval',
      options: [
        { id: 'a', label: 'A' },
        { id: 'b', label: 'B' },
        { id: 'c', label: 'C' },
      ],
      status: 'open',
      opensAt: null,
      closesAt: null,
      createdAt: new Date().toISOString(),
      restricted: false,
      partitions: P,
      hideTotalsUntilClosed: false,
      closedAt: null,
      openedAt: new Date().toISOString(),
      closingAt: null,
      closePoints: null,
      scheduledOpensAt: null,
      tags: Array.from({ length: P }, (_, p) => partitionTag(id, p, P)),
      partitionSalt: 'c3'.repeat(32),
      ...extra,
    };
    made.push(e);
    await Promise.all(e.tags.map((t) => redis.set(partitionKeys(t).gate, 'open')));
    return e;
  }

  /** A majority of the committee judges, then the owner finalizes every partition. */
  async function settle(e: ElectionRecord): Promise<number> {
    for (const id of COMMITTEE.slice(0, 2)) {
      await new Validator(redis, id, systemClock, electionBallots, log).runOnce([e]);
    }
    const finalizer = new Finalizer(redis, systemClock, COMMITTEE, electionBallots, log);
    let done = 0;
    for (let p = 0; p < P; p++) done += await finalizer.finalizePartition(e, p, 1);
    return done;
  }

  async function auditOf(e: ElectionRecord) {
    return (await readAuditPage(redis, e, undefined, 1000)).entries;
  }

  /** Every vote log entry and voter record of an election (to show nothing was stored). */
  async function stored(e: ElectionRecord): Promise<number> {
    let n = 0;
    for (const t of e.tags) {
      const k = partitionKeys(t);
      n += (await redis.xlen(k.votes)) + (await redis.hlen(k.voters));
    }
    return n;
  }

  /** Appends an entry straight to the vote log (past the submit path), as the script would. */
  async function inject(e: ElectionRecord, voter: string, option: string, n: number, weight?: string) {
    const k = partitionKeys(e.tags[partitionOf(voter, P, e.partitionSalt)]!);
    const token = `${String(n % 10).repeat(64)}.${String(n % 10).repeat(32)}.${'f'.repeat(32)}`;
    const fields = ['v', `${option}|${token}|${Date.now()}|${voter}`, ...(weight ? ['w', weight] : [])];
    const sid = await redis.xadd(k.votes, '*', ...fields);
    await redis.hset(k.voters, voter, `${sid}|||${token}`);
  }

  test('an approval ballot of 2 of 3 options counts once for each, weighted; ballots counts ballots', async () => {
    const e = await openElection({ maxChoices: 2 });
    const submit = (voter: string, body: unknown, weight = 1) =>
      submitVote(redis, systemClock, plainBallot, e, voter, body, undefined, { ...noWait, weight });
    const two = await submit('two', { optionIds: ['c', 'a'] });
    const one = await submit('one', { optionIds: ['b'] });
    const single = await submit('single', { optionId: 'b' });
    const heavy = await submit('heavy', { optionIds: ['a', 'b'] }, 3);
    expect(await settle(e)).toBe(4);

    const results = await readResults(redis, systemClock, e);
    expect(results.totals).toEqual({ a: 1 + 3, b: 1 + 1 + 3, c: 1 });
    expect(results).toMatchObject({ ballots: 4, finalized: 4, rejected: 0 });
    const entries = await auditOf(e);
    const optionOf = (r: { receipt: string }) => entries.find((x) => x.receipt === r.receipt)?.option;
    // Recorded in ballot order; a single choice (either body) exactly as before.
    expect([optionOf(two), optionOf(one), optionOf(single), optionOf(heavy)]).toEqual([
      'a,c',
      'b',
      'b',
      'a,b',
    ]);
    const report = verifyAudit(e.id, P, entries, results, [
      { receipt: two.receipt, nonce: two.receiptNonce },
      { receipt: heavy.receipt, nonce: heavy.receiptNonce },
    ]);
    expect(report.problems).toEqual([]);
    expect(report.totals).toEqual({ a: 4, b: 5, c: 1 });
    expect(report.counted).toBe(4);
    expect(verifyAudit(e.id, P, entries, { ...results, ballots: 5 }).problems).toEqual([
      'audit log has 4 counted ballots, results say 5',
    ]);
    // The voter reads their choices back as a list; a single choice as optionId.
    const view = await readVote(redis, e, two.voteId, COMMITTEE, { sub: 'two', role: 'voter' });
    expect(view).toMatchObject({ status: 'finalized', optionIds: ['a', 'c'] });
    expect(view.optionId).toBeUndefined();
    const singleView = await readVote(redis, e, one.voteId, COMMITTEE, { sub: 'one', role: 'voter' });
    expect(singleView.optionId).toBe('b');
    expect(singleView.optionIds).toBeUndefined();
  });

  test('duplicates, too many, none and unknown options: 400 with a clear code, nothing stored', async () => {
    const e = await openElection({ maxChoices: 2 });
    const single = await openElection();
    const cases: [ElectionRecord, unknown, number, string][] = [
      [e, { optionIds: ['a', 'a'] }, 400, 'duplicate_option'],
      [e, { optionIds: ['a', 'b', 'c'] }, 400, 'too_many_choices'],
      [e, { optionIds: [] }, 400, 'invalid_request'],
      [e, { optionIds: ['a', 'zz'] }, 400, 'invalid_option'],
      [e, { optionId: 'a', optionIds: ['a'] }, 400, 'invalid_request'],
      [single, { optionIds: ['a', 'b'] }, 400, 'too_many_choices'],
    ];
    for (const [election, body, status, code] of cases) {
      await expect(
        submitVote(redis, systemClock, plainBallot, election, 'refused', body, 'key-1', noWait),
      ).rejects.toMatchObject({ status, code });
    }
    expect(await stored(e)).toBe(0);
    expect(await stored(single)).toBe(0);
  });

  test('Idempotency-Key: the same set (any order) is a replay, another set is 422', async () => {
    const e = await openElection({ maxChoices: 3 });
    const submit = (body: unknown) =>
      submitVote(redis, systemClock, plainBallot, e, 'retrying', body, 'same-key', noWait);
    const first = await submit({ optionIds: ['a', 'b'] });
    const again = await submit({ optionIds: ['b', 'a'] });
    expect(again).toMatchObject({ duplicate: true, voteId: first.voteId, receipt: first.receipt });
    await expect(submit({ optionIds: ['a', 'c'] })).rejects.toMatchObject({
      status: 422,
      code: 'idempotency_key_reused',
    });
    await expect(submit({ optionId: 'a' })).rejects.toMatchObject({ status: 422 });
    expect(await redis.xlen(partitionKeys(e.tags[partitionOf('retrying', P, e.partitionSalt)]!).votes)).toBe(
      1,
    );
  });

  test('a multi-choice entry written past the submit path is rejected by the validators, with a reason', async () => {
    const single = await openElection();
    const e = await openElection({ maxChoices: 2 });
    await inject(single, 'two-in-single', 'a,b', 1);
    await inject(e, 'three', 'a,b,c', 2);
    await inject(e, 'twice', 'a,a', 3);
    await inject(e, 'unknown', 'a,zz', 4);
    await inject(e, 'unordered', 'b,a', 5);
    await inject(e, 'empty', '', 6);
    await inject(e, 'fine', 'a,b', 7);
    expect(await settle(single)).toBe(1);
    expect(await settle(e)).toBe(6);
    const reasons = async (x: ElectionRecord) =>
      (await auditOf(x)).map((en) => `${en.option}:${en.outcome}:${en.reason}`).sort();
    expect(await reasons(single)).toEqual(['a,b:rejected:too_many_choices']);
    expect(await reasons(e)).toEqual(
      [
        'a,b,c:rejected:too_many_choices',
        'a,a:rejected:duplicate_option',
        'a,zz:rejected:invalid_option',
        'b,a:rejected:malformed_choice',
        ':rejected:invalid_option',
        'a,b:counted:',
      ].sort(),
    );
    const results = await readResults(redis, systemClock, e);
    expect(results).toMatchObject({ totals: { a: 1, b: 1, c: 0 }, ballots: 1, rejected: 5 });
    expect((await readResults(redis, systemClock, single)).totals).toEqual({ a: 0, b: 0, c: 0 });
    expect(verifyAudit(e.id, P, await auditOf(e), results).problems).toEqual([]);
  });

  test('a vote of weight 3 counts 3 in the totals and in the recount of npm run verify', async () => {
    const e = await openElection();
    const heavy = await submitVote(
      redis,
      systemClock,
      plainBallot,
      e,
      'heavy',
      { optionId: 'a' },
      undefined,
      {
        ...noWait,
        weight: 3,
      },
    );
    const light = await submitVote(
      redis,
      systemClock,
      plainBallot,
      e,
      'light',
      { optionId: 'b' },
      undefined,
      noWait,
    );
    expect(await settle(e)).toBe(2);

    const results = await readResults(redis, systemClock, e);
    expect(results.totals).toEqual({ a: 3, b: 1, c: 0 });
    expect(results.finalized).toBe(2);
    const entries = await auditOf(e);
    const report = verifyAudit(e.id, P, entries, results, [
      { receipt: heavy.receipt, nonce: heavy.receiptNonce },
      { receipt: light.receipt, nonce: light.receiptNonce },
    ]);
    expect(report.problems).toEqual([]);
    expect(report.totals).toEqual({ a: 3, b: 1 });
    // Only the weighted ballot's entry names a weight; the hash covers it.
    expect(entries.find((x) => x.receipt === heavy.receipt)).toMatchObject({ option: 'a', weight: 3 });
    const plain = entries.find((x) => x.receipt === light.receipt)!;
    expect(plain).not.toHaveProperty('weight');
    const tampered = entries.map((x) => (x.receipt === heavy.receipt ? { ...x, weight: 1 } : x));
    expect(verifyAudit(e.id, P, tampered, results).problems).toEqual(
      expect.arrayContaining(['option a: audit log counts 1, results say 3']),
    );
  });

  test('a weight-1 single choice is stored exactly as before weights (vote log and audit entry)', async () => {
    const e = await openElection();
    const r = await submitVote(redis, systemClock, plainBallot, e, 'plain', { optionId: 'c' }, undefined, {
      ...noWait,
      weight: 1,
    });
    const k = partitionKeys(e.tags[partitionOf('plain', P, e.partitionSalt)]!);
    const [[, fields]] = (await redis.xrange(k.votes, '-', '+')) as [[string, string[]]];
    expect(fields).toHaveLength(2);
    expect(fields[0]).toBe('v');
    expect(fields[1]).toMatch(/^c\|[0-9a-f.]+\|\d+\|plain$/);
    expect(await settle(e)).toBe(1);
    const [[, audit]] = (await redis.xrange(k.audit, '-', '+')) as [[string, string[]]];
    const names = audit.filter((_, i) => i % 2 === 0);
    expect(names).toEqual([
      'seq',
      'ballot',
      'receipt',
      'option',
      'outcome',
      'reason',
      'prev',
      'hash',
      'vote',
      'at',
    ]);
    expect((await auditOf(e))[0]).toMatchObject({ receipt: r.receipt, option: 'c', outcome: 'counted' });
  });

  test('weights the submit path refuses: out of range (caller bug) and any weight on a secret ballot', async () => {
    const e = await openElection();
    for (const weight of [0, 1001, 2.5]) {
      await expect(
        submitVote(redis, systemClock, plainBallot, e, 'w', { optionId: 'a' }, undefined, {
          ...noWait,
          weight,
        }),
      ).rejects.toThrow(RangeError);
    }
    const secret = { ...e, ballot: 'secret' as const };
    await expect(
      submitVote(redis, systemClock, plainBallot, secret, 'w', { optionId: 'a' }, undefined, {
        ...noWait,
        weight: 2,
      }),
    ).rejects.toMatchObject({ status: 409, code: 'weight_not_supported' });
    expect(await redis.xlen(partitionKeys(e.tags[partitionOf('w', P, e.partitionSalt)]!).votes)).toBe(0);
  });

  test('a weight written past the submit path (out of range, unreadable) is rejected by the validators', async () => {
    const e = await openElection();
    await inject(e, 'huge', 'a', 1, '1001');
    await inject(e, 'junk', 'a', 2, '3x');
    expect(await settle(e)).toBe(2);
    const entries = await auditOf(e);
    expect(entries.map((x) => [x.outcome, x.reason, x.weight]).sort()).toEqual([
      ['rejected', 'invalid_weight', 0],
      ['rejected', 'invalid_weight', 1001],
    ]);
    const results = await readResults(redis, systemClock, e);
    expect(results.totals).toEqual({ a: 0, b: 0, c: 0 });
    expect(verifyAudit(e.id, P, entries, results).problems).toEqual([]);
  });
});
