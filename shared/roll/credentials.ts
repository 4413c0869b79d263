import { createHash, randomBytes } from 'node:crypto';
import { base32 } from '../auth/base32';

/**
 * One-time voting credentials (issue 17). A credential is `<election id>.<secret>`:
 * the secret is 160 random bits (crypto.randomBytes, base64url), so signing in needs
 * only the credential, which names its election. It is stored only as its SHA-256: a
 * slow password KDF protects guessable human secrets; a 160-bit random one cannot be
 * guessed, and a fast hash keeps 10,000 imports and 1,000 sign-ins a second cheap.
 * The voting link carries it in the URL fragment (`#/c/…`), which browsers never send
 * to a server, so it reaches no access log.
 */

/** Random bytes of a credential's secret (160 bits; the contract asks for at least 128). */
export const CREDENTIAL_SECRET_BYTES = 20;
const SECRET_CHARS = Math.ceil((CREDENTIAL_SECRET_BYTES * 8) / 6);
const CREDENTIAL = new RegExp(`^(el[a-z0-9]{4,40})\\.([A-Za-z0-9_-]{${SECRET_CHARS}})$`);

/** A new credential for a voter of `electionId`. */
export function newCredential(electionId: string): string {
  return `${electionId}.${randomBytes(CREDENTIAL_SECRET_BYTES).toString('base64url')}`;
}

/** What is stored of a credential: SHA-256, hex. */
export function credentialHash(credential: string): string {
  return createHash('sha256').update(credential, 'utf8').digest('hex');
}

/** The election a credential names, or null when it is not a credential's shape. */
export function credentialElection(credential: unknown): string | null {
  if (typeof credential !== 'string') return null;
  const m = CREDENTIAL.exec(credential);
  return m ? m[1]! : null;
}

/** The web app's link that signs a voter in: the credential in the fragment only. */
export function votingLink(webOrigin: string, credential: string): string {
  return `${webOrigin.replace(/\/+$/, '')}/#/c/${credential}`;
}

/** A roll entry's id, `vtr_` + 16 base32 characters (80 random bits); the `sub` of its tokens. */
export function newVoterId(): string {
  return `vtr_${base32(randomBytes(10))}`;
}

/** Syntax of a roll entry id (path parameter of reissue/revoke). */
export const voterIdPattern = /^vtr_[a-z2-7]{16}$/;
