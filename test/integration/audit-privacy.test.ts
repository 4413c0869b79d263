import type { Cluster } from 'ioredis';
import { Finalizer } from '../../coordinator/pipeline/finalizer';
import { Validator } from '../../coordinator/pipeline/validator';
import { systemClock } from '../../shared/clock';
import { newElectionId, parseVoteId, partitionOf } from '../../shared/elections/model';
import { ElectionStore, type ElectionRecord, publicElection } from '../../shared/elections/store';
import { createLogger } from '../../shared/logger';
import { electionIndexKey, electionKeys, partitionKeys, partitionTag } from '../../shared/redis/keys';
import { plainBallot } from '../../shared/votes/ballot';
import { readAuditPage, readResults, readVote } from '../../shared/votes/read';
import { type SubmitResult, submitVote } from '../../shared/votes/submit';
import { verifyAudit } from '../../shared/votes/verify';
import { deleteNamespace, testRedis } from '../helpers/redis';

/**
 * Ballot privacy of the audit log (issue 11), on the real Redis Cluster with the real
 * submit path, Validator and Finalizer:
 * - while an election hides its totals, no read shows an option (audit, per-vote reads
 *   by others, results and with them every tally.updated event);
 * - published entries carry a random ballot id, no vote id and no time, and the
 *   partition of a voter is keyed by a secret of the election;
 * - the results publish every partition's chain head, which the log verifies against.
 *
 * The election is built by hand and never registered as active, so the coordinators of
 * other test files (which share this Redis Cluster) never touch it.
 */

const P = 4;
const COMMITTEE = ['v1', 'v2', 'v3'];
const log = createLogger({ component: 'test' }, 'silent');

