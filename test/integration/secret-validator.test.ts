import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { createSecretBallotJudge } from '../../coordinator/pipeline/secret-judge';
import { Validator } from '../../coordinator/pipeline/validator';
import {
  type Ballot,
  defaultGroup as g,
  fromHex,
  prepareElection,
  seededRandomBytes,
} from '../../shared/ballots';
import { createVerifyPool } from '../../shared/ballots-node/verify-pool';
import { systemClock } from '../../shared/clock';
import type { ElectionRecord } from '../../shared/elections/store';
import { createLogger } from '../../shared/logger';
import { partitionKeys, partitionTag, secretElectionKeys } from '../../shared/redis/keys';
import { electionBallots } from '../../shared/secret/election-ballots';
import { forgeSelection } from '../helpers/forged-ballot';
import { simulateElection, vectorManifest } from '../helpers/qv-election';
import { deleteNamespace, testRedis, uniqueNs } from '../helpers/redis';

/**
 * A validator's verdicts on secret ballots (issue 14 item 5) against the real Redis
 * Cluster: verified in batches on worker threads, one forged ballot among valid ones is
 * objected to with its own reason and its neighbours are approved, exactly as the
 * one-at-a-time check decides; and when the workers keep dying the validator records no
 * verdict at all (its checkpoint stays), so the ballots are judged again, not lost and
 * not approved unchecked.
 */
const log = createLogger({ component: 'test' }, 'silent');
const settings = {
  VERIFY_WORKERS: 2,
  VERIFY_BATCH: 4,
  VERIFY_BACKEND: 'libsodium' as const,
  VERIFY_NICE: 10,
};
const id = uniqueNs('sv');
const random = seededRandomBytes(`secret-validator-${id}`);
const sim = simulateElection(
  { ...vectorManifest, electionId: id },
  3,
  [0, 1, 2].map((voter) => ({ voter, selections: [0, 1, 2].map((j) => (j === voter ? 1 : 0)) })),
  [],
  random,
);
const tag = partitionTag(id, 0, 1);
const k = partitionKeys(tag);
const election = {
  id,
  title: vectorManifest.title,
  options: vectorManifest.options,
  status: 'open',
  restricted: false,
  partitions: 1,
  tags: [tag],
  closePoints: null,
  ballot: 'secret',
  trustees: vectorManifest.trustees,
  threshold: vectorManifest.threshold,
  minSelections: 1,
  maxSelections: 1,
  jointKey: sim.record.ceremony.jointKey,
  electionHash: sim.record.electionHash,
} as unknown as ElectionRecord;
const e = prepareElection(g, {
  manifest: sim.record.manifest,
  electionHash: sim.record.electionHash,
  jointKey: sim.record.ceremony.jointKey,
});
const strip = (i: number): Ballot => {
  const { state: _s, reason: _r, spoiled: _o, ...b } = sim.record.ballots[i]!;
  return b;
};
const forged = forgeSelection(e, strip(1), 2, fromHex(sim.voterKeys[1]!, 32), random);

let redis: Cluster;
/** The vote log's ids, in order: voter-1 honest, voter-2 forged, voter-3 honest, voter-4 off the roll. */
const sids: string[] = [];

beforeAll(async () => {
  redis = testRedis();
  const cast: [string, Ballot][] = [
    ['voter-1', strip(0)],
    ['voter-2', forged],
    ['voter-3', strip(2)],
    ['voter-4', strip(0)], // voter-4 has no key on the roll
  ];
  for (const [i, r] of sim.record.roll.entries()) {
    await redis.hset(secretElectionKeys(id).roll, `voter-${i + 1}`, JSON.stringify(r));
  }
  for (const [voter, ballot] of cast) {
    const sid = await redis.xadd(k.votes, '*', 'v', `${JSON.stringify(ballot)}|r.b.|${Date.now()}|${voter}`);
    await redis.hset(k.voters, voter, `${sid}|x`);
    sids.push(sid!);
  }
}, 60_000);

afterAll(async () => {
  await deleteNamespace(redis, id);
  await redis.quit();
});

async function verdictsOf(validator: string): Promise<Record<string, string>> {
  const all = await redis.hgetall(k.objections);
  return Object.fromEntries(
    Object.entries(all)
      .filter(([f]) => f.startsWith(`${validator}|`))
      .map(([f, reason]) => [f.slice(validator.length + 1), reason]),
  );
}

test('when the verification workers keep dying, no verdict is recorded', async () => {
  const judge = createSecretBallotJudge(settings, () =>
    createVerifyPool({
      size: 1,
      maxAttempts: 2,
      workerFile: join(__dirname, '../fixtures/workers/crashing-verify-worker.ts'),
    }),
  );
  const v = new Validator(redis, 'crashy', systemClock, electionBallots, log, 500, undefined, judge);
  try {
    expect(await v.runOnce([election])).toBe(0);
    expect(await redis.hget(k.checkpoints, 'crashy')).toBeNull();
    expect(await verdictsOf('crashy')).toEqual({});
  } finally {
    await judge.close();
  }
}, 60_000);

test('batched on worker threads: only the bad ballots are objected to, with their reasons', async () => {
  const judge = createSecretBallotJudge(settings);
  const batched = new Validator(redis, 'v1', systemClock, electionBallots, log, 500, undefined, judge);
  // The same validator without the judge checks one ballot at a time on this thread.
  const single = new Validator(redis, 'v2', systemClock, electionBallots, log);
  try {
    expect(await batched.runOnce([election])).toBe(4);
    expect(await single.runOnce([election])).toBe(4);
  } finally {
    await judge.close();
  }
  const expected = { [sids[1]!]: 'bad_selection_proof:2', [sids[3]!]: 'not_on_roll' };
  expect(await verdictsOf('v1')).toEqual(expected);
  expect(await verdictsOf('v2')).toEqual(expected);
  expect(await redis.hget(k.checkpoints, 'v1')).toBe(sids[3]);
}, 60_000);
