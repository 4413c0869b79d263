import { systemClock } from '../shared/clock';
import { readResults } from '../shared/votes/read';
import { secretResults } from '../shared/secret/tally';
import { electionIdParam, elections } from './lib/elections';
import { assertElection } from './lib/auth';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import { redis } from './lib/redis';
import { cachedResults } from './lib/results-cache';

/**
 * `GET /elections/{id}/results`: every partition's tally summed. Voters (the many, e.g.
 * every browser of an election) share a ≤ 1 s cache per function instance; admins and
 * auditors (few, and checking what they just did: a close, a reset) read Redis.
 * Rate-limited per user and per address.
 */
export const handler = httpHandler('GET /elections/{id}/results', async (req) => {
  const claims = await authenticateRead(req);
  assertElection(claims, electionIdParam(req.params));
  const e = await elections.require(electionIdParam(req.params));
  const body = claims.role === 'voter' ? await cachedResults(e) : await readResults(redis(), systemClock, e);
  // Secret ballots: totals only once the trustees decrypted them, else what is awaited.
  return { status: 200, body: e.ballot === 'secret' ? await secretResults(redis(), e, body) : body };
});
