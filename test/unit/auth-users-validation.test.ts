import fc from 'fast-check';
import { userKeys } from '../../shared/auth/user-keys';
import { validateNewUser } from '../../shared/auth/user-input';
import { newUserId } from '../../shared/auth/users';
import { ApiError } from '../../shared/errors';

function badRequestField(input: unknown): unknown {
  try {
    validateNewUser(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_request' });
    return (err as ApiError).details;
  }
  throw new Error('expected a 400');
}

describe('validateNewUser', () => {
  it('accepts the documented shapes', () => {
    expect(validateNewUser({ username: 'a.b-c_9', password: '12345678', role: 'voter', extra: 1 })).toEqual({
      username: 'a.b-c_9',
      password: '12345678',
      role: 'voter',
    });
    expect(
      validateNewUser({ username: 'x'.repeat(64), password: 'p'.repeat(256), role: 'auditor' }),
    ).toBeTruthy();
    // 8 emoji are 8 characters (16 UTF-16 units).
    expect(validateNewUser({ username: 'emoji', password: '🗳️'.repeat(4), role: 'admin' })).toBeTruthy();
  });

  it.each([
    [null, undefined],
    [[], undefined],
    ['text', undefined],
    [{ password: '12345678', role: 'voter' }, { field: 'username' }],
    [{ username: 'ab', password: '12345678', role: 'voter' }, { field: 'username' }],
    [{ username: 'x'.repeat(65), password: '12345678', role: 'voter' }, { field: 'username' }],
    [{ username: 'has space', password: '12345678', role: 'voter' }, { field: 'username' }],
    [{ username: 'ümlaut', password: '12345678', role: 'voter' }, { field: 'username' }],
    [{ username: 'alice', password: '1234567', role: 'voter' }, { field: 'password' }],
    [{ username: 'alice', password: 'p'.repeat(257), role: 'voter' }, { field: 'password' }],
    [{ username: 'alice', password: 12345678, role: 'voter' }, { field: 'password' }],
    [{ username: 'alice', password: '12345678', role: 'root' }, { field: 'role' }],
    [{ username: 'alice', password: '12345678' }, { field: 'role' }],
  ])('rejects %p with a 400 naming the field', (input, details) => {
    expect(badRequestField(input)).toEqual(details);
  });

  it('only ever throws ApiError 400 on arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          validateNewUser(input);
        } catch (err) {
          return err instanceof ApiError && err.status === 400;
        }
        return true;
      }),
    );
  });
});

describe('user ids and keys', () => {
  it('makes opaque usr_ + 16 base32 ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, newUserId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^usr_[a-z2-7]{16}$/);
  });

  it('puts each user in its own slot, case-insensitively', () => {
    expect(userKeys.record('Alice')).toBe('{u:alice}:user');
    expect(userKeys.record('alice')).toBe(userKeys.record('ALICE'));
  });
});
