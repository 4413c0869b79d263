import { randomBytes } from 'node:crypto';
import { joinedIdentity } from '../../shared/auth/join-identity';
import {
  JOIN_CODE_ALPHABET,
  joinCodePattern,
  newJoinCode,
  normalizeJoinCode,
} from '../../shared/elections/join-code';
import { parseJoinRequest } from '../../shared/elections/join-request';

/** Join codes as people type them, and the identities joined devices get. */
describe('join codes', () => {
  test('new codes are 8 characters of Crockford base32 and every character occurs', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const code = newJoinCode();
      expect(code).toMatch(joinCodePattern);
      for (const c of code) seen.add(c);
    }
    // 4000 draws from 32 characters: a missing one would mean a skewed alphabet.
    expect([...seen].sort().join('')).toBe([...JOIN_CODE_ALPHABET].sort().join(''));
  });

  test.each([
    ['7kq2-mx9d', '7KQ2MX9D'],
    [' 7KQ2 MX9D ', '7KQ2MX9D'],
    ['OIL0ABCD', '0110ABCD'],
    ['o1l0abcd', '0110ABCD'],
  ])('%j reads as %s', (typed, code) => {
    expect(normalizeJoinCode(typed)).toBe(code);
  });

  test.each(['7KQ2MX9', '7KQ2MX9DA', '7KQ2MX9U', '7KQ2_MX9', ''])('%j is not a code', (typed) => {
    expect(normalizeJoinCode(typed)).toBeNull();
  });

  test('a request with a bad code or device is a 400 naming the field', () => {
    const device = randomBytes(16).toString('base64url');
    expect(parseJoinRequest({ code: '7kq2-mx9d', device })).toEqual({ code: '7KQ2MX9D', device });
    for (const [body, field] of [
      [{ code: 'UUUUUUUU', device }, 'code'],
      [{ code: 7, device }, 'code'],
      [{ code: '7KQ2MX9D', device: 'short' }, 'device'],
      [{ code: '7KQ2MX9D', device: `${device}!` }, 'device'],
    ] as const) {
      expect(() => parseJoinRequest(body)).toThrow(
        expect.objectContaining({ status: 400, details: { field } }),
      );
    }
  });
});

describe('joined identities', () => {
  const key = randomBytes(32).toString('hex');
  const device = randomBytes(16).toString('base64url');

  test('the same key, election and device give the same identity; any change gives another', () => {
    const sub = joinedIdentity(key, 'elabcdef', device);
    expect(sub).toMatch(/^jn_[a-z2-7]{32}$/);
    expect(joinedIdentity(key, 'elabcdef', device)).toBe(sub);
    const others = [
      joinedIdentity(key, 'elabcdeg', device),
      joinedIdentity(key, 'elabcdef', randomBytes(16).toString('base64url')),
      joinedIdentity(randomBytes(32).toString('hex'), 'elabcdef', device),
    ];
    expect(new Set([sub, ...others]).size).toBe(4);
  });

  test('the identity does not contain the device secret', () => {
    const sub = joinedIdentity(key, 'elabcdef', device);
    expect(sub.toLowerCase()).not.toContain(device.toLowerCase().slice(0, 8));
  });
});
