import type { z } from 'zod';
import type { ApiError } from './errors';

/**
 * Request bodies are validated from one schema per body (zod), the same schema a test
 * compares with `docs/openapi.yaml` (test/unit/request-body-schemas.test.ts), so each
 * body's shape is written once. The error a client gets is still the one hand-written
 * message per field that API.md documents: the schema finds every problem, and the one
 * reported is the first in the order the fields are checked (unknown fields first, then
 * the schema's fields in order, a field's own constraint before those of its items).
 */
export type BodyIssue = z.core.$ZodIssue;

/** Marks a cross-field or whole-array rule whose issue message is the client's message as it is. */
export const EXACT = { exact: true } as const;

/** True for an issue raised with {@link EXACT}: its message goes to the client unchanged. */
export function isExact(issue: BodyIssue): issue is BodyIssue & { code: 'custom'; message: string } {
  return issue.code === 'custom' && issue.params?.['exact'] === true;
}

/** The issue a client is told about, given the object schema's field order. */
export function firstIssue(issues: readonly BodyIssue[], fields: readonly string[]): BodyIssue | undefined {
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown) return unknown;
  const rank = (i: BodyIssue): number => {
    const at = i.path.length === 0 ? -1 : fields.indexOf(String(i.path[0]));
    return at === -1 && i.path.length > 0 ? fields.length : at;
  };
  let first: BodyIssue | undefined;
  for (const i of issues) if (!first || rank(i) < rank(first)) first = i;
  if (!first) return undefined;
  const field = issues.filter((i) => rank(i) === rank(first));
  // An array's own constraint (its length) is checked before its items.
  return field.find((i) => i.path.length <= 1) ?? first;
}

/**
 * Parses `body` with an object schema; on failure throws what `explain` makes of the
 * first issue (a `400 invalid_request` naming the field, as API.md documents).
 */
export function parseBody<S extends z.ZodObject>(
  schema: S,
  body: unknown,
  explain: (issue: BodyIssue) => ApiError,
): z.output<S> {
  const r = schema.safeParse(body, { reportInput: true }); // `explain` may look at the offending input
  if (r.success) return r.data;
  throw explain(firstIssue(r.error.issues, Object.keys(schema.shape))!);
}
