import { electionIdParam, elections } from './lib/elections';
import { assertElection } from './lib/auth';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import { redis } from './lib/redis';
import { buildRecord, recordLines } from '../shared/secret/record';
import { manifestOf } from '../shared/secret/election-manifest';

/**
 * `GET /elections/{id}/record` (any role): the qv/v1 election record (BALLOTS.md §6,
 * docs/election-record.md) as one JSON document, or as NDJSON with
 * `Accept: application/x-ndjson`.
 */
export const handler = httpHandler('GET /elections/{id}/record', async (req) => {
  const claims = await authenticateRead(req);
  assertElection(claims, electionIdParam(req.params));
  const e = await elections.require(electionIdParam(req.params));
  manifestOf(e);
  const record = await buildRecord(redis(), e);
  if (/application\/x-ndjson/i.test(req.headers['accept'] ?? '')) {
    return { status: 200, raw: recordLines(record), headers: { 'content-type': 'application/x-ndjson' } };
  }
  return { status: 200, body: record };
});
