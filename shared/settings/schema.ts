import { z } from 'zod';
import { flag, matching, num, optionalNum, optionalOneOf, optionalText, port, text } from './env-values';
import { algorithmList, issuerUrl, OIDC_ALGORITHMS, roleMap, SETTING_ROLES } from './oidc-values';

/**
 * Every setting quorumvote reads from the environment, with its default and the values
 * it accepts: the one place a setting's rule lives (docs/operations.md, "Settings",
 * explains each one; a unit test keeps the two in step). Names and defaults are part of
 * the operator's contract: never rename one without keeping the old name working.
 */
export const settingsSchema = z.object({
  // Every process
  NODE_ENV: text('production'),
  QV_TEST_MODE: flag(),
  CLUSTER_NAME: matching('qv', /^[A-Za-z0-9_-]{1,64}$/, '1-64 characters of A-Z a-z 0-9 _ -'),
  // Unset: the first nodes of the local cluster (REDIS_BASE_PORT), see redisSeedsText.
  REDIS_SEEDS: optionalText(),
  // Redis in-transit encryption and AUTH/ACL (ElastiCache requires both): shared/redis/access.ts
  REDIS_TLS: flag(),
  REDIS_TLS_CA_FILE: optionalText(),
  REDIS_TLS_CERT_FILE: optionalText(),
  REDIS_TLS_KEY_FILE: optionalText(),
  REDIS_TLS_SERVERNAME: optionalText(),
  REDIS_USERNAME: optionalText(),
  REDIS_PASSWORD: optionalText(),
  PARTITIONS: num(16, { int: true, min: 1 }),
  COORDINATORS: text('c1,c2,c3'),
  JWT_ISSUER: text('quorumvote-local'),
  JWT_AUDIENCE: text('quorumvote'),
  JWT_TTL_S: num(3600, { above: 0 }),
  JWT_KEY_DIR: text('.local/keys'),
  JWKS_URL: optionalText(),
  // An external OpenID Connect issuer whose tokens are accepted besides ours
  // (docs/deploy.md "External identity providers"); unset OIDC_ISSUER = none.
  OIDC_ISSUER: issuerUrl(),
  OIDC_AUDIENCE: optionalText(),
  OIDC_ALGORITHMS: algorithmList(OIDC_ALGORITHMS),
  OIDC_ROLE_CLAIM: optionalText(),
  OIDC_ROLE_MAP: roleMap(),
  OIDC_DEFAULT_ROLE: optionalOneOf(SETTING_ROLES),
  OIDC_USERNAME_CLAIM: text('preferred_username'),
  OIDC_CLOCK_TOLERANCE_S: num(30, { min: 0, max: 300 }),
  OIDC_JWKS_CACHE_MS: num(10 * 60 * 1000, { above: 0 }),
  OIDC_JWKS_COOLDOWN_MS: num(5000, { min: 0 }),
  OIDC_HTTP_TIMEOUT_MS: num(2000, { int: true, above: 0 }),
  AWS_REGION: text('eu-west-1'),

  // Functions
  REQUEST_DEADLINE_MS: num(5000, { above: 0 }),
  TRUSTED_PROXIES: optionalText(),
  RESULTS_CACHE_MS: num(1000, { min: 0 }),
  SUBMIT_WAIT_REPLICAS: num(1, { int: true, min: 0 }),
  SUBMIT_WAIT_MS: num(250, { min: 0 }),
  RATE_LIMIT_VOTER: num(30, { min: 0 }),
  RATE_LIMIT_IP: num(100000, { min: 0 }),
  RATE_LIMIT_WINDOW_MS: num(10000, { min: 0 }),
  RATE_LIMIT_READ: num(200, { min: 0 }),
  RATE_LIMIT_AUDIT: num(100, { min: 0 }),
  RATE_LIMIT_READ_IP: num(1000, { min: 0 }),
  RATE_LIMIT_READ_WINDOW_MS: num(10000, { min: 0 }),
  // Joining code-access elections (POST /join), per client address and per election
  // (docs/operations.md "Limits": sized for a lecture hall behind one NAT address).
  RATE_LIMIT_JOIN_IP: num(500, { min: 0 }),
  RATE_LIMIT_JOIN_ELECTION: num(2000, { min: 0 }),
  RATE_LIMIT_JOIN_WINDOW_MS: num(300000, { min: 0 }),
  JOIN_MAX_PER_ELECTION: num(10000, { int: true, min: 0 }),
  RATE_LIMIT_WS_CONNECT: num(60, { min: 0 }),
  RATE_LIMIT_WS_WINDOW_MS: num(60000, { min: 0 }),
  RATE_LIMIT_WS_MESSAGES: num(60, { min: 0 }),
  RATE_LIMIT_WS_MESSAGES_WINDOW_MS: num(10000, { min: 0 }),
  LOGIN_USER_FREE: num(5, { above: 0 }),
  LOGIN_USER_BACKOFF_MS: num(1000, { above: 0 }),
  LOGIN_USER_MAX_BACKOFF_MS: num(15 * 60 * 1000, { above: 0 }),
  LOGIN_USER_FORGET_MS: num(15 * 60 * 1000, { above: 0 }),
  LOGIN_ADDRESS_FREE: num(20, { above: 0 }),
  LOGIN_ADDRESS_BACKOFF_MS: num(1000, { above: 0 }),
  LOGIN_ADDRESS_MAX_BACKOFF_MS: num(15 * 60 * 1000, { above: 0 }),
  LOGIN_ADDRESS_FORGET_MS: num(15 * 60 * 1000, { above: 0 }),
  LOGIN_HASH_CONCURRENCY: num(1, { int: true, min: 1 }),
  LOGIN_HASH_QUEUE: num(4, { int: true, min: 0 }),
  LOGIN_HASH_WAIT_MS: num(2000, { int: true, min: 0 }),
  WS_MAX_CONNECTIONS_PER_USER: num(20, { min: 0 }),
  WS_CONNECTION_TTL_S: num(7200, { above: 0 }),
  WS_ENDPOINT: text('http://127.0.0.1:3001'),
  // Origin of the web app in voting links (`<WEB_ORIGIN>/#/c/<credential>`); unset: the admin request's Origin, else http://127.0.0.1:<WEB_PORT>.
  WEB_ORIGIN: optionalText(),
  WS_POST_CONCURRENCY: num(48, { above: 0 }),

  // Coordinators
  NODE_ID: optionalText(),
  ADMIN_PORT: optionalNum({ int: true, min: 1, max: 65535 }),
  // The address the admin/peer server binds; 0.0.0.0 in a container.
  ADMIN_HOST: text('127.0.0.1'),
  // The URL peers and `npm run status` use to reach this coordinator (unset: from ADMIN_HOST).
  ADVERTISE_URL: optionalText(),
  // `c1=http://10.0.0.1:4001,...`: fixed peer addresses that win over registered ones.
  PEER_URLS: optionalText(),
  REDIS_NAT_MAP: optionalText(),
  PEER_AUTH_WINDOW_MS: num(30000, { above: 0 }),
  MAX_TERM_JUMP: num(1, { int: true, min: 1 }),
  ELECTION_TIMEOUT_MIN_MS: num(500, { above: 0 }),
  ELECTION_TIMEOUT_MAX_MS: num(1000, { above: 0 }),
  HEARTBEAT_INTERVAL_MS: num(100, { above: 0 }),
  LEADER_LEASE_MS: num(500, { above: 0 }),
  TICK_MS: num(20, { above: 0 }),
  STORE_TIMEOUT_MS: num(250, { above: 0 }),
  CLOCK_SYNC_MS: num(200, { above: 0 }),
  CLOCK_MAX_OFFSET_MS: num(500, { above: 0 }),
  CLOCK_SKEW_MS: num(0),
  CLOCK_DRIFT_PPM: num(0),
  TEST_FINALIZE_WRITE_DELAY_MS: num(0, { min: 0 }),
  PIPELINE_ACTIVE_VALIDATORS: num(3, { int: true, min: 1 }),
  PIPELINE_IDLE_POLL_MS: num(40, { above: 0 }),
  // Push, not poll (coordinator/pipeline/wake-ups.ts): `off` polls as before; the
  // safety-net poll of a partition whose waiters wait for a notice.
  PIPELINE_PUSH: optionalOneOf(['on', 'off']),
  PIPELINE_SAFETY_POLL_MS: num(1000, { above: 0 }),
  // Secret ballots: verification worker threads (0 = one per core), ballots per batch.
  VERIFY_WORKERS: num(0, { int: true, min: 0 }),
  VERIFY_BATCH: num(50, { int: true, min: 1 }),
  VERIFY_BACKEND: optionalOneOf(['libsodium', 'noble']),
  VERIFY_NICE: num(10, { int: true, min: 0, max: 19 }),
  // An empty LAMBDA_ENDPOINT means AWS's own endpoint, so it is kept as given.
  LAMBDA_ENDPOINT: z.string().default('http://127.0.0.1:3002'),
  FANOUT: optionalText(),
  STAGE: text('local'),
  BROADCAST_FUNCTION: optionalText(),
  TALLY_INTERVAL_MS: num(250, { min: 0 }),
  TALLY_ACK_TIMEOUT_MS: num(30000, { min: 0 }),
  FANOUT_REFRESH_MS: num(250, { min: 0 }),
  FANOUT_REPLAY_MS: num(5000, { min: 0 }),
  FANOUT_LIFECYCLE_GRACE_MS: num(15000, { min: 0 }),
  FANOUT_BATCH_MS: num(5, { min: 0 }),
  FANOUT_SHARD_SIZE: num(500, { int: true, min: 1 }),

  // npm start and the CLIs (a CLI reads the same ports the stack listens on)
  HTTP_PORT: port(3000),
  WS_PORT: port(3001),
  LAMBDA_PORT: port(3002),
  WEB_PORT: port(5173),
  REDIS_BASE_PORT: port(7000),
  COORDINATOR_BASE_PORT: port(4001),
  REDIS_DATA_DIR: text('.local/redis'),
  REDIS_RELAUNCH_DELAY_MS: num(300, { min: 0 }),
  COORDINATOR_RELAUNCH_DELAY_MS: num(1000, { min: 0 }),
  /** `npm start`: invoke every function once before "ready" (on by default; `off` skips it). */
  WARM_FUNCTIONS: optionalOneOf(['on', 'off']),
  WEB_PROXY_ADDRESS: text('127.0.0.2'),
  // The web container (Dockerfile target web): the address it binds, and the host of the APIs it proxies.
  WEB_HOST: text('127.0.0.1'),
  WEB_API_HOST: text('127.0.0.1'),
  QV_URL: optionalText(),
  QV_TOKEN: optionalText(),
  QV_USERNAME: optionalText(),
  QV_PASSWORD: optionalText(),
  DEMO_PASSWORD: optionalText(),

  // Secrets and keys: checked where they are used (their rules need files or crypto)
  JWT_PRIVATE_JWK: optionalText(),
  JWT_PUBLIC_JWKS: optionalText(),
  CLUSTER_SECRET: optionalText(),
  CLUSTER_SECRET_FILE: optionalText(),
  INVOKE_SECRET: optionalText(),

  // Diagnostics
  LOG_LEVEL: optionalOneOf(['debug', 'info', 'warn', 'error', 'silent']),
  LOG_FORMAT: optionalOneOf(['json', 'pretty']),
  CPU_PROFILE: optionalText(),
  BENCH_VERBOSE: optionalText(),
  BENCH_TIMELINE: optionalText(),
  PROFILE_DIR: optionalText(),
  COORDINATOR_NODE_ARGS: optionalText(),
  OFFLINE_NODE_OPTIONS: optionalText(),
  CHROMIUM_PATH: text('/usr/bin/chromium'),
});

/** The parsed settings: every field has its final type and default. */
export type Settings = z.output<typeof settingsSchema>;

/** Names of every setting of the schema. */
export const settingNames = Object.keys(settingsSchema.shape) as (keyof Settings)[];

/**
 * Where to reach Redis: `REDIS_SEEDS`, else the first `count` nodes of the local
 * cluster from `REDIS_BASE_PORT` (7000), so moving the local cluster moves every
 * process and tool that talks to it.
 */
export function redisSeedsText(s: Settings, count = 3): string {
  return (
    s.REDIS_SEEDS ?? Array.from({ length: count }, (_, i) => `127.0.0.1:${s.REDIS_BASE_PORT + i}`).join(',')
  );
}

/** The local HTTP API (`QV_URL`, else serverless-offline on `HTTP_PORT`), for the CLIs. */
export function apiUrl(s: Settings): string {
  return s.QV_URL ?? `http://127.0.0.1:${s.HTTP_PORT}`;
}

/** serverless-offline's Lambda invoke endpoint (`LAMBDA_PORT`), for the CLIs. */
export function lambdaUrl(s: Settings): string {
  return `http://127.0.0.1:${s.LAMBDA_PORT}`;
}
