import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { FencedError, Finalizer, finalizeVotesScript } from '../../coordinator/pipeline/finalizer';
import { Validator } from '../../coordinator/pipeline/validator';
import { systemClock } from '../../shared/clock';
import { newElectionId, newPartitionSalt, partitionOf } from '../../shared/elections/model';
import type { ElectionRecord } from '../../shared/elections/store';
import { createLogger } from '../../shared/logger';
import { type Lock, LockNotOwnedError, RedisMutex, mutexKeys } from '../../shared/mutex';
import { partitionKeys, partitionTag } from '../../shared/redis/keys';
import { plainBallot } from '../../shared/votes/ballot';
import { readAuditPage } from '../../shared/votes/read';
import { submitVote } from '../../shared/votes/submit';
import { verifyAudit } from '../../shared/votes/verify';
import { holdScript } from '../helpers/held-script';
import { deleteNamespace, testRedis } from '../helpers/redis';

/**
 * Invariant 3 for finalization (issue 4 "Done when"): a partition owner that was
 * paused past its lease, while another coordinator took the partition and finalized,
 * cannot finalize when it resumes — the finalize script refuses its fencing token and
 * writes nothing. Real Redis Cluster, the real Finalizer, Validator and RedisMutex.
 *
 * The election is built by hand and never registered as active, so the coordinators of
 * other test files (which share this Redis Cluster) never see it; the partition lock is
 * namespaced by the election id for the same reason (the pipeline's own is `{fin:<p>}`).
 */

const P = 2;
const COMMITTEE = ['v1', 'v2', 'v3'];
const log = createLogger({ component: 'test' }, 'silent');

