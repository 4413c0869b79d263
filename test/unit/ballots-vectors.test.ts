import { createHash } from 'node:crypto';
import { defaultGroup, verifyRecord } from '../../shared/ballots';
import { createSodiumGroup } from '../../shared/ballots/group-sodium';
import record from '../fixtures/qv-v1/election-2of3-record.json';
import groupFixture from '../fixtures/qv-v1/group-vectors.json';
import hashFixture from '../fixtures/qv-v1/hash-vectors.json';
import { electionVector, groupVectors, hashVectors } from '../helpers/qv-vectors';
import type { ElectionRecord } from '../../shared/ballots';

// The committed vectors are what independent verifiers test against: the code must keep
// producing exactly these bytes (regenerate with `node --import tsx scripts/gen-qv-vectors.ts`
// only for a deliberate, documented change of qv/v1).

describe('qv/v1 fixed vectors', () => {
  test('H and D vectors are reproduced by the code', () => {
    expect(hashVectors()).toEqual(hashFixture);
  });

  test('H and D vectors match an independent computation (node:crypto, by hand)', () => {
    const q = 2n ** 252n + 27742317777372353535851937790883648493n;
    for (const v of hashFixture) {
      const bytes = Buffer.concat(
        v.parts.map((p) => {
          const b = 'utf8' in p ? Buffer.from(p.utf8 as string, 'utf8') : Buffer.from(p.hex as string, 'hex');
          const len = Buffer.alloc(4);
          len.writeUInt32BE(b.length);
          return Buffer.concat([len, b]);
        }),
      );
      expect(bytes.toString('hex')).toBe(v.encoded);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(v.D);
      const wide = BigInt(
        `0x${Buffer.from(createHash('sha512').update(bytes).digest()).reverse().toString('hex')}`,
      );
      const h = wide % q;
      expect(Buffer.from(h.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex')).toBe(v.H);
    }
  });

  test('group vectors: multiples of G are RFC 9496 A.1, scalars are 32 bytes little-endian', () => {
    expect(groupVectors()).toEqual(groupFixture);
    expect(groupFixture.multiplesOfG.slice(0, 4)).toEqual([
      '0000000000000000000000000000000000000000000000000000000000000000',
      'e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76',
      '6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919',
      '94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259',
    ]);
  });

  test('the 2-of-3 election record is reproduced byte for byte from its seed', () => {
    expect(electionVector().record).toEqual(record);
  }, 60_000); // a whole election: ceremony, 6 ballots with proofs, 3 decryption shares

  test('the committed record verifies with noble and with libsodium (two implementations)', async () => {
    const r = record as ElectionRecord;
    expect(verifyRecord(r, { group: defaultGroup })).toEqual({ ok: true, failures: [] });
    expect(verifyRecord(r, { group: await createSodiumGroup() })).toEqual({ ok: true, failures: [] });
    expect(r.decryption?.totals).toEqual([2, 0, 1]);
    expect(r.ballots.map((b) => [b.state, b.reason])).toEqual([
      ['counted', undefined],
      ['spoiled', undefined],
      ['counted', undefined],
      ['counted', undefined],
      ['rejected', 'duplicate_key'],
      ['rejected', 'not_on_roll'],
    ]);
  });
});
