import {
  type Ballot,
  type ElectionRecord,
  type RecordBallot,
  defaultGroup as g,
  prepareElection,
  verifyBallot,
} from '../../shared/ballots';
import { type VerifyPool, createVerifyPool } from '../../shared/ballots-node/verify-pool';
import recordFixture from '../fixtures/qv-v1/election-2of3-record.json';

// The worker-thread pool gives, in order, the same verdicts as verifyBallot on the main
// thread (roll and duplicates are the caller's), with either backend.

const record = recordFixture as ElectionRecord;
const keys = {
  manifest: record.manifest,
  electionHash: record.electionHash,
  jointKey: record.ceremony.jointKey,
};
const strip = ({ state: _s, reason: _r, spoiled: _o, ...b }: RecordBallot): Ballot => structuredClone(b);
const ballots = record.ballots.map(strip);
const badSig = structuredClone(ballots[0]!);
badSig.signature = `${badSig.signature.slice(0, -2)}00`;
const badProof = structuredClone(ballots[2]!);
badProof.selections[1]!.alpha = badProof.selections[0]!.alpha;
const input = [...ballots, badSig, badProof];

describe.each(['libsodium', 'noble'] as const)('verification pool (%s)', (backend) => {
  let pool: VerifyPool;
  beforeAll(() => {
    pool = createVerifyPool({ size: 2, backend, batchSize: 3 });
  });
  afterAll(async () => {
    await pool.close();
  });

  test('verdicts equal the main thread verifier, in order', async () => {
    const e = prepareElection(g, keys);
    const expected = input.map((b) => verifyBallot(e, b));
    expect(expected.filter((v) => v.valid)).toHaveLength(ballots.length);
    await expect(pool.verify(keys, input)).resolves.toEqual(expected);
  }, 60_000); // starting two workers that load tsx and the crypto libraries
});
