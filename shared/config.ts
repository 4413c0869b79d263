import { loadOidcConfig, type OidcConfig } from './auth/oidc/config';
import { loadSettings } from './settings/load';
import { redisSeedsText } from './settings/schema';

/**
 * The settings every process shares (Redis, partitions, tokens, membership), derived
 * from the validated settings (shared/settings/). Functions and coordinators call
 * `loadConfig()` once at module level.
 */
export interface RedisSeed {
  host: string;
  port: number;
}

export interface Config {
  env: string;
  /**
   * Production behaviour unless NODE_ENV says `development` or `test`: an unset
   * NODE_ENV must never switch on development conveniences.
   */
  production: boolean;
  /**
   * QV_TEST_MODE=1: operator-only routes for tests (clock skew injection, resetting a
   * closed election). Never set it on a real deployment; it is off unless asked for.
   */
  testMode: boolean;
  redisSeeds: RedisSeed[];
  /** Partitions per election (ARCHITECTURE "Data layout"). */
  partitions: number;
  jwt: {
    issuer: string;
    audience: string;
    /** Token lifetime in seconds. */
    ttlS: number;
    /** Where the local identity provider keeps its signing key. */
    keyDir: string;
    /** Remote JWKS URL; when unset, the local identity provider's key verifies tokens. */
    jwksUrl?: string;
    /** An external OpenID Connect issuer whose tokens are accepted too (OIDC_*). */
    oidc?: OidcConfig;
  };
  /** Explicit voting membership of the coordinator cluster. */
  coordinators: string[];
}

/** Parses `host:port,host:port` into seeds. */
export function parseSeeds(text: string): RedisSeed[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.lastIndexOf(':');
      const host = i > 0 ? s.slice(0, i) : '127.0.0.1';
      const port = Number(i >= 0 ? s.slice(i + 1) : s);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`Bad Redis seed "${s}"`);
      return { host, port };
    });
}

/** The shared configuration; throws a `SettingsError` naming any bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const s = loadSettings(env);
  const nodeEnv = s.NODE_ENV;
  const oidc = loadOidcConfig(s);
  return {
    env: nodeEnv,
    production: nodeEnv !== 'development' && nodeEnv !== 'test',
    testMode: s.QV_TEST_MODE,
    redisSeeds: parseSeeds(redisSeedsText(s)),
    partitions: s.PARTITIONS,
    jwt: {
      issuer: s.JWT_ISSUER,
      audience: s.JWT_AUDIENCE,
      ttlS: s.JWT_TTL_S,
      keyDir: s.JWT_KEY_DIR,
      ...(s.JWKS_URL ? { jwksUrl: s.JWKS_URL } : {}),
      ...(oidc ? { oidc } : {}),
    },
    coordinators: s.COORDINATORS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}
