import type { Cluster } from 'ioredis';
import { leaderRenewScript, recordVoteScript } from '../../coordinator/cluster-scripts';
import { RedisElectionLedger, ledgerBacks } from '../../coordinator/peer-ledger';
import { clusterKeysFor } from '../../shared/redis/keys';
import { runScript } from '../../shared/redis/scripts';
import { deleteNamespace, testRedis, uniqueNs } from '../helpers/redis';

/**
 * The election's Lua scripts run directly against the test run's real Redis Cluster:
 * at most one leader per term (leader-renew) and one vote per node per term
 * (record-vote), whatever a coordinator's memory believes.
 */
describe('election scripts on a real Redis Cluster', () => {
  let redis: Cluster;
  let ns: string;
  let keys: ReturnType<typeof clusterKeysFor>;

  beforeAll(() => {
    redis = testRedis();
  });
  beforeEach(() => {
    ns = uniqueNs('es');
    keys = clusterKeysFor(ns);
  });
  afterEach(async () => {
    await deleteNamespace(redis, ns);
  });
  afterAll(async () => {
    await redis.quit();
  });

  const renew = (term: number, id: string, leaseMs = 5000) =>
    runScript(
      redis,
      leaderRenewScript,
      [keys.leaderFence, keys.leader, keys.leaderLease],
      [String(term), id, String(Date.now()), String(leaseMs)],
    );

  test('leader-renew: a different leader id in the same term is refused; the same leader renews; a higher term takes over', async () => {
    expect(await renew(3, 'c1')).toEqual({ ok: true, term: 3 });
    // A second leader of term 3 (the attack: two leaders in one term) is refused and writes nothing.
    expect(await renew(3, 'c2')).toEqual({ ok: false, term: 3 });
    expect(await redis.hgetall(keys.leader)).toMatchObject({ id: 'c1', term: '3' });
    expect(await redis.hgetall(keys.leaderLease)).toEqual({ id: 'c1', term: '3' });
    expect(await renew(3, 'c1')).toEqual({ ok: true, term: 3 });
    // An older term is fenced.
    expect(await renew(2, 'c3')).toEqual({ ok: false, term: 3 });
    // A newer term takes over, record and lease alike; then term 3's leader is fenced.
    expect(await renew(4, 'c2')).toEqual({ ok: true, term: 4 });
    expect(await redis.hgetall(keys.leader)).toMatchObject({ id: 'c2', term: '4' });
    expect(await redis.hgetall(keys.leaderLease)).toEqual({ id: 'c2', term: '4' });
    expect(await redis.get(keys.leaderFence)).toBe('4');
    expect(await renew(3, 'c1')).toEqual({ ok: false, term: 4 });
    expect(await redis.hgetall(keys.leader)).toMatchObject({ id: 'c2', term: '4' });
  });

  test('leader-renew: the lease expires (Redis clock) when the leader stops renewing; the record stays', async () => {
    expect(await renew(1, 'c1', 150)).toEqual({ ok: true, term: 1 });
    const ttl = await redis.pttl(keys.leaderLease);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(150);
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.exists(keys.leaderLease)).toBe(0);
    expect(await redis.hgetall(keys.leader)).toMatchObject({ id: 'c1', term: '1' });
  });

  test('leader-renew: a bad lease length or term is an error and writes nothing', async () => {
    await expect(renew(1, 'c1', 0)).rejects.toThrow(/lease/);
    await expect(
      runScript(
        redis,
        leaderRenewScript,
        [keys.leaderFence, keys.leader, keys.leaderLease],
        ['x', 'c1', '1', '500'],
      ),
    ).rejects.toThrow(/token/);
    expect(await redis.exists(keys.leaderFence, keys.leader, keys.leaderLease)).toBe(0);
  });

  const vote = (term: number, voter: string, candidate: string) =>
    runScript(redis, recordVoteScript, [keys.vote(term, voter)], [candidate, '60000']);

  test('record-vote: one vote per node per term; a retry of the same vote is idempotent', async () => {
    expect(await vote(5, 'c1', 'c2')).toBe('c2');
    expect(await vote(5, 'c1', 'c2')).toBe('c2'); // the retry: granted again, nothing changes
    expect(await vote(5, 'c1', 'c3')).toBe('c2'); // a second candidate: the recorded vote stands
    expect(await redis.get(keys.vote(5, 'c1'))).toBe('c2');
    expect(await vote(6, 'c1', 'c3')).toBe('c3'); // a new term is a new vote
    expect(await vote(5, 'c2', 'c2')).toBe('c2'); // other voters are independent
  });

  test('the ledger backs only what Redis holds: a grant without a record, or a term nobody reached, does not count', async () => {
    // The ledger reads the namespaced keys through the same key builder.
    const ledger = new RedisElectionLedger(redis, ['c1', 'c2', 'c3'], keys);
    expect(await ledger.recordVote(7, 'c2', 'c1')).toBe('c1');
    // c2's recorded vote names c1: c1 may count it; c3 may not.
    expect(await ledgerBacks(ledger, 'c1', { type: 'verifyVote', term: 7, voter: 'c2' })).toBe(true);
    expect(await ledgerBacks(ledger, 'c3', { type: 'verifyVote', term: 7, voter: 'c2' })).toBe(false);
    // c3 never recorded a vote in term 7: its "grant" is only its word.
    expect(await ledgerBacks(ledger, 'c1', { type: 'verifyVote', term: 7, voter: 'c3' })).toBe(false);
    const hb = { type: 'heartbeat' as const, from: 'c1', to: 'c2', term: 0 };
    // Term 7 was reached (a vote is recorded in it); 2^53-1 was not.
    expect(
      await ledgerBacks(ledger, 'c2', { type: 'verifyTerm', term: 7, message: { ...hb, term: 7 } }),
    ).toBe(true);
    const huge = Number.MAX_SAFE_INTEGER;
    expect(
      await ledgerBacks(ledger, 'c2', { type: 'verifyTerm', term: huge, message: { ...hb, term: huge } }),
    ).toBe(false);
    // A leader's fence backs every term up to it.
    expect(await renew(9, 'c1')).toMatchObject({ ok: true });
    expect(
      await ledgerBacks(ledger, 'c2', { type: 'verifyTerm', term: 8, message: { ...hb, term: 8 } }),
    ).toBe(true);
  });
});
