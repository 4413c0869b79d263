import { decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Role } from '../roles';
import type { OidcConfig } from './config';
import { OidcKeySource } from './keys';
import { mapRole } from './roles';
import { externalUserId } from './subject';

/**
 * Checks tokens of the configured external issuer: signature by a key of its JWKS with
 * one of the allowed asymmetric algorithms, exact `iss`, our `aud`, `exp`/`nbf` (and an `iat`)
 * with the configured clock tolerance. Its outcome is still raw (jose's errors, a role
 * that may be missing): shared/auth/tokens.ts turns it into claims or a 401, the same
 * way as for our own tokens.
 */
export interface ExternalIdentity {
  /** The claims as signed. */
  payload: JWTPayload;
  /** The quorumvote user id of (iss, sub): see subject.ts. */
  userId: string;
  /** The issuer's own subject. */
  externalSub: string;
  /** Undefined when no role table row matches and there is no default role. */
  role: Role | undefined;
  username?: string;
}

/** The `iss` a token claims, unverified (to pick its verifier), or undefined when unreadable. */
export function claimedIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

export class OidcVerifier {
  constructor(
    readonly config: OidcConfig,
    private readonly keys: OidcKeySource = new OidcKeySource(config),
  ) {}

  /** Throws jose's errors (or a DiscoveryError); `sub` is a non-empty string when it returns. */
  async verify(token: string, now: number): Promise<ExternalIdentity> {
    const { payload } = await jwtVerify(token, this.keys.getKey, {
      algorithms: [...this.config.algorithms],
      issuer: this.config.issuer,
      audience: this.config.audience,
      requiredClaims: ['sub', 'iat', 'exp'],
      currentDate: new Date(now),
      clockTolerance: this.config.clockToleranceS,
    });
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '') {
      throw new errors.JWTClaimValidationFailed('"sub" claim must be a non-empty string', payload, 'sub');
    }
    const name = payload[this.config.usernameClaim];
    return {
      payload,
      userId: externalUserId(this.config.issuer, sub),
      externalSub: sub,
      role: mapRole(payload, this.config),
      ...(typeof name === 'string' && name !== '' ? { username: name } : {}),
    };
  }
}
