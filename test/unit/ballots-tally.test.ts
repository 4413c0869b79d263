import {
  type ElectionRecord,
  addBallotToTally,
  assembleDecryption,
  decodePoint,
  defaultGroup as g,
  emptyTally,
  encodePoint,
  fromHex,
} from '../../shared/ballots';
import recordFixture from '../fixtures/qv-v1/election-2of3-record.json';

// The running tally (what finalization adds to) and the tally step at close: shares are
// checked as they arrive, bad ones refused by name, the totals published at k valid.

const record = recordFixture as ElectionRecord;
const qualified = record.ceremony.commitments.filter((c) => record.ceremony.qualified.includes(c.trustee));
const election = { manifest: record.manifest, electionHash: fromHex(record.electionHash, 32), qualified };
const shareOf = (j: number) => structuredClone(record.decryption!.shares.find((s) => s.trustee === j)!);

describe('running tally and decryption at close', () => {
  test('adding the counted ballots one by one gives the published encrypted tally', () => {
    let tally = emptyTally(g, record.manifest.options.length);
    for (const b of record.ballots) if (b.state === 'counted') tally = addBallotToTally(g, tally, b);
    expect(tally).toEqual(record.tally.encrypted);
  });

  test('fewer than k valid shares: no results yet', () => {
    const r = assembleDecryption(g, election, record.tally, [shareOf(3)]);
    expect(r).toEqual({ decryption: null, valid: [3], refused: [] });
  });

  test('a share with a bad proof is refused and named; k valid shares give the totals', () => {
    const bad = shareOf(2);
    bad.values[2]!.share = encodePoint(g, g.add(decodePoint(g, bad.values[2]!.share), g.base));
    const stranger = { ...shareOf(1), trustee: 9 };
    const r = assembleDecryption(g, election, record.tally, [
      bad,
      shareOf(3),
      stranger,
      shareOf(1),
      shareOf(1),
    ]);
    expect(r.refused).toEqual([
      { trustee: 2, fault: expect.objectContaining({ check: 'bad_decryption_proof', option: 3 }) },
      { trustee: 9, fault: expect.objectContaining({ check: 'unknown_trustee' }) },
      { trustee: 1, fault: expect.objectContaining({ check: 'duplicate_share' }) },
    ]);
    expect(r.valid).toEqual([1, 3]);
    expect(r.decryption).toEqual({ shares: [shareOf(1), shareOf(3)], used: [1, 3], totals: [2, 0, 1] });
  });

  test("a share claiming another trustee's key is refused", () => {
    const forged = { ...shareOf(3), trustee: 2 };
    const r = assembleDecryption(g, election, record.tally, [forged]);
    expect(r.refused).toEqual([{ trustee: 2, fault: expect.objectContaining({ check: 'wrong_share_key' }) }]);
  });
});
