import { badRequest } from '../shared/errors';
import { readSecretAuditPage } from '../shared/secret/audit-page';
import { readAuditPage } from '../shared/votes/read';
import { electionIdParam, elections } from './lib/elections';
import { assertElection } from './lib/auth';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import { redis } from './lib/redis';
import type { AuditLogResponse } from '../shared/api-bodies';

/**
 * `GET /elections/{id}/audit?cursor=&limit=`: the hash-chained log, paged. Empty (with
 * `hidden: true`) while the election hides its totals. A secret election's page says
 * `ballot: "secret"` and its entries have the secret shape (docs/api.md).
 */
export const handler = httpHandler('GET /elections/{id}/audit', async (req) => {
  const claims = await authenticateRead(req, 'audit');
  assertElection(claims, electionIdParam(req.params));
  const e = await elections.require(electionIdParam(req.params));
  const limitText = req.query['limit'] ?? '100';
  const limit = Number(limitText);
  if (!/^\d{1,4}$/.test(limitText) || limit < 1 || limit > 1000) {
    throw badRequest('limit must be an integer from 1 to 1000', { field: 'limit' });
  }
  // Admins also see each entry's private vote id and time (load runs reconcile with them).
  const operator = claims.role === 'admin';
  // A secret election's entries have their own shape (what their hashes cover).
  const read = e.ballot === 'secret' ? readSecretAuditPage : readAuditPage;
  const [page, resets] = await Promise.all([
    read(redis(), e, req.query['cursor'] || undefined, limit, operator),
    elections.resets(e.id), // a reset is part of the audit trail: never silent
  ]);
  return {
    status: 200,
    body: { electionId: e.id, partitions: e.tags.length, ...page, resets } satisfies AuditLogResponse,
  };
});
