/**
 * Settings of the real-time layer, read from the environment once per process.
 */
export interface RealtimeConfig {
  /** Longest life of a WebSocket connection; the registry forgets it after that. */
  connectionTtlMs: number;
  /** API Gateway Management API endpoint (locally serverless-offline's WebSocket port). */
  wsEndpoint: string;
  region: string;
  /** Connections the broadcast function posts to at once. */
  postConcurrency: number;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
}

export function loadRealtimeConfig(env: NodeJS.ProcessEnv = process.env): RealtimeConfig {
  return {
    connectionTtlMs: num(env, 'WS_CONNECTION_TTL_S', 7200) * 1000,
    wsEndpoint: env['WS_ENDPOINT'] || 'http://127.0.0.1:3001',
    region: env['AWS_REGION'] || 'eu-west-1',
    postConcurrency: num(env, 'WS_POST_CONCURRENCY', 48),
  };
}

/** True for endpoints on this machine (serverless-offline): dummy credentials are fine there. */
export function isLocalEndpoint(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
  } catch {
    return false;
  }
}