describe('ballot privacy of the audit log', () => {
  let redis: Cluster;
  let e: ElectionRecord;
  const votes: { voter: string; option: string; r: SubmitResult }[] = [];

  beforeAll(async () => {
    redis = testRedis();
    const id = newElectionId();
    e = {
      id,
      title: 'privacy',
      options: [
        { id: 'yes', label: 'Yes' },
        { id: 'no', label: 'No' },
      ],
      status: 'open',
      opensAt: null,
      closesAt: null,
      createdAt: new Date().toISOString(),
      restricted: false,
      partitions: P,
      hideTotalsUntilClosed: true,
      closedAt: null,
      openedAt: new Date().toISOString(),
      closingAt: null,
      closePoints: null,
      scheduledOpensAt: null,
      tags: Array.from({ length: P }, (_, p) => partitionTag(id, p, P)),
      partitionSalt: 'a5'.repeat(32),
    };
    await Promise.all(e.tags.map((t) => redis.set(partitionKeys(t).gate, 'open')));
    for (let i = 0; i < 12; i++) {
      const voter = `privacy-voter-${id}-${i}`;
      const option = i % 3 ? 'yes' : 'no';
      const r = await submitVote(redis, systemClock, plainBallot, e, voter, { optionId: option }, undefined, {
        waitReplicas: 0,
        waitTimeoutMs: 0,
      });
      votes.push({ voter, option, r });
    }
    const validators = COMMITTEE.slice(0, 2).map(
      (v) => new Validator(redis, v, systemClock, plainBallot, log),
    );
    for (const v of validators) await v.runOnce([e]);
    const finalizer = new Finalizer(redis, systemClock, COMMITTEE, plainBallot, log);
    let done = 0;
    for (let p = 0; p < P; p++) done += await finalizer.finalizePartition(e, p, 1);
    expect(done).toBe(12);
  });

  afterAll(async () => {
    await deleteNamespace(redis, e.id);
    await redis.quit();
  });

  const closed = (): ElectionRecord => ({ ...e, status: 'closed', closedAt: new Date().toISOString() });

  test('while totals are hidden: no audit entry, no chain head, no option of another voter', async () => {
    const page = await readAuditPage(redis, e, undefined, 1000);
    expect(page).toEqual({ entries: [], nextCursor: null, hidden: true });
    // Even an admin's (operator) read and a later page show nothing.
    expect((await readAuditPage(redis, e, '1:', 1000, true)).entries).toEqual([]);
    const results = await readResults(redis, systemClock, e);
    expect(results).toMatchObject({ totals: {}, hidden: true, finalized: 12 });
    expect(results.chainHeads).toBeUndefined();
    expect(JSON.stringify(results)).not.toMatch(/"(yes|no)"/);

    const { voter, option, r } = votes[0]!;
    const asAuditor = await readVote(redis, e, r.voteId, COMMITTEE, { sub: 'someone', role: 'auditor' });
    const asAdmin = await readVote(redis, e, r.voteId, COMMITTEE, { sub: 'root', role: 'admin' });
    for (const view of [asAuditor, asAdmin]) {
      expect(view.status).toBe('finalized');
      expect(view.optionId).toBeUndefined();
      expect(view.receiptNonce).toBeUndefined();
    }
    const own = await readVote(redis, e, r.voteId, COMMITTEE, { sub: voter, role: 'voter' });
    expect(own).toMatchObject({
      optionId: option,
      receipt: r.receipt,
      ballotId: r.ballotId,
      receiptNonce: r.receiptNonce,
    });
  });

  test('after close: entries carry a random ballot id, no vote id and no time; receipts bind to them', async () => {
    const page = await readAuditPage(redis, closed(), undefined, 1000);
    expect(page.entries).toHaveLength(12);
    const text = JSON.stringify(page);
    for (const { r } of votes) {
      const { streamId } = parseVoteId(r.voteId);
      const ms = streamId.split('-')[0]!;
      expect(text).not.toContain(r.voteId);
      expect(text).not.toContain(ms); // neither the stream id nor the millisecond of the vote
      expect(r.ballotId).toMatch(/^[0-9a-f]{32}$/);
      expect(r.receiptNonce).toMatch(/^[0-9a-f]{32}$/);
    }
    for (const entry of page.entries) {
      expect(Object.keys(entry).sort()).toEqual(
        ['ballotId', 'hash', 'option', 'outcome', 'partition', 'prev', 'reason', 'receipt', 'seq'].sort(),
      );
    }
    // Paging with a one-entry page: the cursor carries no time either.
    const one = await readAuditPage(redis, closed(), undefined, 1);
    expect(one.nextCursor).toMatch(/^\d+:0-\d+$/);
    // The ballot id the voter got is the one in the entry carrying their receipt.
    for (const { r, option } of votes) {
      const entry = page.entries.find((x) => x.receipt === r.receipt);
      expect(entry).toMatchObject({ ballotId: r.ballotId, option, partition: parseVoteId(r.voteId).p });
    }
    // The operator's view (admins) adds the private vote id and finalization time.
    const operator = await readAuditPage(redis, closed(), undefined, 1000, true);
    expect(operator.entries.map((x) => x.voteId).sort()).toEqual(votes.map((v) => v.r.voteId).sort());
  });

  test('the partition of a voter follows the election secret, not a public hash of the user id', async () => {
    for (const { voter, r } of votes) {
      expect(parseVoteId(r.voteId).p).toBe(partitionOf(voter, P, e.partitionSalt));
    }
    const publicHash = votes.filter(({ voter, r }) => partitionOf(voter, P, '') === parseVoteId(r.voteId).p);
    expect(publicHash.length).toBeLessThan(votes.length);
    // A new election gets its own secret salt, kept out of every public view.
    const store = new ElectionStore(redis, systemClock, P);
    const made = await store.create({
      title: 'salted',
      options: e.options,
      opensAt: null,
      closesAt: null,
      voters: null,
      hideTotalsUntilClosed: false,
    });
    try {
      expect(made.partitionSalt).toMatch(/^[0-9a-f]{64}$/);
      expect((await store.get(made.id))?.partitionSalt).toBe(made.partitionSalt);
      expect(JSON.stringify(publicElection(made))).not.toContain(made.partitionSalt);
      expect(publicElection(made)).not.toHaveProperty('partitionSalt');
    } finally {
      await redis.del(electionKeys(made.id).meta);
      await redis.zrem(electionIndexKey, made.id);
    }
  });

  test('the results publish every chain head; the log verifies against them, receipts with nonces bind', async () => {
    const results = await readResults(redis, systemClock, closed());
    expect(Object.keys(results.chainHeads ?? {})).toEqual(['0', '1', '2', '3']);
    expect(Object.values(results.chainHeads!).reduce((n, h) => n + h.entries, 0)).toBe(12);
    const { entries } = await readAuditPage(redis, closed(), undefined, 1000);
    const checks = votes.map(({ r }) => ({ receipt: r.receipt, nonce: r.receiptNonce }));
    const report = verifyAudit(e.id, P, entries, results, checks);
    expect(report.problems).toEqual([]);
    expect(report.heads).toEqual(results.chainHeads);
    expect(report.totals).toEqual({ yes: 8, no: 4 });
  });
});
