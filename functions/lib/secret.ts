import type { AuthClaims } from '../../shared/auth/tokens';
import type { ElectionRecord } from '../../shared/elections/store';
import { CeremonyStore, trusteeIndexOf } from '../../shared/secret/ceremony';
import { requireRole } from './auth';
import { electionIdParam, elections } from './elections';
import type { HttpRequest } from './http';
import { redis } from './redis';

/** The ceremony store every secret-ballot function uses (one per container). */
export const ceremonies = new CeremonyStore(redis());

/**
 * A trustee route's context: the caller must hold the `trustee` role and be one of the
 * election's trustees (403 `not_a_trustee` otherwise). The election is read fresh: the
 * ceremony state moves with every step.
 */
export async function trusteeRequest(
  req: HttpRequest,
): Promise<{ claims: AuthClaims; election: ElectionRecord; index: number }> {
  const claims = await requireRole(req, 'trustee');
  const election = await elections.require(electionIdParam(req.params));
  return { claims, election, index: trusteeIndexOf(election, claims.sub) };
}