describe('fenced finalization: a stale partition owner cannot finalize', () => {
  let redis: Cluster;
  let e: ElectionRecord;
  let resource: string;
  /** A majority of the committee (v1, v2) judges; v3 never does. */
  let validators: Validator[] = [];
  let voterSeq = 0;

  beforeAll(async () => {
    redis = testRedis();
    const id = newElectionId();
    e = {
      id,
      title: 'fencing',
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
      hideTotalsUntilClosed: false,
      closedAt: null,
      openedAt: new Date().toISOString(),
      closingAt: null,
      closePoints: null,
      scheduledOpensAt: null,
      tags: Array.from({ length: P }, (_, p) => partitionTag(id, p, P)),
      partitionSalt: newPartitionSalt(),
    };
    await Promise.all(e.tags.map((t) => redis.set(partitionKeys(t).gate, 'open')));
    resource = `fin:${id}:0`;
    validators = COMMITTEE.slice(0, 2).map((v) => new Validator(redis, v, systemClock, plainBallot, log));
  });

  afterAll(async () => {
    await deleteNamespace(redis, e.id);
    await redis.quit();
  });

  /** Submits `n` votes from new voters of partition 0 and has a majority of the committee judge them. */
  async function votesJudged(n: number): Promise<void> {
    for (let added = 0; added < n; ) {
      const voter = `voter-${e.id}-${voterSeq++}`;
      if (partitionOf(voter, P, e.partitionSalt) !== 0) continue;
      await submitVote(
        redis,
        systemClock,
        plainBallot,
        e,
        voter,
        { optionId: added % 3 ? 'yes' : 'no' },
        undefined,
        { waitReplicas: 0, waitTimeoutMs: 0 },
      );
      added++;
    }
    for (const v of validators) expect(await v.runOnce([e])).toBeGreaterThan(0);
  }

  /** Everything finalization writes in partition 0. */
  async function partitionState() {
    const k = partitionKeys(e.tags[0]!);
    const [finalized, head, fence, tally, stats, rejected, audit] = await Promise.all([
      redis.get(k.finalized),
      redis.get(k.head),
      redis.get(k.fence),
      redis.hgetall(k.tally),
      redis.hgetall(k.stats),
      redis.hgetall(k.rejected),
      redis.xrange(k.audit, '-', '+'),
    ]);
    return { finalized, head, fence, tally, stats, rejected, audit };
  }

  /** Waits until the lock's lease is over, locally and in Redis (the "pause"). */
  async function leaseOver(lock: Lock): Promise<void> {
    const until = Date.now() + 5000;
    while (!lock.lost || (await redis.exists(mutexKeys(resource).lock)) === 1) {
      if (Date.now() > until) throw new Error('the lease did not run out');
      await sleep(20);
    }
  }

  test('paused between reading and writing: its finalize is fenced after the new owner finalized', async () => {
    const mutex = new RedisMutex(redis, { ttlMs: 300 });
    await votesJudged(4);

    // Owner A takes the partition (no watchdog: nothing will extend its lease).
    const lockA = (await mutex.tryAcquire(resource, { ttlMs: 300 }))!;
    expect(lockA).not.toBeNull();

    // A reads the partition and prepares its batch, then "pauses" right before the
    // fenced write (a GC pause, a stopped process): its script call waits on a gate.
    const {
      client: pausedRedis,
      reachedWrite: atWrite,
      release: resume,
    } = holdScript(redis, finalizeVotesScript.sha);
    const finalizerA = new Finalizer(pausedRedis, systemClock, COMMITTEE, plainBallot, log);
    const staleWrite = finalizerA.finalizePartition(e, 0, lockA.fencingToken);
    staleWrite.catch(() => {}); // observed below
    await atWrite;

    // The lease runs out while A is paused; B takes the partition with a newer token
    // and finalizes the very batch A had prepared.
    await leaseOver(lockA);
    const lockB = (await mutex.tryAcquire(resource, { ttlMs: 10000 }))!;
    expect(lockB).not.toBeNull();
    expect(lockB.fencingToken).toBeGreaterThan(lockA.fencingToken);
    const finalizerB = new Finalizer(redis, systemClock, COMMITTEE, plainBallot, log);
    expect(await finalizerB.finalizePartition(e, 0, lockB.fencingToken)).toBe(4);
    const before = await partitionState();
    expect(before.fence).toBe(String(lockB.fencingToken));
    expect(before.audit).toHaveLength(4);

    // A resumes: the script refuses its token (before even comparing positions) and
    // writes nothing.
    resume();
    const err = await staleWrite.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(FencedError);
    expect((err as FencedError).current).toBe(lockB.fencingToken);
    expect(finalizerA.finalized).toBe(0);
    expect(await partitionState()).toEqual(before);

    // Resumed and re-reading, with new votes ready to finalize: still fenced, still
    // nothing written.
    await votesJudged(3);
    const ready = await partitionState();
    await expect(finalizerA.finalizePartition(e, 0, lockA.fencingToken)).rejects.toBeInstanceOf(FencedError);
    expect(await partitionState()).toEqual(ready);

    // A cannot release (or keep) a lock it no longer holds.
    await expect(lockA.release()).rejects.toBeInstanceOf(LockNotOwnedError);

    // The current owner finalizes the rest; the partition's log is whole and verifies.
    expect(await finalizerB.finalizePartition(e, 0, lockB.fencingToken)).toBe(3);
    const after = await partitionState();
    expect(after.stats).toEqual({ finalized: '7', entries: '7', head: after.head });
    expect(Number(after.tally['yes'] ?? 0) + Number(after.tally['no'] ?? 0)).toBe(7);
    const { entries } = await readAuditPage(redis, e, undefined, 1000);
    const report = verifyAudit(e.id, P, entries, {
      totals: { yes: Number(after.tally['yes'] ?? 0), no: Number(after.tally['no'] ?? 0) },
      finalized: 7,
      rejected: 0,
    });
    expect(report.problems).toEqual([]);
    await lockB.release();
  });

  test('an owner whose token was superseded is fenced even when its batch is still current', async () => {
    // The finalize script checks the fence before anything else: a stale owner whose
    // expectations (finalized position, head) are still right is refused all the same.
    const mutex = new RedisMutex(redis, { ttlMs: 200 });
    await votesJudged(2);
    const lockA = (await mutex.tryAcquire(resource, { ttlMs: 200 }))!;
    await leaseOver(lockA);
    const lockB = (await mutex.tryAcquire(resource, { ttlMs: 10000 }))!;
    expect(lockB.fencingToken).toBeGreaterThan(lockA.fencingToken);
    const finalizerB = new Finalizer(redis, systemClock, COMMITTEE, plainBallot, log);
    const finalizerA = new Finalizer(redis, systemClock, COMMITTEE, plainBallot, log);
    // B finalizes the first vote only (batch size 1), so its token is on the fence and
    // one ready vote is left for A to try.
    const onlyOne = new Finalizer(redis, systemClock, COMMITTEE, plainBallot, log, 1);
    expect(await onlyOne.finalizePartition(e, 0, lockB.fencingToken)).toBe(1);
    const before = await partitionState();
    await expect(finalizerA.finalizePartition(e, 0, lockA.fencingToken)).rejects.toMatchObject({
      name: 'FencedError',
      current: lockB.fencingToken,
    });
    expect(await partitionState()).toEqual(before);
    expect(await finalizerB.finalizePartition(e, 0, lockB.fencingToken)).toBe(1);
    await lockB.release();
  });
});
