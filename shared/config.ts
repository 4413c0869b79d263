/**
 * Configuration read from the environment in one place, with the local defaults of
 * API.md. Functions and coordinators call `loadConfig()` once at module level.
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

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${v}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env['NODE_ENV'] || 'production';
  return {
    env: nodeEnv,
    production: nodeEnv !== 'development' && nodeEnv !== 'test',
    testMode: env['QV_TEST_MODE'] === '1',
    redisSeeds: parseSeeds(env['REDIS_SEEDS'] ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002'),
    partitions: intEnv(env, 'PARTITIONS', 16),
    jwt: {
      issuer: env['JWT_ISSUER'] ?? 'quorumvote-local',
      audience: env['JWT_AUDIENCE'] ?? 'quorumvote',
      ttlS: intEnv(env, 'JWT_TTL_S', 3600),
      keyDir: env['JWT_KEY_DIR'] ?? '.local/keys',
      ...(env['JWKS_URL'] ? { jwksUrl: env['JWKS_URL'] } : {}),
    },
    coordinators: (env['COORDINATORS'] ?? 'c1,c2,c3')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}
