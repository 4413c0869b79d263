import { createHmac } from 'node:crypto';
import { base32 } from './base32';

/**
 * The anonymous voter identity of a device that joined a code-access election
 * (`POST /join`). The browser makes a random device secret once and keeps it; the
 * identity is HMAC-SHA256 under the election's own join key (a server secret kept in
 * the election record, never published) of a domain-separated message naming the
 * election and the device. So:
 * - the same device gets the same identity in an election, however often it joins,
 *   and one vote (the pipeline allows one per identity);
 * - the server keeps no device secret: only the identity, which cannot be turned back
 *   into the secret;
 * - one device's identities in two elections cannot be linked without both join keys.
 */
const DOMAIN = 'quorumvote/join-identity/v1';

/** Identities of joined devices start with this, so nobody mistakes them for accounts (`usr_…`). */
export const JOINED_PREFIX = 'jn_';

/** The identity (`sub`) of `device` in election `electionId`, whose join key is `joinKeyHex`. */
export function joinedIdentity(joinKeyHex: string, electionId: string, device: string): string {
  const mac = createHmac('sha256', Buffer.from(joinKeyHex, 'hex'))
    .update(`${DOMAIN}\0${electionId}\0${device}`, 'utf8')
    .digest();
  // 160 bits: collisions between devices are out of reach, and the id stays short.
  return `${JOINED_PREFIX}${base32(mac.subarray(0, 20))}`;
}

/** True for an identity made by {@link joinedIdentity}. */
export function isJoinedIdentity(sub: string): boolean {
  return sub.startsWith(JOINED_PREFIX);
}
