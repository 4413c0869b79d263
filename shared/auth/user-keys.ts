/**
 * Redis keys of the user store: the key module of this aggregate (docs/architecture.md
 * "Redis keys": one key module per aggregate, nothing else writes a key's text). Each
 * user lives under its own hash tag `{u:<canonical username>}` (one slot per user), so
 * creating a user is a single-slot operation and users spread over the cluster.
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
  /**
   * sorted set, every member at score 0: canonical usernames, for `GET /users` (prefix
   * search and cursor paging with ZRANGEBYLEX). Written after a user's record, so a user
   * is in the directory before it is listed; users made before the index existed are
   * added once by a scan (`indexed` marks that it ran).
   */
  index: '{users}:index',
  /** string '1' once the index holds every user record that existed when it was built. */
  indexed: '{users}:indexed',
  /** SCAN pattern of every user record, for building the index. */
  recordPattern: '{u:*}:user',
} as const;
