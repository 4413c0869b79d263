import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { Finalizer, finalizeVotesScript } from '../../coordinator/pipeline/finalizer';
import { Validator } from '../../coordinator/pipeline/validator';
import { systemClock } from '../../shared/clock';
import { partitionOf } from '../../shared/elections/model';
import { type ElectionRecord, ElectionStore } from '../../shared/elections/store';
import { ApiError } from '../../shared/errors';
import { createLogger } from '../../shared/logger';
import { activeElectionsKey, electionKeys, partitionKeys } from '../../shared/redis/keys';
import { plainBallot } from '../../shared/votes/ballot';
import { readResults, readVote } from '../../shared/votes/read';
import { submitVote } from '../../shared/votes/submit';
import { holdScript } from '../helpers/held-script';
import { deleteNamespace, testRedis } from '../helpers/redis';

/**
 * The election lifecycle as one fenced state machine (issue 11, "Open, close and the
 * voting window are one atomic, fenced truth"), against the real Redis Cluster with the
 * real ElectionStore, Validator and Finalizer (in process: two of a three-member
 * committee judge, which is a majority).
 */
const P = 2;
const COMMITTEE = ['v1', 'v2', 'v3'];
const log = createLogger({ component: 'test' }, 'silent');
const options = [
  { id: 'yes', label: 'Yes' },
  { id: 'no', label: 'No' },
];
const noWait = { waitReplicas: 0, waitTimeoutMs: 0 };

