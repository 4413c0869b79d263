/**
 * Redis keys of the user store. Each user lives under its own hash tag
 * `{u:<canonical username>}` (shared/redis/keys.ts: one slot per user), so creating a
 * user is a single-slot operation and users spread over the cluster.
 *
 * Kept beside the store because shared/redis/keys.ts is owned elsewhere; it belongs
 * there (CONVENTIONS 7) and can move without changing any key.
 */

/**
 * Usernames are unique case-insensitively: `Alice` and `alice` are one account, so
 * nobody can register a look-alike of an existing voter. The stored record keeps the
 * spelling it was created with.
 */
export function canonicalUsername(username: string): string {
  return username.toLowerCase();
}

export const userKeys = {
  /** hash: id, username, role, passwordHash, createdAt (and updatedAt after a password change). */
  record: (username: string) => `{u:${canonicalUsername(username)}}:user`,
} as const;
