import fc from 'fast-check';
import {
  type Ciphertext,
  type DecryptionShare,
  type Manifest,
  combineSecretShare,
  combineShares,
  computeDecryptionShare,
  createTrustee,
  decodePoint,
  defaultGroup as g,
  decryptTotals,
  encodePoint,
  evaluateShare,
  finishCeremony,
  seededRandomBytes,
  sumBallots,
} from '../../shared/ballots';
import type { Ballot } from '../../shared/ballots';

// Homomorphic tally and threshold decryption as properties (fast-check). Ciphertexts are
// made directly (α = r·G, β = m·G + r·K): the proofs are not what these properties test,
// and 35 ms per proven ballot would make a few hundred runs too slow for this machine.
// Each property still runs dozens of group operations per case: 60 s each (the default
// unit timeout is 15 s, too short on a loaded 2-core machine).

const manifest: Manifest = {
  electionId: 'property-election',
  options: [
    { id: 'a', label: 'A' },
    { id: 'b', label: 'B' },
  ],
  minSelections: 0,
  maxSelections: 2,
  trustees: [1, 2, 3, 4, 5].map((index) => ({ index, id: `t${index}` })),
  threshold: 3,
};
const random = seededRandomBytes('property-tests');
const trustees = manifest.trustees.map((t) => createTrustee(g, manifest, t.index, random));
const { ceremony, electionHash } = finishCeremony(
  g,
  manifest,
  trustees.map((t) => t.commitment),
  [],
);
const K = decodePoint(g, ceremony.jointKey);
const secretShares = manifest.trustees.map((t) =>
  combineSecretShare(trustees.map((d) => evaluateShare(d.secret, t.index))),
);

const ballotArb = fc.record({
  plaintexts: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })),
  nonces: fc.tuple(fc.bigInt({ min: 1n, max: 2n ** 250n }), fc.bigInt({ min: 1n, max: 2n ** 250n })),
});

function encrypt(b: { plaintexts: number[]; nonces: bigint[] }): Ballot {
  return {
    selections: b.plaintexts.map((m, i) => ({
      alpha: encodePoint(g, g.mulBase(b.nonces[i]!)),
      beta: encodePoint(g, g.add(g.mulBase(BigInt(m)), g.mul(K, b.nonces[i]!))),
      proof: { c: [], v: [] },
    })),
  } as unknown as Ballot;
}

function sharesFor(encrypted: Ciphertext[], set: number[]): DecryptionShare[] {
  return set.map((j) => computeDecryptionShare(g, electionHash, encrypted, j, secretShares[j - 1]!, random));
}

const subsetArb = (size: number) =>
  fc.shuffledSubarray([1, 2, 3, 4, 5], { minLength: size, maxLength: size });

describe('homomorphic tally and threshold decryption', () => {
  test('decrypting the sum of encryptions gives the sum of the plaintexts', () => {
    fc.assert(
      fc.property(fc.array(ballotArb, { minLength: 0, maxLength: 6 }), subsetArb(3), (ballots, set) => {
        const encrypted = sumBallots(g, 2, ballots.map(encrypt));
        const totals = decryptTotals(g, encrypted, ballots.length, sharesFor(encrypted, set));
        expect(totals).toEqual([0, 1].map((i) => ballots.reduce((s, b) => s + b.plaintexts[i]!, 0)));
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  test('any k of the n shares give the same result', () => {
    const encrypted = sumBallots(g, 2, [
      encrypt({ plaintexts: [1, 0], nonces: [11n, 12n] }),
      encrypt({ plaintexts: [1, 1], nonces: [13n, 14n] }),
      encrypt({ plaintexts: [0, 1], nonces: [15n, 16n] }),
    ]);
    fc.assert(
      fc.property(subsetArb(3), (set) => {
        expect(decryptTotals(g, encrypted, 3, sharesFor(encrypted, set))).toEqual([2, 2]);
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  test('k − 1 shares give nothing: the combination is not the plaintext point', () => {
    fc.assert(
      fc.property(ballotArb, subsetArb(2), (ballot, set) => {
        const encrypted = sumBallots(g, 2, [encrypt(ballot)]);
        const M = combineShares(g, encrypted, sharesFor(encrypted, set));
        M.forEach((point, i) => {
          expect(g.equals(point, g.mulBase(BigInt(ballot.plaintexts[i]!)))).toBe(false);
        });
        expect(() => decryptTotals(g, encrypted, 1, sharesFor(encrypted, set))).toThrow(RangeError);
      }),
      { numRuns: 15 },
    );
  }, 60_000);
});
