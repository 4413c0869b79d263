import type { Cluster, Redis } from 'ioredis';
import { revocationKeys } from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';

/**
 * Token revocation. A JWT stays valid until it expires unless every verifier also
 * checks this: per subject (the tokens' `sub`), a session version and a disabled flag.
 * The issuer stamps the current version into each token (claim `sv`); ending all
 * sessions bumps the version, so every older token is refused. Keyed by `sub` rather
 * than by user record, it works alike for tokens of the local identity provider, of an
 * external one (JWKS_URL) and of the load generator's synthetic voters.
 *
 * Checked against Redis on every use (one HMGET in the subject's own slot), not from a
 * cache: once the admin's revoke call has returned, no instance accepts the old token.
 */
export interface SubjectState {
  /** Tokens whose `sv` is below this are revoked. */
  version: number;
  disabled: boolean;
  /**
   * When sessions were last ended (revoke or disable), ms since the epoch; 0 = never.
   * What counts for tokens of an external issuer, which carry no `sv`.
   */
  revokedAt?: number;
}

export type RevocationAction = 'revoke' | 'disable' | 'enable';

const revokeScript = defineScript('revokeSessions', {
  keys: 1,
  parse: (r): SubjectState => {
    const [version, disabled] = reply.array('revokeSessions', r, 2);
    return {
      version: reply.integer('revokeSessions', version),
      disabled: reply.oneOf('revokeSessions', disabled, [0, 1]) === 1,
    };
  },
});

/** True when a token of a subject in `state` with session version `sv` must be refused. */
export function isRevoked(state: SubjectState, sv: number | undefined): boolean {
  return state.disabled || (sv ?? 0) < state.version;
}

/**
 * True when an external issuer's token (no `sv`; issued at `iatS`, seconds) must be
 * refused: its subject is disabled, or the token was issued at or before the last time
 * its sessions were ended. `toleranceMs` widens "before" by the clock difference allowed
 * between the issuer and us, so a token issued just before the revocation by a clock
 * that runs ahead is refused too (logging in again works once that much time has passed).
 */
export function isExternalTokenRevoked(state: SubjectState, iatS: number, toleranceMs: number): boolean {
  const revokedAt = state.revokedAt ?? 0;
  return state.disabled || (revokedAt > 0 && iatS * 1000 <= revokedAt + toleranceMs);
}

export class RevocationList {
  constructor(private readonly redis: Cluster | Redis) {}

  /** The subject's state, read from Redis now. */
  async state(sub: string): Promise<SubjectState> {
    const [v, d, t] = await this.redis.hmget(revocationKeys.subject(sub), 'v', 'd', 't');
    return { version: Number(v ?? 0) || 0, disabled: d === '1', revokedAt: Number(t ?? 0) || 0 };
  }

  /** True when a token of `sub` issued under session version `sv` is revoked. */
  async revoked(sub: string, sv: number | undefined): Promise<boolean> {
    return isRevoked(await this.state(sub), sv);
  }

  /**
   * Applies an admin action to a subject at `nowMs` (the caller's clock: recorded as the
   * revocation time external tokens are judged by); returns its state afterwards.
   */
  apply(sub: string, action: RevocationAction, nowMs: number = Date.now()): Promise<SubjectState> {
    return runScript(
      this.redis,
      revokeScript,
      [revocationKeys.subject(sub)],
      [action, String(Math.floor(nowMs))],
    );
  }
}
