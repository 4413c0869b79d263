import { planSecretBatch } from '../../coordinator/pipeline/secret-batch';
import {
  type Ballot,
  type ElectionRecord as QvRecord,
  type RecordBallot,
  defaultGroup,
  sumBallots,
} from '../../shared/ballots';
import { createSodiumGroup } from '../../shared/ballots/group-sodium';
import type { ElectionRecord } from '../../shared/elections/store';
import recordFixture from '../fixtures/qv-v1/election-2of3-record.json';

// The finalizer adds running encrypted tallies with libsodium (points are their
// encodings: no square roots in JS). The audit entries it plans — every chain hash, every
// running tally — must be byte for byte what the pure-JS group gives, which is what
// `npm run verify` and external verifiers recompute (docs/election-record.md).

const record = recordFixture as QvRecord;
const strip = ({ state: _s, reason: _r, spoiled: _o, ...b }: RecordBallot): Ballot => b;
const honest = [0, 2, 3].map((i) => strip(record.ballots[i]!));
const election = {
  id: record.manifest.electionId,
  options: record.manifest.options,
  tags: ['t'],
} as unknown as ElectionRecord;
const outcomes = [0, 1, 2, 0, 1, 2, 1].map((n, i) => ({
  sid: `1-${i}`,
  ballotId: i.toString(16).padStart(32, '0'),
  recorded: JSON.stringify(honest[n]),
  outcome: (i === 3 ? 'rejected' : 'counted') as 'counted' | 'rejected',
  reason: i === 3 ? 'duplicate_vote' : '',
}));

test('libsodium plans the same entries, chain hashes and running tallies as noble', async () => {
  const sodium = await createSodiumGroup();
  const fromEmpty = planSecretBatch(election, 0, 1, 'genesis', '', outcomes);
  expect(planSecretBatch(election, 0, 1, 'genesis', '', outcomes, sodium)).toEqual(fromEmpty);
  // Continuing from a stored tally: the second batch starts where the first ended.
  const next = planSecretBatch(election, 0, 8, fromEmpty.head, fromEmpty.tally, outcomes);
  expect(planSecretBatch(election, 0, 8, fromEmpty.head, fromEmpty.tally, outcomes, sodium)).toEqual(next);
  // And the running tally is the homomorphic sum of the counted ballots.
  const counted = outcomes
    .filter((o) => o.outcome === 'counted')
    .map((o) => JSON.parse(o.recorded) as Ballot);
  expect(JSON.parse(fromEmpty.tally)).toEqual(sumBallots(defaultGroup, 3, counted));
});