describe('election lifecycle: fenced transitions and one closing point', () => {
  let redis: Cluster;
  let store: ElectionStore;
  let validators: Validator[];
  let finalizer: Finalizer;
  const created: string[] = [];
  let voterSeq = 0;

  beforeAll(() => {
    redis = testRedis();
    store = new ElectionStore(redis, systemClock, P);
    validators = COMMITTEE.slice(0, 2).map((v) => new Validator(redis, v, systemClock, plainBallot, log));
    finalizer = new Finalizer(redis, systemClock, COMMITTEE, plainBallot, log);
  });

  afterAll(async () => {
    for (const id of created) {
      await redis.srem(activeElectionsKey, id);
      await deleteNamespace(redis, id);
    }
    await redis.quit();
  });

  async function draft(extra: { opensAt?: string; closesAt?: string } = {}): Promise<ElectionRecord> {
    const e = await store.create({
      title: 'lifecycle',
      options,
      opensAt: extra.opensAt ?? null,
      closesAt: extra.closesAt ?? null,
      voters: null,
      hideTotalsUntilClosed: false,
    });
    created.push(e.id);
    return e;
  }

  /** A new voter whose votes land in partition `p` of `e` (placement is keyed by its secret salt). */
  function voterIn(e: ElectionRecord, p: number): string {
    for (;;) {
      const v = `lc-voter-${voterSeq++}`;
      if (partitionOf(v, P, e.partitionSalt) === p) return v;
    }
  }

  const vote = (e: ElectionRecord, voter: string, optionId = 'yes') =>
    submitVote(redis, systemClock, plainBallot, e, voter, { optionId }, undefined, noWait);

  /** Judges and finalizes everything pending of `e` (re-read from Redis, as a coordinator would). */
  async function pipelineRound(id: string): Promise<void> {
    const e = await store.require(id);
    for (const v of validators) await v.runOnce([e]);
    for (let p = 0; p < P; p++) await finalizer.finalizePartition(e, p, 1);
  }

  async function statusOf(e: ElectionRecord, voteId: string) {
    return readVote(redis, e, voteId, COMMITTEE, { sub: 'x', role: 'admin' });
  }

  async function gates(e: ElectionRecord): Promise<(string | null)[]> {
    return Promise.all(e.tags.map((t) => redis.get(partitionKeys(t).gate)));
  }

  async function rejection(p: Promise<unknown>): Promise<[number, string] | 'resolved'> {
    try {
      await p;
      return 'resolved';
    } catch (err) {
      if (err instanceof ApiError) return [err.status, err.code];
      throw err;
    }
  }

  test('open is idempotent only from draft; closed is final; close of a draft is refused', async () => {
    const e = await draft();
    expect(await rejection(store.close(e.id))).toEqual([409, 'invalid_state']);
    const opened = await store.open(e.id);
    expect(opened.status).toBe('open');
    const again = await store.open(e.id);
    expect(again).toEqual(opened); // unchanged, openedAt included
    const closed = await store.close(e.id);
    expect(closed.status).toBe('closed');
    expect(await rejection(store.open(e.id))).toEqual([409, 'invalid_state']);
    expect(await store.close(e.id)).toEqual(closed); // unchanged
    expect((await store.require(e.id)).status).toBe('closed');
    expect((await gates(e)).every((g) => g?.startsWith('closed|'))).toBe(true);
  });

  test('an opener that read "open" before a close cannot reopen the gates after it', async () => {
    const e = await draft();
    await store.open(e.id);
    // A second opener whose writes reach Redis late (a slow Lambda, a GC pause): it reads
    // the election as open, then its gate writes land after a close has finished.
    const slowRedis = new Proxy(redis, {
      get(target, prop) {
        const real = Reflect.get(target, prop, target);
        if (typeof real !== 'function') return real;
        if (prop === 'set' || prop === 'evalsha' || prop === 'eval') {
          return async (...args: unknown[]) => {
            await sleep(400);
            return (real as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return (real as (...a: unknown[]) => unknown).bind(target);
      },
    }) as Cluster;
    const slowStore = new ElectionStore(slowRedis, systemClock, P);
    const lateOpen = slowStore.open(e.id);
    await sleep(50);
    await store.close(e.id);
    await lateOpen;
    expect((await store.require(e.id)).status).toBe('closed');
    expect((await gates(e)).filter((g) => g === 'open')).toEqual([]);
    expect((await gates(e)).every((g) => g?.startsWith('closed|'))).toBe(true);
    const voter = voterIn(e, 0);
    expect(await rejection(vote(e, voter))).toEqual([409, 'election_not_open']);
  });

  test('50 parallel opens racing a close end closed, with every gate closed', async () => {
    for (let round = 0; round < 3; round++) {
      const e = await draft();
      await store.open(e.id);
      const opens = Array.from({ length: 50 }, () => store.open(e.id).catch((err: unknown) => err));
      const close = store.close(e.id);
      const more = Array.from({ length: 50 }, () => store.open(e.id).catch((err: unknown) => err));
      await Promise.all([close, ...opens, ...more]);
      for (const r of [...opens, ...more]) {
        const v = await r;
        // Each open either saw it open (unchanged) or closed (409), never anything else.
        if (v instanceof ApiError) expect([v.status, v.code]).toEqual([409, 'invalid_state']);
        else expect((v as ElectionRecord).status).toBe('open');
      }
      const final = await store.require(e.id);
      expect(final.status).toBe('closed');
      expect((await gates(e)).filter((g) => g === 'open')).toEqual([]); // intake is shut
      expect(await gates(e)).toEqual(final.closePoints!.map((p) => `closed|${p}`));
    }
  });

  test('every vote taken before the close is counted; a vote after the closing point never is', async () => {
    const e = await draft();
    const open = await store.open(e.id);
    const before = await Promise.all([vote(open, voterIn(open, 0)), vote(open, voterIn(open, 1), 'no')]);
    const closed = await store.close(e.id);
    // The recorded closing point of each partition is its last vote when the gate closed.
    const lastIds = await Promise.all(
      e.tags.map(async (t) => (await redis.xrevrange(partitionKeys(t).votes, '+', '-', 'COUNT', 1))[0]![0]),
    );
    expect(closed.closePoints).toEqual(lastIds);
    // A master failover lost partition 0's closed gate (written, not yet replicated):
    // the promoted replica takes one more vote.
    await redis.set(partitionKeys(e.tags[0]!).gate, 'open');
    const late = await vote(closed, voterIn(closed, 0));
    for (let i = 0; i < 3; i++) await pipelineRound(e.id);
    for (const v of before) expect((await statusOf(closed, v.voteId)).status).toBe('finalized');
    expect(await statusOf(closed, late.voteId)).toMatchObject({ status: 'rejected', reason: 'after_close' });
    const results = await readResults(redis, systemClock, await store.require(e.id));
    expect(results).toMatchObject({ totals: { yes: 1, no: 1 }, finalized: 2, rejected: 1, final: true });
    // The leader re-asserts the gates at the recorded points: intake is shut again.
    await store.sealGates(await store.require(e.id));
    expect(await gates(e)).toEqual(closed.closePoints!.map((p) => `closed|${p}`));
    expect(await rejection(vote(closed, voterIn(closed, 0)))).toEqual([409, 'election_not_open']);
  });

  test('a validator and finalizer with a stale (still open) record apply the recorded points too', async () => {
    const e = await draft();
    const open = await store.open(e.id);
    const before = await vote(open, voterIn(open, 1));
    await store.close(e.id);
    await redis.set(partitionKeys(e.tags[1]!).gate, 'open'); // a failover lost the closed gate
    const late = await vote(open, voterIn(open, 1));
    // Judged and finalized with the record as it was before the close (a cache a moment old).
    for (let i = 0; i < 2; i++) {
      for (const v of validators) await v.runOnce([open]);
      for (let p = 0; p < P; p++) await finalizer.finalizePartition(open, p, 1);
    }
    expect((await statusOf(open, before.voteId)).status).toBe('finalized');
    expect(await statusOf(open, late.voteId)).toMatchObject({ status: 'rejected', reason: 'after_close' });
    expect(await statusOf(open, late.voteId)).toMatchObject({ approvals: 0 }); // validators agree
  });

  test('a manual open before opensAt moves the window to now: its votes count', async () => {
    const scheduled = new Date(Date.now() + 3_600_000).toISOString();
    const e = await draft({ opensAt: scheduled });
    const opened = await store.open(e.id);
    expect(Date.parse(opened.opensAt!)).toBeLessThanOrEqual(Date.now());
    expect(opened.scheduledOpensAt).toBe(scheduled);
    const v = await vote(opened, voterIn(opened, 1));
    for (let i = 0; i < 2; i++) await pipelineRound(e.id);
    expect((await statusOf(opened, v.voteId)).status).toBe('finalized');
  });

  test('a vote the open gate took after closesAt (the close came late) still counts', async () => {
    const e = await draft({ closesAt: new Date(Date.now() + 500).toISOString() });
    const opened = await store.open(e.id);
    await sleep(3000); // well past closesAt + any grace: the leader was late closing
    const v = await vote(opened, voterIn(opened, 0));
    await store.close(e.id);
    for (let i = 0; i < 2; i++) await pipelineRound(e.id);
    expect((await statusOf(opened, v.voteId)).status).toBe('finalized');
  });

  test('opening after closesAt has passed is refused and changes nothing', async () => {
    const e = await draft({ closesAt: new Date(Date.now() + 200).toISOString() });
    await sleep(300);
    expect(await rejection(store.open(e.id))).toEqual([409, 'invalid_state']);
    expect((await store.require(e.id)).status).toBe('draft');
    expect(await gates(e)).toEqual([null, null]);
  });

  test('a close whose caller died after recording its intent is finished by the next close', async () => {
    const e = await draft();
    await store.open(e.id);
    // The intent is recorded, then the caller dies before closing any gate.
    await redis.hset(electionKeys(e.id).meta, 'closingAt', new Date().toISOString());
    const half = await store.require(e.id);
    expect(half.closingAt).not.toBeNull();
    // An open now leaves it alone (it must not reopen what is closing)...
    expect((await store.open(e.id)).status).toBe('open');
    // ...and the leader's duty (a fenced close) completes it.
    const closed = await store.close(e.id, 1);
    expect(closed.status).toBe('closed');
    expect((await gates(e)).every((g) => g?.startsWith('closed|'))).toBe(true);
  });

  test('reset: refused for a closed, counted election unless in test mode; every reset is recorded', async () => {
    const e = await draft();
    const open = await store.open(e.id);
    await vote(open, voterIn(open, 0));
    // An open election may be reset outside test mode (nothing is final yet): recorded.
    await store.reset(e.id, { testMode: false, by: 'admin-1' });
    const v = await vote(open, voterIn(open, 1));
    await store.close(e.id);
    for (let i = 0; i < 2; i++) await pipelineRound(e.id);
    expect((await statusOf(open, v.voteId)).status).toBe('finalized');
    const head = await redis.get(partitionKeys(e.tags[1]!).head);
    expect(await rejection(store.reset(e.id, { testMode: false, by: 'admin-1' }))).toEqual([
      403,
      'forbidden',
    ]);
    expect((await readResults(redis, systemClock, await store.require(e.id))).finalized).toBe(1);
    await store.reset(e.id, { testMode: true, by: 'admin-2' });
    expect((await readResults(redis, systemClock, await store.require(e.id))).finalized).toBe(0);
    const resets = await store.resets(e.id);
    expect(resets).toHaveLength(2);
    expect(resets[0]).toMatchObject({ by: 'admin-1', status: 'open', finalized: 0 });
    expect(resets[1]).toMatchObject({ by: 'admin-2', status: 'closed', finalized: 1, heads: ['', head] });
  });

  test('a finalize planned before a reset cannot count an erased vote after it', async () => {
    const e = await draft();
    const open = await store.open(e.id);
    const before = await vote(open, voterIn(open, 0));
    for (const v of validators) await v.runOnce([open]);
    // The owner plans its batch (the erased vote) and is held right before its write.
    const {
      client: heldRedis,
      reachedWrite: atWrite,
      release: resume,
    } = holdScript(redis, finalizeVotesScript.sha);
    const owner = new Finalizer(heldRedis, systemClock, COMMITTEE, plainBallot, log);
    const held = owner.finalizePartition(open, 0, 1);
    await atWrite;
    await store.reset(e.id, { testMode: false, by: 'admin-1' });
    resume();
    await held.catch(() => 0);
    // The write of the planned batch was refused: nothing counted, the voter may vote again.
    expect(await readResults(redis, systemClock, await store.require(e.id))).toMatchObject({
      finalized: 0,
      totals: {},
    });
    expect((await redis.xrange(partitionKeys(e.tags[0]!).audit, '-', '+')).length).toBe(0);
    expect(
      await rejection(readVote(redis, open, before.voteId, COMMITTEE, { sub: 'x', role: 'admin' })),
    ).toEqual([404, 'not_found']);
    // Votes after the reset are judged and finalized as usual, by the same owner, once it
    // and the validators dropped their cached positions (as coordinators do when the
    // reset's change notice reaches them; the refusal above did not need it).
    for (const v of validators) v.forget(e.id);
    owner.forget(e.id);
    const after = await vote(open, voterIn(open, 0), 'no');
    for (const v of validators) await v.runOnce([open]);
    expect(await owner.finalizePartition(open, 0, 1)).toBe(1);
    expect((await statusOf(open, after.voteId)).status).toBe('finalized');
    expect(await readResults(redis, systemClock, await store.require(e.id))).toMatchObject({
      finalized: 1,
      totals: { no: 1 },
    });
  });
});
