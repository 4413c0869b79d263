import type { JWTPayload } from 'jose';
import type { Role } from '../roles';
import type { OidcConfig } from './config';

/**
 * How an external user's claims become one quorumvote role. Identity providers put
 * groups and roles in different places: Cognito `cognito:groups` (a top-level claim
 * whose name holds a colon), Auth0 a namespaced claim (`https://vote.example.com/roles`,
 * a name full of dots), Keycloak `realm_access.roles` (nested). So a claim path is
 * first taken as one claim name; only when no claim has that name is it walked as a
 * dotted path into nested objects.
 */
export function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let at: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, part)) {
      return undefined;
    }
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * The values of a role claim: the strings of an array, or a single string (some IdPs
 * send one group as a string, others a space-separated list: both the whole string and
 * its words count).
 */
function valuesOf(claim: unknown): Set<string> {
  if (typeof claim === 'string') return new Set([claim, ...claim.split(' ').filter(Boolean)]);
  if (Array.isArray(claim)) return new Set(claim.filter((v): v is string => typeof v === 'string'));
  return new Set();
}

/**
 * The role the claims grant: the first row of the role table whose value the claim
 * holds (so the operator decides precedence, e.g. admins listed first), else the
 * default role, else undefined (the token is refused: a member of no mapped group
 * has no business voting).
 */
export function mapRole(
  payload: JWTPayload,
  config: Pick<OidcConfig, 'roleClaim' | 'roleMap' | 'defaultRole'>,
): Role | undefined {
  if (config.roleClaim !== undefined) {
    const values = valuesOf(claimAt(payload, config.roleClaim));
    const row = config.roleMap.find((r) => values.has(r.value));
    if (row) return row.role;
  }
  return config.defaultRole;
}
