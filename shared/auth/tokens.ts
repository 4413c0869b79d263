import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import { type Clock, systemClock } from '../clock';
import { type Config, loadConfig } from '../config';
import { ensureKeyPair, type KeySourceOptions, loadSigningKey, type SigningKey } from './keys';
import type { OidcConfig } from './oidc/config';
import { claimedIssuer, type ExternalIdentity, OidcVerifier } from './oidc/verifier';
import { loadPublicJwks } from './public-keys';
import { electionIdPattern } from '../ids';
import { isRole, type Role } from './roles';

/**
 * Issuing and verifying the bearer tokens of API.md "Conventions": EdDSA by default,
 * `iss`/`aud`/`iat`/`exp` always present and always checked.
 */

/** Algorithms a token may be signed with. Never `none`, never HMAC (a public key is not a secret). */
export const ALLOWED_ALGORITHMS = ['EdDSA', 'ES256'] as const;

/** Tokens longer than this are refused before any parsing. */
const MAX_TOKEN_CHARS = 8192;

/** Who a token speaks for. */
export interface TokenSubject {
  /** The user id. */
  sub: string;
  role: Role;
  username?: string;
  /**
   * The user's session version when the token was issued (claim `sv`): a token whose
   * `sv` is below the user's current version has been revoked (see revocations.ts).
   * Absent means 0.
   */
  sv?: number;
  /**
   * The one election this token may act in (claim `eid`): set on tokens made from a
   * voting credential (`POST /auth/credential`) or a join code (`POST /join`). Absent
   * means any election, as for an account's token. functions/lib/auth.ts enforces it.
   */
  eid?: string;
}

/** The verified claims of a token, typed: what handlers authorize on. */
export interface AuthClaims extends TokenSubject {
  iss: string;
  aud: string | string[];
  /** Seconds since the epoch. */
  iat: number;
  /** Seconds since the epoch. */
  exp: number;
  jti?: string;
  /**
   * For a token of the external OpenID Connect issuer: that issuer's own subject
   * (`sub` is then the quorumvote id derived from issuer and subject).
   */
  externalSub?: string;
}

/** Why a token was refused; all of them mean HTTP 401. */
export type InvalidTokenReason =
  | 'malformed'
  | 'alg_not_allowed'
  | 'bad_signature'
  | 'unknown_key'
  | 'expired'
  | 'claims'
  | 'issuer'
  | 'role';

/** A token that must not be accepted (→ 401). `message` is safe to show to the client. */
export class InvalidTokenError extends Error {
  constructor(
    readonly reason: InvalidTokenReason,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

/** The keys could not be fetched (remote JWKS down or broken): the token is not at fault (→ 503). */
export class KeySourceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeySourceUnavailableError';
  }
}

/** Issuer, audience and key location: the parts of `Config['jwt']` signing needs. */
export interface SignerSettings extends KeySourceOptions {
  issuer?: string;
  audience?: string;
  clock?: Clock;
  /** Use this key instead of {@link loadSigningKey}'s. */
  key?: SigningKey;
}

export interface IssueOptions extends SignerSettings {
  /** Lifetime in seconds. */
  ttlS: number;
}

function resolveSigner(settings: SignerSettings): {
  issuer: string;
  audience: string;
  clock: Clock;
  key: SigningKey;
} {
  return {
    issuer: settings.issuer ?? loadConfig().jwt.issuer,
    audience: settings.audience ?? loadConfig().jwt.audience,
    clock: settings.clock ?? systemClock,
    key: settings.key ?? loadSigningKey(settings),
  };
}

async function sign(payload: JWTPayload, key: SigningKey): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/**
 * Issues the identity provider's token for a user (the `POST /auth/token` path):
 * `sub`, `role`, optional `username`, `iss`, `aud`, `iat`, `exp` and a random `jti`.
 */
