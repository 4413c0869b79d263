import {
  EncodingError,
  Q,
  decodePoint,
  decodePublicKey,
  decodeScalar,
  defaultGroup,
  encodePoint,
  encodeScalar,
  lp,
  toHex,
  u64,
} from '../../shared/ballots';
import type { Group } from '../../shared/ballots';
import { createSodiumGroup } from '../../shared/ballots/group-sodium';

// RFC 9496 Appendix A.2: encodings every ristretto255 decoder must reject
// (non-canonical field elements, negative field elements, non-square x², and points
// off the group).
const badEncodings = [
  '00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20',
  'c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562',
  'c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78',
  '26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371',
];

describe.each([
  ['noble', async () => defaultGroup as Group<unknown>],
  ['libsodium', async () => (await createSodiumGroup()) as Group<unknown>],
])('encodings (%s)', (_name, make) => {
  let g: Group<unknown>;
  beforeAll(async () => {
    g = await make();
  });

  test.each(badEncodings)('rejects the non-canonical or invalid point %s', (hex) => {
    expect(() => decodePoint(g, hex)).toThrow(EncodingError);
  });

  test('the identity is a point but not a public key', () => {
    const zero = '00'.repeat(32);
    expect(g.isIdentity(decodePoint(g, zero))).toBe(true);
    expect(() => decodePublicKey(g, zero)).toThrow(EncodingError);
  });

  test('a point round-trips through its one canonical hex form', () => {
    const p = g.mulBase(123456789n);
    expect(encodePoint(g, decodePoint(g, encodePoint(g, p)))).toBe(encodePoint(g, p));
    expect(() => decodePoint(g, encodePoint(g, p).toUpperCase())).toThrow(EncodingError);
    expect(() => decodePoint(g, `${encodePoint(g, p)}00`)).toThrow(EncodingError);
  });
});

describe('scalars and hash-input encodings', () => {
  test('scalars ≥ q are rejected, q − 1 is accepted', () => {
    const qLE = Buffer.from(Q.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex');
    expect(() => decodeScalar(qLE)).toThrow(EncodingError);
    expect(() => decodeScalar('ff'.repeat(32))).toThrow(EncodingError);
    expect(decodeScalar(encodeScalar(Q - 1n))).toBe(Q - 1n);
    expect(encodeScalar(1n)).toBe(`01${'00'.repeat(31)}`);
  });

  test('u64 is big-endian and lp prefixes a big-endian 32-bit length', () => {
    expect(toHex(u64(258))).toBe('0000000000000102');
    expect(() => u64(-1)).toThrow(RangeError);
    expect(toHex(lp('ab'))).toBe('000000026162');
    expect(toHex(lp(new Uint8Array(0)))).toBe('00000000');
  });
});
