import { z } from 'zod';
import { type ApiError, badRequest } from '../errors';
import { type BodyIssue, parseBody } from '../request-body';

/**
 * The body of `POST /elections/{id}/votes` (a plain ballot), written once as a schema
 * that validation uses and test/unit/request-body-schemas.test.ts checks against
 * `VoteRequest` of docs/openapi.yaml. Whether the option is on the ballot is the
 * ballot's own check (`400 invalid_option`), not the shape's.
 */
export const voteRequestSchema = z.strictObject({ optionId: z.string().min(1).max(64) });

function explain(issue: BodyIssue): ApiError {
  if (issue.code === 'unrecognized_keys') {
    return badRequest(`Unknown field(s): ${issue.keys.join(', ')}`, { fields: issue.keys });
  }
  if (issue.path[0] === 'optionId')
    return badRequest('optionId must be a non-empty string', { field: 'optionId' });
  return badRequest('Body must be a JSON object {optionId}');
}

/** The chosen option id of a vote body; throws 400 invalid_request naming the problem. */
export function parseVoteRequest(body: unknown): string {
  return parseBody(voteRequestSchema, body, explain).optionId;
}
