import { z } from 'zod';
import { type ApiError, badRequest } from '../errors';
import { type BodyIssue, parseBody } from '../request-body';
import { normalizeJoinCode } from './join-code';

/**
 * The body of `POST /join`, written once as the schema validation uses and
 * test/unit/request-body-schemas.test.ts checks against `JoinRequest` of
 * docs/openapi.yaml.
 */

/**
 * A device secret: base64url, 22 characters (128 bits, what the web app makes with
 * `crypto.getRandomValues`) to 64. The server only hashes it (join-identity.ts).
 */
export const deviceSecretPattern = /^[A-Za-z0-9_-]{22,64}$/;

export const joinRequestSchema = z.strictObject({
  // As typed: case, spaces and hyphens do not matter (join-code.ts).
  code: z.string().min(1).max(32),
  device: z.string().regex(deviceSecretPattern),
});

function explain(issue: BodyIssue): ApiError {
  if (issue.code === 'unrecognized_keys') {
    return badRequest(`Unknown field(s): ${issue.keys.join(', ')}`, { fields: issue.keys });
  }
  switch (issue.path[0]) {
    case 'code':
      return badRequest('code must be the join code, e.g. "7KQ2-MX9D"', { field: 'code' });
    case 'device':
      return badRequest('device must be 22 to 64 base64url characters (a random secret of this device)', {
        field: 'device',
      });
    default:
      return badRequest('Body must be {"code": string, "device": string}');
  }
}

/** The join code (canonical) and device secret of a `POST /join`; 400 naming the field otherwise. */
export function parseJoinRequest(body: unknown): { code: string; device: string } {
  const b = parseBody(joinRequestSchema, body, explain);
  const code = normalizeJoinCode(b.code);
  if (code === null) {
    throw badRequest('code must be 8 letters and digits (the join code shown in the room)', {
      field: 'code',
    });
  }
  return { code, device: b.device };
}
