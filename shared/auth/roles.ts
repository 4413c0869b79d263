/**
 * The roles API.md grants. Kept in one list so tokens, the user store and request
 * guards agree on what a role is: anything outside this list is refused everywhere.
 */
export const ROLES = ['voter', 'admin', 'auditor', 'trustee'] as const;

/** A role a token or a user may carry. */
export type Role = (typeof ROLES)[number];

/** True when `value` is one of {@link ROLES} (claims and stored records are untrusted input). */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
