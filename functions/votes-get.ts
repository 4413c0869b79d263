import { parseVoteId } from '../shared/elections/model';
import { readVote } from '../shared/votes/read';
import { cachedElection } from './lib/elections';
import { assertElection } from './lib/auth';
import { httpHandler } from './lib/http';
import { authenticateRead } from './lib/read-limits';
import { config, redis } from './lib/redis';

/** `GET /votes/{voteId}` (its voter, or admin/auditor). */
export const handler = httpHandler('GET /votes/{voteId}', async (req) => {
  const claims = await authenticateRead(req);
  const voteId = req.params['voteId'] ?? '';
  const { electionId } = parseVoteId(voteId);
  assertElection(claims, electionId);
  const election = await cachedElection(electionId);
  const view = await readVote(redis(), election, voteId, config.coordinators, claims);
  return { status: 200, body: view };
});
