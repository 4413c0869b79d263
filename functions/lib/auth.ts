import {
  type AuthClaims,
  InvalidTokenError,
  KeySourceUnavailableError,
  TokenVerifier,
} from '../../shared/auth/tokens';
import { isExternalTokenRevoked, RevocationList } from '../../shared/auth/revocations';
import type { Role } from '../../shared/auth/roles';
import { assertElection } from '../../shared/auth/election-binding';
import { ApiError, forbidden, unavailable } from '../../shared/errors';
import type { HttpRequest } from './http';
import { config, redis } from './redis';

/**
 * Request authentication for HTTP functions: `Authorization: Bearer <JWT>` → typed
 * claims, or the API.md errors (401 `unauthorized`, 403 `forbidden`). The verifier is
 * made once per container (CONVENTIONS 1) so a remote JWKS is fetched once, not per call.
 */
export const tokenVerifier = TokenVerifier.fromConfig(config);

/**
 * Revoked subjects (disabled users, ended sessions), checked on every request: a
 * signature alone does not make a token valid.
 */
export const revocations = new RevocationList(redis());

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*) *$/i;

function unauthorized(message: string, error = 'invalid_token'): ApiError {
  // RFC 6750 §3: tell the client which scheme is expected.
  return new ApiError(401, 'unauthorized', message, undefined, {
    'WWW-Authenticate': `Bearer realm="quorumvote", error="${error}"`,
  });
}

/**
 * Verifies a raw token (also for callers without an Authorization header, such as the
 * WebSocket `$connect` handler's `?token=`).
 */
export async function authenticateToken(token: string | undefined): Promise<AuthClaims> {
  if (!token) throw unauthorized('Missing bearer token', 'invalid_request');
  let claims: AuthClaims;
  try {
    claims = await tokenVerifier.verify(token);
  } catch (err) {
    if (err instanceof InvalidTokenError) throw unauthorized(err.message);
    if (err instanceof KeySourceUnavailableError)
      throw unavailable('Token keys are unavailable; retry shortly');
    throw err;
  }
  if (claims.externalSub !== undefined) return externalSession(claims);
  if (await revocations.revoked(claims.sub, claims.sv)) {
    throw unauthorized('Token has been revoked (user disabled or sessions ended)');
  }
  return claims;
}

/**
 * An external issuer's token carries no session version: it is judged by when it was
 * issued against when its subject's sessions were last ended, then stamped with the
 * subject's current version, as our issuer stamps its tokens at login. Everything
 * downstream (a WebSocket connection re-checking on subscribe) then sees an ordinary
 * `sv`: ending the sessions again revokes it like any other token.
 */
async function externalSession(claims: AuthClaims): Promise<AuthClaims> {
  const state = await revocations.state(claims.sub);
  const toleranceMs = (config.jwt.oidc?.clockToleranceS ?? 0) * 1000;
  if (isExternalTokenRevoked(state, claims.iat, toleranceMs)) {
    throw unauthorized(
      'Token has been revoked (user disabled or sessions ended); log in again at your identity provider',
    );
  }
  return state.version > 0 ? { ...claims, sv: state.version } : claims;
}

/** The caller's verified claims, or `401 unauthorized`. */
export async function authenticate(req: HttpRequest): Promise<AuthClaims> {
  const header = req.headers['authorization'];
  if (header === undefined || header.trim() === '') {
    throw unauthorized('Missing Authorization: Bearer token', 'invalid_request');
  }
  const match = BEARER.exec(header);
  if (!match) throw unauthorized('Authorization header must be "Bearer <JWT>"', 'invalid_request');
  return authenticateToken(match[1]);
}

/** The caller's claims when their role is one of `roles`; else `401` (no/bad token) or `403 forbidden`. */
export async function requireRole(req: HttpRequest, ...roles: Role[]): Promise<AuthClaims> {
  const claims = await authenticate(req);
  if (!roles.includes(claims.role)) {
    throw forbidden(`This action needs the role ${roles.join(' or ')}; the token has ${claims.role}`);
  }
  return claims;
}

/**
 * The voter's claims for acting in the election `electionIdOf()` names (vote submit,
 * secret-ballot voter routes): `401` without a valid token, `403 forbidden` for another
 * role, `403 wrong_election` for a token bound to another election. The path is read
 * only after the token: a caller who may not ask learns nothing about ids (no 404).
 */
export async function requireVoterFor(
  req: HttpRequest,
  electionIdOf: () => string,
): Promise<{ claims: AuthClaims; electionId: string }> {
  const claims = await requireRole(req, 'voter');
  const electionId = electionIdOf();
  assertElection(claims, electionId);
  return { claims, electionId };
}

/** Re-exported so that routes find every authorization check in this module. */
export { assertElection };