export async function issueToken(subject: TokenSubject, options: IssueOptions): Promise<string> {
  if (!subject.sub) throw new Error('issueToken: sub is required');
  if (!isRole(subject.role)) throw new Error(`issueToken: unknown role "${String(subject.role)}"`);
  if (!Number.isFinite(options.ttlS) || options.ttlS <= 0)
    throw new Error('issueToken: ttlS must be positive');
  const { issuer, audience, clock, key } = resolveSigner(options);
  const iat = Math.floor(clock.now() / 1000);
  return sign(
    {
      sub: subject.sub,
      role: subject.role,
      ...(subject.username === undefined ? {} : { username: subject.username }),
      ...(subject.sv === undefined || subject.sv === 0 ? {} : { sv: subject.sv }),
      ...(subject.eid === undefined ? {} : { eid: subject.eid }),
      iss: issuer,
      aud: audience,
      iat,
      exp: iat + Math.floor(options.ttlS),
      jti: randomUUID(),
    },
    key,
  );
}

/** Claims for {@link mintToken}: anything goes, so tests can mint tokens that must fail. */
export interface MintClaims extends Record<string, unknown> {
  sub: string;
  role: Role | (string & {});
}

export interface MintOptions extends SignerSettings {
  /** Lifetime in seconds from `iat` (default: `JWT_TTL_S`); ignored when `exp` is given. */
  ttlS?: number;
  /** Absolute issued-at, seconds since the epoch. */
  iat?: number;
  /** Absolute expiry, seconds since the epoch (may be in the past). */
  exp?: number;
}

/**
 * Mints a token with the local signing key without a user record: for the load
 * generator (many synthetic voters) and for tests (expired, wrong audience, unknown
 * role...). Processes that share `JWT_KEY_DIR` (or `JWT_PRIVATE_JWK`) with the
 * functions produce tokens the functions accept. Never exposed over HTTP.
 */
export async function mintToken(claims: MintClaims, options: MintOptions = {}): Promise<string> {
  // Tooling, not a function: it may create the local key pair a stack will then use.
  // The configuration is looked up once per token, and only for what the caller left out.
  const jwt =
    options.issuer === undefined || options.audience === undefined || options.ttlS === undefined
      ? loadConfig().jwt
      : undefined;
  const { issuer, audience, clock, key } = resolveSigner({
    ...options,
    issuer: options.issuer ?? jwt!.issuer,
    audience: options.audience ?? jwt!.audience,
    key: options.key ?? ensureKeyPair(options),
  });
  const iat = options.iat ?? Math.floor(clock.now() / 1000);
  const exp = options.exp ?? iat + (options.ttlS ?? jwt!.ttlS);
  return sign({ iss: issuer, aud: audience, jti: randomUUID(), ...claims, iat, exp }, key);
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Verify against this remote JWKS instead of the local signing key. */
  jwksUrl?: string;
  /** Folder of the local signing key (local mode). */
  keyDir?: string;
  clock?: Clock;
  /** Leeway for `exp`/`iat`/`nbf`, in seconds (default 0). */
  clockToleranceS?: number;
  /** Remote JWKS fetch timeout (default 2000 ms) and cache age (default 10 min). */
  remoteTimeoutMs?: number;
  remoteCacheMaxAgeMs?: number;
  /**
   * How long a verified token is remembered (default 60 s; 0 turns the cache off). A
   * voter's session sends the same token several times (elections, ballot, vote, status),
   * and an Ed25519 check costs ~150-300 µs here, more than the rest of a request.
   */
  verifiedCacheMs?: number;
  /** An external OpenID Connect issuer whose tokens are accepted too. */
  oidc?: OidcConfig;
}

/** Most tokens a verifier remembers (oldest forgotten first). */
const VERIFIED_CACHE_MAX = 10_000;

