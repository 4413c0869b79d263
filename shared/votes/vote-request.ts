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

/**
 * A "choose up to m" ballot (issue 17): `{optionIds: [...]}`, 1 to 64 ids (an election
 * has at most 64 options). Whether they are distinct, on the ballot and at most the
 * election's `maxChoices` is the ballot's own check (ballot-choice.ts), as for `optionId`.
 */
export const approvalVoteRequestSchema = z.strictObject({
  optionIds: z.array(z.string().min(1).max(64)).min(1).max(64),
});

function explain(issue: BodyIssue): ApiError {
  if (issue.code === 'unrecognized_keys') {
    return badRequest(`Unknown field(s): ${issue.keys.join(', ')}`, { fields: issue.keys });
  }
  if (issue.path[0] === 'optionId')
    return badRequest('optionId must be a non-empty string', { field: 'optionId' });
  if (issue.path[0] === 'optionIds') {
    return badRequest('optionIds must be an array of 1 to 64 option ids (non-empty strings)', {
      field: 'optionIds',
    });
  }
  return badRequest('Body must be a JSON object {optionId}');
}

/** The chosen option id of a vote body; throws 400 invalid_request naming the problem. */
export function parseVoteRequest(body: unknown): string {
  return parseBody(voteRequestSchema, body, explain).optionId;
}

/**
 * The chosen option ids of a vote body, `{optionId}` (one) or `{optionIds}` (issue 17),
 * in the order sent; throws 400 invalid_request naming the problem.
 */
export function parseChoiceRequest(body: unknown): string[] {
  if (typeof body === 'object' && body !== null && 'optionIds' in body) {
    if ('optionId' in body) {
      throw badRequest('Send either optionId or optionIds, not both', { fields: ['optionId', 'optionIds'] });
    }
    return parseBody(approvalVoteRequestSchema, body, explain).optionIds;
  }
  return [parseVoteRequest(body)];
}
