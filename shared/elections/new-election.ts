import { z } from 'zod';
import { type ApiError, badRequest } from '../errors';
import { type BodyIssue, EXACT, isExact, parseBody } from '../request-body';
import type { NewElection } from './model';
import { parseSecretConfig } from './secret-config';

/**
 * The body of `POST /elections`: written once, here, as a schema; validation uses it,
 * and test/unit/request-body-schemas.test.ts checks it against `NewElection` of
 * docs/openapi.yaml. The rules a JSON Schema does not express (a title or label not
 * blank, unique option ids, `closesAt` after `opensAt`) are refinements of it.
 */
const notBlank = (s: string): boolean => s.trim().length > 0;
const isTimestamp = (s: string): boolean => !Number.isNaN(Date.parse(s));

/** An ISO-8601 time, or null/absent (any string `Date.parse` reads, as before the schema). */
const timestamp = z.string().meta({ format: 'date-time' }).refine(isTimestamp).nullable().optional();

export const electionOptionSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  label: z.string().min(1).max(200).refine(notBlank),
});

export const newElectionSchema = z
  .strictObject({
    title: z.string().min(1).max(200).refine(notBlank),
    options: z
      .array(electionOptionSchema)
      .min(2)
      .max(64)
      .refine((options) => new Set(options.map((o) => o.id)).size === options.length, {
        message: 'option ids must be unique',
        params: EXACT,
        when: (payload) => payload.issues.length === 0, // only once every option is valid
      }),
    opensAt: timestamp,
    closesAt: timestamp,
    voters: z.array(z.string().min(1).max(128)).max(100000).nullable().optional(),
    hideTotalsUntilClosed: z.boolean().default(false),
    // Who may vote: voter accounts (`roll`) or whoever joins with a code (`code`).
    access: z.enum(['roll', 'code']).default('roll'),
    // "Choose up to m" (issue 17); at most the number of options (a refinement below).
    maxChoices: z.number().int().min(1).max(64).default(1),
    // Secret ballots (shared/elections/secret-config.ts checks them against each other).
    ballot: z.enum(['open', 'secret']).default('open'),
    trustees: z.array(z.string()).min(1).max(32).optional(),
    threshold: z.number().int().min(1).max(32).optional(),
    minSelections: z.number().int().min(0).max(64).default(1),
    maxSelections: z.number().int().min(1).max(64).default(1),
  })
  .refine(
    (b: unknown) => {
      // Runs whatever else failed, so `b` may be anything.
      if (typeof b !== 'object' || b === null) return true;
      const { maxChoices, options } = b as Record<string, unknown>;
      if (typeof maxChoices !== 'number' || !Array.isArray(options)) return true;
      return maxChoices <= options.length;
    },
    {
      path: ['maxChoices'],
      message: 'maxChoices must be at most the number of options',
      params: EXACT,
      when: () => true,
    },
  )
  .refine(
    (b: unknown) => {
      // Runs whatever else failed, so `b` may be anything.
      if (typeof b !== 'object' || b === null) return true;
      const { opensAt, closesAt } = b as Record<string, unknown>;
      if (typeof opensAt !== 'string' || typeof closesAt !== 'string') return true;
      if (!isTimestamp(opensAt) || !isTimestamp(closesAt)) return true;
      return Date.parse(closesAt) > Date.parse(opensAt);
    },
    {
      path: ['closesAt'],
      message: 'closesAt must be after opensAt',
      params: EXACT,
      // Also when another field failed: the first problem in field order is reported.
      when: () => true,
    },
  );

/** API.md's message for the first problem of a `POST /elections` body. */
function explain(issue: BodyIssue): ApiError {
  if (issue.code === 'unrecognized_keys') {
    return badRequest(`Unknown field(s): ${issue.keys.join(', ')}`, { fields: issue.keys });
  }
  const [field, index, part] = issue.path;
  if (field === undefined) return badRequest('Body must be a JSON object');
  if (isExact(issue)) return badRequest(issue.message, { field });
  switch (field) {
    case 'title':
      return badRequest('title must be a non-empty string of at most 200 characters', { field });
    case 'options':
      if (index === undefined)
        return badRequest('options must be an array of 2 to 64 {id, label}', { field });
      // An array item passed the old `typeof === 'object'` check and failed on its id.
      if (part === undefined && !Array.isArray(issue.input)) {
        return badRequest(`options[${String(index)}] must be an object`, { field });
      }
      return part === 'id' || part === undefined
        ? badRequest(`options[${String(index)}].id must be 1-64 characters of A-Z a-z 0-9 _ -`, { field })
        : badRequest(`options[${String(index)}].label must be a non-empty string`, { field });
    case 'opensAt':
    case 'closesAt':
      return badRequest(`${field} must be an ISO-8601 timestamp`, { field });
    case 'voters':
      return badRequest('voters must be an array of user ids (sub)', { field });
    case 'ballot':
      return badRequest('ballot must be "open" or "secret"', { field });
    case 'access':
      return badRequest('access must be "roll" or "code"', { field });
    case 'maxChoices':
      return badRequest('maxChoices must be an integer from 1 to the number of options', { field });
    case 'trustees':
    case 'threshold':
    case 'minSelections':
    case 'maxSelections':
      return badRequest(`${field} is not valid for a secret ballot (docs/api.md "Secret ballots")`, {
        field,
      });
    default:
      return badRequest('hideTotalsUntilClosed must be a boolean', { field: 'hideTotalsUntilClosed' });
  }
}

const iso = (t: string | null | undefined): string | null =>
  t ? new Date(Date.parse(t)).toISOString() : null;

/**
 * A code-access election admits whoever joins with its code, so a voter list (which
 * names accounts) means nothing for it; and joined devices hold no voter key, so it
 * takes open ballots only (for now).
 */
function checkAccess(b: { access: 'roll' | 'code'; voters?: string[] | null; ballot: string }): void {
  if (b.access !== 'code') return;
  if (b.voters) {
    throw badRequest('voters cannot be given for access "code": whoever joins with the code votes', {
      field: 'voters',
    });
  }
  if (b.ballot === 'secret') {
    throw badRequest('access "code" is for open ballots only (a secret ballot needs voter accounts)', {
      field: 'access',
    });
  }
}

/** Validates the body of POST /elections; throws 400 invalid_request naming the field. */
export function parseNewElection(body: unknown): NewElection {
  const b = parseBody(newElectionSchema, body, explain);
  checkAccess(b);
  if (b.ballot === 'secret' && b.maxChoices > 1) {
    // qv/v1 (BALLOTS.md) has its own rule for how many options a ballot selects, proven
    // inside each encrypted ballot: a second, unproven limit would only disagree with it.
    throw badRequest(
      'maxChoices applies to open ballots; a secret ballot sets how many options it may select with minSelections/maxSelections (docs/api.md "Secret ballots")',
      { field: 'maxChoices' },
    );
  }
  return {
    title: b.title.trim(),
    options: b.options,
    opensAt: iso(b.opensAt),
    closesAt: iso(b.closesAt),
    voters: b.voters ? [...new Set(b.voters)] : null,
    hideTotalsUntilClosed: b.hideTotalsUntilClosed,
    ...(b.maxChoices === 1 ? {} : { maxChoices: b.maxChoices }), // absent = single choice
    // The secret fields as sent (not the schema's defaults): an open election must carry none.
    secret: parseSecretConfig(body as Record<string, unknown>, b.options.length),
    access: b.access,
  };
}
