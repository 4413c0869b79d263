import { randomBytes } from 'node:crypto';

/**
 * Join codes of code-access elections: what a room types from a projector or a phone
 * reads from a QR code. Short and unambiguous for people, random for everyone else:
 * 8 characters of Crockford's base32 (no I, L, O, U: nothing to confuse with 1, 0 or
 * V), 40 bits from the system's CSPRNG. A code only finds the election; guessing one
 * is also slowed by the per-address join limit. Uniqueness is Redis's job (SET NX on
 * `joinCodeKey`, a new code on collision): see join-store.ts.
 */
export const JOIN_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Characters of a join code. */
export const JOIN_CODE_LENGTH = 8;

/** A canonical join code: exactly {@link JOIN_CODE_LENGTH} characters of the alphabet. */
export const joinCodePattern = /^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$/;

/** A new random join code. 32 divides 256, so `byte & 31` picks each character uniformly. */
export function newJoinCode(): string {
  let code = '';
  for (const b of randomBytes(JOIN_CODE_LENGTH)) code += JOIN_CODE_ALPHABET[b & 31];
  return code;
}

/**
 * What a person typed, as the canonical code: case ignored, spaces and hyphens dropped
 * (a code may be shown as `ABCD-EFGH`), and Crockford's look-alikes read as the digit
 * they resemble (I and L as 1, O as 0). Null when the result is not a code, so the
 * caller answers 400 instead of looking it up.
 */
export function normalizeJoinCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  return joinCodePattern.test(code) ? code : null;
}
