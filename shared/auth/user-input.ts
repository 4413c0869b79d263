import { z } from 'zod';
import { type ApiError, badRequest } from '../errors';
import { type BodyIssue, parseBody } from '../request-body';
import { ROLES, type Role } from './roles';

/**
 * What clients send about users — the bodies of `POST /users` and `POST /auth/token` —
 * written once as schemas that validation uses and test/unit/request-body-schemas.test.ts
 * checks against `NewUser` and `TokenRequest` of docs/openapi.yaml.
 */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,64}$/;
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

/** True when `value` is a username the store accepts. */
export function isValidUsername(value: unknown): value is string {
  return typeof value === 'string' && USERNAME_PATTERN.test(value);
}

/** Password length in characters (code points, so an emoji counts once), as JSON Schema counts. */
export function passwordChars(password: string): number {
  return [...password].length;
}

/** What `POST /users` accepts. */
export interface NewUser {
  username: string;
  password: string;
  role: Role;
}

export const newUserSchema = z.object({
  username: z.string().regex(USERNAME_PATTERN),
  // zod's min/max count UTF-16 units; the rule (and JSON Schema) counts characters.
  password: z
    .string()
    .meta({ minLength: PASSWORD_MIN_CHARS, maxLength: PASSWORD_MAX_CHARS })
    .refine((p) => passwordChars(p) >= PASSWORD_MIN_CHARS && passwordChars(p) <= PASSWORD_MAX_CHARS),
  role: z.enum(ROLES),
});

function explainNewUser(issue: BodyIssue): ApiError {
  switch (issue.path[0]) {
    case 'username':
      return badRequest('username must be 3 to 64 characters of letters, digits, "_", "." or "-"', {
        field: 'username',
      });
    case 'password':
      return badRequest(
        `password must be a string of ${PASSWORD_MIN_CHARS} to ${PASSWORD_MAX_CHARS} characters`,
        {
          field: 'password',
        },
      );
    case 'role':
      return badRequest(`role must be one of ${ROLES.join(', ')}`, { field: 'role' });
    default:
      return badRequest('Body must be a JSON object with username, password and role');
  }
}

/**
 * Checks untrusted input for `UserStore.create`; throws `400 invalid_request` naming the
 * first bad field. Other fields are ignored.
 */
export function validateNewUser(input: unknown): NewUser {
  return parseBody(newUserSchema, input, explainNewUser);
}

export const tokenRequestSchema = z.object({ username: z.string(), password: z.string() });

/** The body of `POST /auth/token`; any problem is the one documented 400. */
export function parseTokenRequest(body: unknown): { username: string; password: string } {
  return parseBody(tokenRequestSchema, body, () =>
    badRequest('Body must be {"username": string, "password": string}'),
  );
}
