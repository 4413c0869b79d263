import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { OidcConfig } from './config';

/**
 * The signing keys of an external issuer, found the way OpenID Connect Discovery says:
 * `<issuer>/.well-known/openid-configuration` names the `jwks_uri`, whose keys are
 * cached (`jwksCacheMs`). Rotation: a token with a `kid` not in the cache makes jose
 * fetch the set again, at most once per `jwksCooldownMs`, so a new key is accepted as
 * soon as the issuer publishes it, an old one as long as the issuer still lists it,
 * and a flood of tokens with made-up kids costs the issuer one request per cooldown.
 * A failed discovery is retried no sooner than the cooldown either; until then requests
 * fail fast with the same error (→ 503, the token is not at fault).
 */
export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
}

interface Discovered {
  jwksUri: URL;
}

/** True for URLs a key set may be fetched from: https, or http on a loopback host. */
function acceptableUrl(url: URL): boolean {
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
}

/** The discovery document's URL (a trailing slash of the issuer is not doubled). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

async function discover(config: OidcConfig): Promise<Discovered> {
  const where = discoveryUrl(config.issuer);
  let res: Response;
  try {
    res = await fetch(where, {
      redirect: 'error',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(config.httpTimeoutMs),
    });
  } catch (err) {
    throw new DiscoveryError(`OpenID discovery at ${where} failed: ${(err as Error).message}`);
  }
  if (res.status !== 200) throw new DiscoveryError(`OpenID discovery at ${where} answered ${res.status}`);
  let doc: { issuer?: unknown; jwks_uri?: unknown };
  try {
    doc = (await res.json()) as typeof doc;
  } catch {
    throw new DiscoveryError(`OpenID discovery at ${where} is not JSON`);
  }
  // Discovery §4.3: the document must name exactly the issuer it was fetched for, or
  // one issuer could make us trust another's keys.
  if (doc?.issuer !== config.issuer) {
    throw new DiscoveryError(`OpenID discovery at ${where} names another issuer (${String(doc?.issuer)})`);
  }
  let jwksUri: URL;
  try {
    jwksUri = new URL(String(doc.jwks_uri));
  } catch {
    throw new DiscoveryError(`OpenID discovery at ${where} has no usable jwks_uri`);
  }
  if (!acceptableUrl(jwksUri))
    throw new DiscoveryError(`OpenID discovery at ${where}: jwks_uri must be https`);
  return { jwksUri };
}

/** One per process and issuer: it holds the discovery result and the key cache. */
export class OidcKeySource {
  private keys: JWTVerifyGetKey | undefined;
  private pending: Promise<JWTVerifyGetKey> | undefined;
  private failed: { at: number; error: DiscoveryError } | undefined;

  constructor(private readonly config: OidcConfig) {}

  /** The key lookup jose's `jwtVerify` takes: discovers on first use, then jose's remote set. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const keys = this.keys ?? (await this.discovered());
    return keys(header, token);
  };

  private discovered(): Promise<JWTVerifyGetKey> {
    if (this.failed && Date.now() - this.failed.at < this.config.jwksCooldownMs) {
      return Promise.reject(this.failed.error);
    }
    this.pending ??= discover(this.config)
      .then(({ jwksUri }) => {
        this.keys = createRemoteJWKSet(jwksUri, {
          timeoutDuration: this.config.httpTimeoutMs,
          cacheMaxAge: this.config.jwksCacheMs,
          cooldownDuration: this.config.jwksCooldownMs,
        });
        this.failed = undefined;
        return this.keys;
      })
      .catch((err: unknown) => {
        const error = err instanceof DiscoveryError ? err : new DiscoveryError(String(err));
        this.failed = { at: Date.now(), error };
        throw error;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
