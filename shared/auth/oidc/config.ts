import { SettingsError } from '../../settings/load';
import type { OidcAlgorithm, RoleMapEntry } from '../../settings/oidc-values';
import type { Settings } from '../../settings/schema';
import type { Role } from '../roles';

/**
 * An external OpenID Connect issuer whose tokens quorumvote accepts besides its own:
 * who it is, which tokens are meant for us, how keys are found, and how its claims
 * become one of our roles. Built from the OIDC_* settings.
 */
export interface OidcConfig {
  /** Exactly the `iss` its tokens carry; discovery is at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** The `aud` a token must carry to be meant for quorumvote (client id or API identifier). */
  audience: string;
  algorithms: OidcAlgorithm[];
  /** Where the role values are in the claims (a claim name, or a dotted path into objects). */
  roleClaim?: string;
  /** Claim value → role, first match wins. */
  roleMap: { value: string; role: Role }[];
  /** The role of a user none of whose values is in the table; unset = such a token is refused. */
  defaultRole?: Role;
  /** A claim shown as the user's name (never used to decide anything). */
  usernameClaim: string;
  clockToleranceS: number;
  /** How long fetched keys are trusted before they are fetched again. */
  jwksCacheMs: number;
  /** Least time between two fetches caused by an unknown `kid` (or a failed discovery). */
  jwksCooldownMs: number;
  /** Timeout of each request to the issuer. */
  httpTimeoutMs: number;
}

function bad(message: string): SettingsError {
  return new SettingsError(`Bad setting: ${message}`);
}

/**
 * The external issuer of these settings, or undefined when `OIDC_ISSUER` is unset.
 * Throws a `SettingsError` at start for a configuration that could not admit anyone
 * (no audience, no way to get a role) or that would confuse its tokens with ours.
 */
export function loadOidcConfig(s: Settings): OidcConfig | undefined {
  if (s.OIDC_ISSUER === undefined) return undefined;
  if (s.OIDC_AUDIENCE === undefined) {
    throw bad('OIDC_AUDIENCE must be set with OIDC_ISSUER (the aud of tokens meant for quorumvote)');
  }
  if (s.OIDC_ISSUER === s.JWT_ISSUER) {
    throw bad('OIDC_ISSUER must differ from JWT_ISSUER: the issuer of a token decides how it is checked');
  }
  const mapped = s.OIDC_ROLE_MAP.length > 0;
  if (mapped && s.OIDC_ROLE_CLAIM === undefined) {
    throw bad('OIDC_ROLE_CLAIM must be set with OIDC_ROLE_MAP (the claim its values are looked up in)');
  }
  if (!mapped && s.OIDC_DEFAULT_ROLE === undefined) {
    throw bad(
      'OIDC_ISSUER needs OIDC_ROLE_CLAIM + OIDC_ROLE_MAP or OIDC_DEFAULT_ROLE (else no role for anyone)',
    );
  }
  return {
    issuer: s.OIDC_ISSUER,
    audience: s.OIDC_AUDIENCE,
    algorithms: s.OIDC_ALGORITHMS,
    ...(s.OIDC_ROLE_CLAIM === undefined ? {} : { roleClaim: s.OIDC_ROLE_CLAIM }),
    roleMap: s.OIDC_ROLE_MAP satisfies RoleMapEntry[],
    ...(s.OIDC_DEFAULT_ROLE === undefined ? {} : { defaultRole: s.OIDC_DEFAULT_ROLE }),
    usernameClaim: s.OIDC_USERNAME_CLAIM,
    clockToleranceS: s.OIDC_CLOCK_TOLERANCE_S,
    jwksCacheMs: s.OIDC_JWKS_CACHE_MS,
    jwksCooldownMs: s.OIDC_JWKS_COOLDOWN_MS,
    httpTimeoutMs: s.OIDC_HTTP_TIMEOUT_MS,
  };
}
