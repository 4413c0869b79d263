/**
 * Lower-case RFC 4648 base32 without padding: the alphabet of user ids (`usr_…`,
 * `oidc_…`), chosen because such ids appear in URLs, logs and voter lists, where they
 * must survive case-insensitive handling and need no escaping.
 */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `bytes` in base32 (5 bits a character; a trailing partial group is dropped). */
export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
