import { loadSettings } from '../settings/load';

/**
 * Settings of the real-time layer, from the validated settings (shared/settings/).
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

export function loadRealtimeConfig(env: NodeJS.ProcessEnv = process.env): RealtimeConfig {
  const s = loadSettings(env);
  return {
    connectionTtlMs: s.WS_CONNECTION_TTL_S * 1000,
    wsEndpoint: s.WS_ENDPOINT,
    region: s.AWS_REGION,
    postConcurrency: s.WS_POST_CONCURRENCY,
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