function classify(err: unknown): Error {
  if (err instanceof InvalidTokenError) return err;
  if (err instanceof errors.JWTExpired) return new InvalidTokenError('expired', 'Token has expired');
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new InvalidTokenError('alg_not_allowed', 'Token algorithm is not allowed');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError('bad_signature', 'Token signature is invalid');
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new InvalidTokenError('unknown_key', 'Token was not signed by a known key');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new InvalidTokenError('claims', `Token claim "${err.claim}" is invalid`);
  }
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JWKInvalid
  ) {
    return new InvalidTokenError('malformed', 'Token is malformed');
  }
  // JWKSTimeout, JWKSInvalid, a non-200 JWKS response, fetch's TypeError: the key source failed.
  return new KeySourceUnavailableError(
    `Could not load token keys: ${(err as Error)?.message ?? String(err)}`,
  );
}

/**
 * Verifies bearer tokens: signature (EdDSA or ES256 only), `iss`, `aud`, `exp`, `iat`,
 * `sub` and a known `role`. Local mode checks against the local signing key's public
 * JWK; remote mode (`jwksUrl`) fetches and caches the issuer's JWKS. Create one per
 * process and reuse it: the remote key cache lives in it.
 */
export class TokenVerifier {
  private keys: JWTVerifyGetKey | undefined;
  private readonly clock: Clock;
  /**
   * Tokens verified recently → their claims, until min(exp, verifiedCacheMs from then).
   * Keyed by the whole token, signature included, so only the very same bytes hit.
   */
  private readonly verified = new Map<string, { claims: AuthClaims; until: number }>();
  private readonly external: OidcVerifier | undefined;

  constructor(private readonly options: TokenVerifierOptions) {
    this.clock = options.clock ?? systemClock;
    this.external = options.oidc ? new OidcVerifier(options.oidc) : undefined;
  }

  /**
   * A verifier configured from `loadConfig().jwt`. In local mode the public keys are
   * loaded at once, so a function whose key file is missing fails at start with a clear
   * error instead of answering its first request with a 500.
   */
  static fromConfig(config: Config = loadConfig(), clock?: Clock): TokenVerifier {
    const verifier = new TokenVerifier({
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      keyDir: config.jwt.keyDir,
      ...(config.jwt.jwksUrl ? { jwksUrl: config.jwt.jwksUrl } : {}),
      ...(config.jwt.oidc ? { oidc: config.jwt.oidc } : {}),
      ...(clock ? { clock } : {}),
    });
    if (!verifier.remote) verifier.getKeys();
    return verifier;
  }

  /** True when tokens are checked against a remote JWKS. */
  get remote(): boolean {
    return this.options.jwksUrl !== undefined;
  }

  private getKeys(): JWTVerifyGetKey {
    if (!this.keys) {
      const { jwksUrl, keyDir } = this.options;
      this.keys = jwksUrl
        ? createRemoteJWKSet(new URL(jwksUrl), {
            timeoutDuration: this.options.remoteTimeoutMs ?? 2000,
            cacheMaxAge: this.options.remoteCacheMaxAgeMs ?? 10 * 60 * 1000,
            cooldownDuration: 30_000,
          })
        : // The public JWKS only: a verifier never reads the private signing key.
          createLocalJWKSet(loadPublicJwks(keyDir === undefined ? {} : { keyDir }));
    }
    return this.keys;
  }

