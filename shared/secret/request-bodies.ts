import type { z } from 'zod';
import { ApiError, badRequest } from '../errors';
import { type BodyIssue, parseBody } from '../request-body';
import {
  commitmentRequestSchema,
  complaintRequestSchema,
  decryptionShareSchema,
  revealRequestSchema,
  secretVoteRequestSchema,
  sharesRequestSchema,
  spoilRequestSchema,
  voterKeyRequestSchema,
} from './request-schemas';

/**
 * The secret-ballot request bodies, parsed with their schemas (request-schemas.ts, the
 * ones test/unit/request-body-schemas.test.ts holds docs/openapi.yaml to) before any
 * handler reads them or touches Redis: a bad body is a `400` naming the first wrong
 * field, with the path inside it (`shares[1].nonce must be 24 lowercase hex
 * characters`), and changes nothing. A problem inside a ballot is `400
 * malformed_ballot`, as API.md documents. What depends on the election (a trustee
 * index in range, the number of coefficients, a point on the curve) is the caller's
 * check after this one.
 */

type Path = readonly PropertyKey[];

/** `shares[1].nonce` for the path `['shares', 1, 'nonce']`. */
function pathText(path: Path): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

const HEX_PATTERN = /^\/\^\[0-9a-f\]\{(\d+)\}\$\/$/;

/** What the value at the issue's path must be, in words. */
function mustBe(issue: BodyIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return 'an integer';
      return issue.expected === 'array' || issue.expected === 'object'
        ? `an ${issue.expected}`
        : `a ${issue.expected}`;
    case 'invalid_format': {
      const n = 'pattern' in issue ? HEX_PATTERN.exec(String(issue.pattern))?.[1] : undefined;
      return n ? `${n} lowercase hex characters` : 'well formed';
    }
    case 'too_small':
      return `at least ${String(issue.minimum)}`;
    case 'too_big':
      return `at most ${String(issue.maximum)}`;
    default:
      return 'valid';
  }
}

/** An explainer for `parseBody`: unknown fields, a non-object body, then the field's path. */
function explainer(shape: string, ballotField?: string): (issue: BodyIssue) => ApiError {
  return (issue) => {
    if (issue.code === 'unrecognized_keys') {
      const at = issue.path.length ? `${pathText(issue.path)}.` : '';
      const fields = issue.keys.map((k) => at + k);
      return badRequest(`Unknown field(s): ${fields.join(', ')}`, { fields });
    }
    if (issue.path.length === 0) return badRequest(`Body must be a JSON object ${shape}`);
    const field = String(issue.path[0]);
    const what = `${pathText(issue.path)} must be ${mustBe(issue)}`;
    if (field === ballotField) {
      // A missing ballot is a bad request; a ballot that is there but wrong, malformed.
      if (issue.path.length === 1 && issue.input === undefined)
        return badRequest(`${field} is required`, { field });
      return new ApiError(400, 'malformed_ballot', `The ballot is malformed: ${what}`);
    }
    return badRequest(what, { field });
  };
}

const parse =
  <S extends z.ZodObject>(schema: S, shape: string, ballotField?: string) =>
  (body: unknown): z.output<S> =>
    parseBody(schema, body, explainer(shape, ballotField));

/** `POST …/ceremony/commitments`. */
export const parseCommitmentRequest = parse(commitmentRequestSchema, '{coefficients, proofs, transportKey}');
/** `POST …/ceremony/shares`. */
export const parseSharesRequest = parse(sharesRequestSchema, '{shares: [{to, nonce, ciphertext}…]}');
/** `POST …/ceremony/complaints`. */
export const parseComplaintRequest = parse(complaintRequestSchema, '{against}');
/** `POST …/ceremony/reveals`. */
export const parseRevealRequest = parse(revealRequestSchema, '{to, share}');
/** `POST …/voter-key`. */
export const parseVoterKeyRequest = parse(voterKeyRequestSchema, '{publicKey}');
/** `POST …/votes` of a secret election: `{ballot}`. */
export const parseSecretVoteRequest = parse(secretVoteRequestSchema, '{ballot}', 'ballot');
/** `POST …/spoiled`: `{ballot, opening}`. */
export const parseSpoilRequest = parse(spoilRequestSchema, '{ballot, opening}', 'ballot');
/** `POST …/decryption-shares`. */
export const parseDecryptionShare = parse(decryptionShareSchema, '{shareKey, values: [{share, proof}…]}');
