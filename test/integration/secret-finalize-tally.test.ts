import type { Cluster } from 'ioredis';
import { finalizeSecretVotesScript } from '../../coordinator/pipeline/finalizer';
import { planSecretBatch } from '../../coordinator/pipeline/secret-batch';
import { defaultGroup, emptyTally, encodePoint } from '../../shared/ballots';
import type { ElectionRecord } from '../../shared/elections/store';
import { partitionKeys, partitionTag } from '../../shared/redis/keys';
import { runScript } from '../../shared/redis/scripts';
import { deleteNamespace, testRedis, uniqueNs } from '../helpers/redis';

/**
 * The fenced finalize step of secret ballots (finalize-secret-votes.lua) on a real Redis
 * Cluster: the running encrypted tally moves by compare-and-set in the same atomic step
 * as the audit entries, so a batch computed from a stale tally is refused as `moved`
 * and changes nothing, and a superseded fencing token is refused as `fenced`.
 */
let redis: Cluster;
const id = uniqueNs('sft');
const tag = partitionTag(id, 0, 1);
const k = partitionKeys(tag);
const keys = [k.fence, k.finalized, k.head, k.etally, k.stats, k.rejected, k.audit];
const election = { id, options: [{ id: 'a', label: 'A' }], tags: [tag] } as unknown as ElectionRecord;
const g = defaultGroup;
const G = encodePoint(g, g.base);
/** A stand-in counted ballot with one selection `(G, G)` (the tally only adds points). */
const ballot = (n: number) =>
  JSON.stringify({
    tracker: n.toString(16).padStart(64, '0'),
    publicKey: 'bb'.repeat(32),
    signature: 'cc'.repeat(64),
    selections: [{ alpha: G, beta: G, proof: { c: [], v: [] } }],
    total: { proof: { c: [], v: [] } },
  });
const outcome = (n: number) => ({
  sid: `1-${n}`,
  ballotId: 'ab'.repeat(16),
  recorded: ballot(n),
  outcome: 'counted' as const,
  reason: '',
});

function finalize(
  token: number,
  fin: string,
  sid: string,
  head: string,
  seq: number,
  expected: string,
  n: number,
) {
  const plan = planSecretBatch(election, 0, seq, head || 'genesis', expected, [outcome(n)]);
  return {
    plan,
    run: runScript(redis, finalizeSecretVotesScript, keys, [
      token,
      fin,
      sid,
      head,
      plan.head,
      '2026-01-01T00:00:00.000Z',
      1,
      head || 'genesis',
      seq,
      expected,
      plan.tally,
      ...plan.args,
    ]),
  };
}

beforeAll(() => {
  redis = testRedis();
});
afterAll(async () => {
  await deleteNamespace(redis, id);
  await redis.quit();
});

test('the tally moves with the entry; a stale expected tally or token changes nothing', async () => {
  const first = finalize(5, '', '1-1', '', 1, '', 1);
  expect(await first.run).toEqual({ ok: true, count: 1 });
  const tally1 = await redis.get(k.etally);
  expect(JSON.parse(tally1!)).toEqual([{ alpha: G, beta: G }]);
  expect(first.plan.tally).toBe(tally1);

  // Computed from the empty tally again (a stale owner): refused, nothing written.
  const before = [await redis.xlen(k.audit), await redis.get(k.head), await redis.hgetall(k.stats)];
  const stale = finalize(5, '1-1', '1-2', first.plan.head, 2, JSON.stringify(emptyTally(g, 1)), 2);
  expect(await stale.run).toEqual({ ok: false, why: 'moved', current: undefined });
  expect([await redis.xlen(k.audit), await redis.get(k.head), await redis.hgetall(k.stats)]).toEqual(before);
  expect(await redis.get(k.etally)).toBe(tally1);

  // A superseded fencing token: refused.
  const fenced = finalize(4, '1-1', '1-2', first.plan.head, 2, tally1!, 2);
  expect(await fenced.run).toMatchObject({ ok: false, why: 'fenced' });
  expect(await redis.get(k.etally)).toBe(tally1);

  // From the right tally: the sum is 2·G in both components, and the entry carries it.
  const second = finalize(5, '1-1', '1-2', first.plan.head, 2, tally1!, 2);
  expect(await second.run).toEqual({ ok: true, count: 1 });
  const twoG = encodePoint(g, g.add(g.base, g.base));
  expect(JSON.parse((await redis.get(k.etally))!)).toEqual([{ alpha: twoG, beta: twoG }]);
  const last = (await redis.xrevrange(k.audit, '+', '-', 'COUNT', 1))[0]![1];
  expect(last[last.indexOf('tally') + 1]).toBe(await redis.get(k.etally));
  expect(await redis.hget(k.stats, 'finalized')).toBe('2');
});