  /**
   * Returns the token's claims, or throws {@link InvalidTokenError} (→ 401) or
   * {@link KeySourceUnavailableError} (→ 503).
   */
  async verify(token: string): Promise<AuthClaims> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) {
      throw new InvalidTokenError('malformed', 'Token is malformed');
    }
    const now = this.clock.now();
    const hit = this.verified.get(token);
    if (hit) {
      if (now < hit.until) return hit.claims;
      this.verified.delete(token);
    }
    if (this.external) {
      // The claimed issuer only picks the verifier; that verifier checks it (and the signature).
      const iss = claimedIssuer(token);
      if (iss === this.external.config.issuer) return this.verifyExternal(this.external, token, now);
      if (iss !== undefined && iss !== this.options.issuer) {
        throw new InvalidTokenError('issuer', 'Token issuer is not trusted');
      }
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKeys(), {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'iat', 'exp'],
        currentDate: new Date(this.clock.now()),
        clockTolerance: this.options.clockToleranceS ?? 0,
      }));
    } catch (err) {
      throw classify(err);
    }
    const claims = toClaims(payload);
    this.remember(token, claims, now);
    return claims;
  }

  private async verifyExternal(external: OidcVerifier, token: string, now: number): Promise<AuthClaims> {
    let identity: ExternalIdentity;
    try {
      identity = await external.verify(token, now);
    } catch (err) {
      throw classify(err);
    }
    const claims = externalClaims(identity, external.config);
    // Remembered no longer than keys are: a key the issuer withdrew stops working within jwksCacheMs.
    this.remember(token, claims, now, external.config.jwksCacheMs);
    return claims;
  }

  private remember(token: string, claims: AuthClaims, now: number, maxKeepMs = Infinity): void {
    const keepMs = Math.min(this.options.verifiedCacheMs ?? 60_000, maxKeepMs);
    if (keepMs <= 0) return;
    const toleranceS =
      claims.externalSub === undefined ? this.options.clockToleranceS : this.options.oidc?.clockToleranceS;
    const tolerance = (toleranceS ?? 0) * 1000;
    const until = Math.min(claims.exp * 1000 + tolerance, now + keepMs);
    if (this.verified.size >= VERIFIED_CACHE_MAX) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, { claims, until });
  }
}

/** The claims of a verified external token, or a 401 when it grants no role. */
function externalClaims(identity: ExternalIdentity, config: OidcConfig): AuthClaims {
  if (identity.role === undefined) {
    throw new InvalidTokenError(
      'role',
      `Token grants no quorumvote role: claim "${config.roleClaim}" holds none of the values of OIDC_ROLE_MAP`,
    );
  }
  const { payload } = identity;
  return {
    sub: identity.userId,
    role: identity.role,
    ...(identity.username === undefined ? {} : { username: identity.username }),
    iss: payload.iss as string,
    aud: payload.aud as string | string[],
    iat: payload.iat as number,
    exp: payload.exp as number,
    ...(typeof payload.jti === 'string' ? { jti: payload.jti } : {}),
    externalSub: identity.externalSub,
  };
}

function toClaims(payload: JWTPayload): AuthClaims {
  const { sub, role, username, iss, aud, iat, exp, jti, sv, eid } = payload as JWTPayload &
    Record<string, unknown>;
  if (typeof sub !== 'string' || sub === '')
    throw new InvalidTokenError('claims', 'Token claim "sub" is invalid');
  if (!isRole(role)) throw new InvalidTokenError('role', 'Token claim "role" is not a known role');
  if (typeof iat !== 'number' || typeof exp !== 'number') {
    throw new InvalidTokenError('claims', 'Token must carry "iat" and "exp"');
  }
  if (sv !== undefined && !(typeof sv === 'number' && Number.isSafeInteger(sv) && sv >= 0)) {
    throw new InvalidTokenError('claims', 'Token claim "sv" is invalid');
  }
  // A malformed binding must never read as "no binding" (which would mean every election).
  if (eid !== undefined && !(typeof eid === 'string' && electionIdPattern.test(eid))) {
    throw new InvalidTokenError('claims', 'Token claim "eid" is invalid');
  }
  return {
    sub,
    role,
    ...(typeof username === 'string' ? { username } : {}),
    iss: iss as string,
    aud: aud as string | string[],
    iat,
    exp,
    ...(typeof jti === 'string' ? { jti } : {}),
    ...(typeof sv === 'number' && sv > 0 ? { sv } : {}),
    ...(typeof eid === 'string' ? { eid } : {}),
  };
}
