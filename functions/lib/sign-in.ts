import type { SigningKey } from '../../shared/auth/keys';
import { type TokenSubject, issueToken } from '../../shared/auth/tokens';
import type { TokenResponse } from '../../shared/api-bodies';
import { config } from './redis';

/**
 * The 200 answer of every sign-in route (a password, a voting credential, a join code):
 * one token for `subject` with this deployment's lifetime, issuer and audience, and what
 * the client shows. A token bound to an election (`eid`) says so in `electionId`.
 */
export async function signedIn(
  subject: TokenSubject & { username: string },
  key: SigningKey,
): Promise<{ status: 200; body: TokenResponse & { electionId?: string } }> {
  const { ttlS, issuer, audience } = config.jwt;
  const token = await issueToken(subject, { ttlS, issuer, audience, key });
  return {
    status: 200,
    body: {
      token,
      tokenType: 'Bearer',
      expiresIn: ttlS,
      role: subject.role,
      sub: subject.sub,
      username: subject.username,
      ...(subject.eid !== undefined ? { electionId: subject.eid } : {}),
    },
  };
}
