import { RevocationList } from '../../shared/auth/revocations';
import { systemClock } from '../../shared/clock';
import { notFound } from '../../shared/errors';
import { voterIdPattern, votingLink } from '../../shared/roll/credentials';
import { requireRole } from './auth';
import { electionIdParam, elections } from './elections';
import type { HttpRequest, HttpResult } from './http';
import { redis } from './redis';
import { rolls, webOrigin } from './roll';

const revocations = new RevocationList(redis());

/**
 * Reissue or revoke one roll voter's credential (admin). The roll changes first (the
 * old credential signs nobody in from then on), then the voter's session version is
 * bumped, so tokens made from the old credential are refused by every route. A retry
 * after a failure between the two redoes both.
 */
export async function changeCredential(req: HttpRequest, action: 'reissue' | 'revoke'): Promise<HttpResult> {
  await requireRole(req, 'admin');
  const e = await elections.require(electionIdParam(req.params));
  const voterId = req.params['voterId'] ?? '';
  if (!voterIdPattern.test(voterId)) throw notFound('Voter');
  const { credential } = await rolls.changeCredential(e.id, voterId, action);
  await revocations.apply(voterId, 'revoke', systemClock.now());
  if (credential === undefined) return { status: 200, body: { voterId, credential: 'revoked' } };
  return { status: 200, body: { voterId, credential, link: votingLink(webOrigin(req), credential) } };
}
