import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  needsRehash,
  parsePasswordHash,
  verifyPassword,
} from '../../shared/auth/passwords';

const fast = { N: 1024, r: 8, p: 1 };

describe('passwords (scrypt)', () => {
  it('encodes scrypt$N$r$p$salt$hash and verifies the right password only', async () => {
    const encoded = await hashPassword('correct horse battery', fast);
    expect(encoded).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(encoded).not.toContain('correct horse');
    await expect(verifyPassword('correct horse battery', encoded)).resolves.toBe(true);
    await expect(verifyPassword('correct horse batterY', encoded)).resolves.toBe(false);
    await expect(verifyPassword('', encoded)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([
      hashPassword('same password', fast),
      hashPassword('same password', fast),
    ]);
    expect(a).not.toBe(b);
    expect(parsePasswordHash(a)?.salt.equals(parsePasswordHash(b)!.salt)).toBe(false);
  });

  it('uses the default parameters and verifies with the ones stored in the hash', async () => {
    const encoded = await hashPassword('default-cost password');
    const parsed = parsePasswordHash(encoded)!;
    expect({ N: parsed.N, r: parsed.r, p: parsed.p }).toEqual(DEFAULT_SCRYPT_PARAMS);
    expect(parsed.salt).toHaveLength(16);
    expect(parsed.hash).toHaveLength(32);
    await expect(verifyPassword('default-cost password', encoded)).resolves.toBe(true);
    expect(needsRehash(encoded)).toBe(false);
    expect(needsRehash(await hashPassword('x', fast))).toBe(true);
  });

  it('treats Unicode compositions alike (NFC)', async () => {
    const encoded = await hashPassword('caf\u00e9-password', fast);
    await expect(verifyPassword('cafe\u0301-password', encoded)).resolves.toBe(true);
  });

  it.each([
    '',
    'plaintext',
    'bcrypt$10$abc$def',
    'scrypt$1000$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA', // N not a power of two
    'scrypt$1073741824$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA', // N far too large
    'scrypt$1024$8$1$c2FsdA$aGFzaA', // hash too short
    'scrypt$1024$8$1$sa lt$aGFzaGhhc2hoYXNoaGFzaA',
  ])('rejects the malformed hash %p without throwing', async (encoded) => {
    expect(parsePasswordHash(encoded)).toBeUndefined();
    await expect(verifyPassword('anything', encoded)).resolves.toBe(false);
  });

  it('refuses to hash with invalid parameters', async () => {
    await expect(hashPassword('password', { N: 1000, r: 8, p: 1 })).rejects.toThrow(/Invalid scrypt/);
  });
});
