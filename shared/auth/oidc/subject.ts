import { createHash } from 'node:crypto';
import { base32 } from '../base32';

/**
 * The quorumvote user id of an external user. Everything that counts votes keys on the
 * token's `sub` (one vote per `sub` and election, voter lists, trustees, revocation),
 * so an external subject must map to exactly one id, forever, and two identity
 * providers must never map to the same one: the id is a hash of the pair (issuer,
 * subject), never the subject alone (two IdPs may both have a user "1234").
 *
 * `oidc_` + base32 of the first 160 bits of SHA-256("qv/oidc-subject/v1" ‖ JSON
 * [issuer, sub]). JSON of the pair is an unambiguous encoding (no issuer/subject split
 * can collide with another); 160 bits make an accidental collision impossible in
 * practice. The issuer is the exact `iss` string (OIDC_ISSUER): changing it, even by a
 * trailing slash, gives every external user new ids (a new voter in open elections).
 */
export const EXTERNAL_ID_PREFIX = 'oidc_';

export function externalUserId(issuer: string, sub: string): string {
  const digest = createHash('sha256')
    .update('qv/oidc-subject/v1')
    .update(JSON.stringify([issuer, sub]))
    .digest();
  return `${EXTERNAL_ID_PREFIX}${base32(digest.subarray(0, 20))}`;
}
