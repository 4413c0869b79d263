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
import { readAuditPage, readResults } from '../../shared/votes/read';
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
    const inject = async (voter: string, weight: string, n: number) => {
      const k = partitionKeys(e.tags[partitionOf(voter, P, e.partitionSalt)]!);
      const token = `${String(n).repeat(64)}.${String(n).repeat(32)}.${'f'.repeat(32)}`;
      const sid = await redis.xadd(k.votes, '*', 'v', `a|${token}|${Date.now()}|${voter}`, 'w', weight);
      await redis.hset(k.voters, voter, `${sid}|||${token}`);
    };
    await inject('huge', '1001', 1);
    await inject('junk', '3x', 2);
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
