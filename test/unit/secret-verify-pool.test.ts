import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Ballot,
  type ElectionRecord,
  type RecordBallot,
  defaultGroup as g,
  fromHex,
  prepareElection,
  reasonString,
  seededRandomBytes,
} from '../../shared/ballots';
import {
  type RecordedBallot,
  type VerifyPool,
  createVerifyPool,
} from '../../shared/ballots-node/verify-pool';
import { judgeSecretBallot } from '../../shared/secret/judge-ballot';
import recordFixture from '../fixtures/qv-v1/election-2of3-record.json';
import secrets from '../fixtures/qv-v1/election-2of3-secrets.json';
import { forgeSelection } from '../helpers/forged-ballot';

// The validators' verification pool (docs/architecture.md "How validators verify secret
// ballots"): recorded ballots are verified in batches on worker threads with the same
// verdicts as one at a time on the main thread; a bad ballot in a batch is named and its
// neighbours still pass; a dead worker's batches are verified again, never dropped or
// passed unchecked; and the main thread keeps running while a batch is verified.

const record = recordFixture as ElectionRecord;
const keys = {
  manifest: record.manifest,
  electionHash: record.electionHash,
  jointKey: record.ceremony.jointKey,
};
const e = prepareElection(g, keys);
const strip = ({ state: _s, reason: _r, spoiled: _o, ...b }: RecordBallot): Ballot => structuredClone(b);
const honest = [0, 2, 3].map((i) => strip(record.ballots[i]!));
const rollKeyOf = (b: Ballot) => record.roll.find((r) => r.publicKey === b.publicKey)?.publicKey ?? null;
const asRecorded = (b: Ballot, rollKey = rollKeyOf(b)): RecordedBallot => ({
  text: JSON.stringify(b),
  rollKey,
});
/** What the validator decided one at a time before batches (judge-ballot.ts). */
const oneAtATime = (r: RecordedBallot) => {
  let b: Ballot;
  try {
    b = JSON.parse(r.text) as Ballot;
  } catch {
    return 'malformed';
  }
  return judgeSecretBallot(e, b, r.rollKey);
};
const forged = forgeSelection(
  e,
  honest[1]!,
  2,
  fromHex(secrets.voterKeys[1]!, 32),
  seededRandomBytes('pool'),
);
/** Many honest ballots: enough work to take a while (the verifier does not care about repeats). */
const many = (n: number) => Array.from({ length: n }, (_, i) => asRecorded(honest[i % honest.length]!));

describe('verification pool: recorded ballots', () => {
  let pool: VerifyPool;
  beforeAll(() => {
    pool = createVerifyPool({ size: 2, backend: 'libsodium', batchSize: 8 });
  });
  afterAll(async () => {
    await pool.close();
  });

  test('one bad ballot in a batch is rejected with its reason; the valid ones are accepted', async () => {
    const input: RecordedBallot[] = [
      asRecorded(honest[0]!),
      asRecorded(forged), // hints hash right, equations false: only the combined equation catches it
      asRecorded(honest[2]!),
      asRecorded(honest[0]!, rollKeyOf(honest[1]!)), // another voter's roll key
      asRecorded(honest[1]!, null), // the voter has no key on the roll
      { text: '{"selections": [', rollKey: rollKeyOf(honest[0]!) }, // not JSON
      asRecorded(honest[1]!),
    ];
    const expected = input.map(oneAtATime);
    expect(expected).toEqual([
      null,
      'bad_selection_proof:2',
      null,
      'not_on_roll',
      'not_on_roll',
      'malformed',
      null,
    ]);
    const verdicts = await pool.verifyRecorded(keys, input);
    expect(verdicts.map((v) => reasonString(v) ?? null)).toEqual(expected);
  }, 60_000);

  test('verification runs on worker threads: the main thread keeps running meanwhile', async () => {
    await pool.verifyRecorded(keys, many(4)); // workers started and warm
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const verdicts = await pool.verifyRecorded(keys, many(120));
      expect(verdicts.every((v) => v.valid)).toBe(true);
    } finally {
      clearInterval(timer);
    }
    // Verifying 120 ballots takes far longer than 10 ticks of 5 ms; on this thread there would be none.
    expect(ticks).toBeGreaterThanOrEqual(10);
  }, 60_000);

  test('the verification threads yield to the event loop: they run at nice 10, the main thread at 0', async () => {
    await pool.verifyRecorded(keys, many(2));
    const niceOf = (tid: string) =>
      Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const tids = readdirSync('/proc/self/task');
    expect(niceOf(String(process.pid))).toBe(0);
    expect(tids.filter((t) => niceOf(t) === 10)).toHaveLength(2);
  }, 60_000);

  test('a worker that dies mid-batch: its batches are verified again on a new worker', async () => {
    const input = [...many(40), asRecorded(forged), ...many(40)];
    const expected = input.map((_, i) => (i === 40 ? 'bad_selection_proof:2' : null));
    const before = pool.threads();
    const pending = pool.verifyRecorded(keys, input);
    await before[0]!.terminate();
    const verdicts = await pending;
    expect(verdicts.map((v) => reasonString(v) ?? null)).toEqual(expected);
    expect(pool.threads()[0]).not.toBe(before[0]); // replaced
  }, 60_000);
});

test('a worker that always dies: the batch is refused, never answered', async () => {
  const pool = createVerifyPool({
    size: 1,
    batchSize: 8,
    maxAttempts: 2,
    workerFile: join(__dirname, '../fixtures/workers/crashing-verify-worker.ts'),
  });
  try {
    await expect(pool.verifyRecorded(keys, many(3))).rejects.toThrow(/died 2 times/);
  } finally {
    await pool.close();
  }
}, 60_000);
