/**
 * Fan-out settings, from the environment. `LAMBDA_ENDPOINT=off` turns the fan-out off
 * (tests that do not run serverless-offline); an empty value means AWS's own endpoint.
 */
export interface FanoutConfig {
  enabled: boolean;
  /** Lambda invoke API; undefined = the SDK's default (AWS). */
  lambdaEndpoint: string | undefined;
  functionName: string;
  region: string;
  /** Minimum gap between two tally updates of one election (250 ms → at most 4 per second). */
  tallyIntervalMs: number;
  /**
   * How long a tally delivery may stay unacknowledged before the next one goes anyway:
   * the broadcast function's timeout, so only a lost invocation ever hits it.
   */
  tallyAckTimeoutMs: number;
  /** How often the active elections are re-read (subscriptions, missed lifecycle events). */
  refreshMs: number;
  /** Events a new leader re-sends from before it took over (covers the handover gap). */
  replayWindowMs: number;
  /** A lifecycle change found by polling is announced only if it is at most this old. */
  lifecycleGraceMs: number;
  /** How long events wait to share one invocation. */
  batchMs: number;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

export function loadFanoutConfig(env: NodeJS.ProcessEnv = process.env): FanoutConfig {
  const endpoint = env['LAMBDA_ENDPOINT'] ?? 'http://127.0.0.1:3002';
  const stage = env['STAGE'] || 'local';
  return {
    enabled: endpoint !== 'off' && env['FANOUT'] !== 'off',
    lambdaEndpoint: endpoint === '' || endpoint === 'off' ? undefined : endpoint,
    functionName: env['BROADCAST_FUNCTION'] || `quorumvote-${stage}-broadcast`,
    region: env['AWS_REGION'] || 'eu-west-1',
    tallyIntervalMs: num(env, 'TALLY_INTERVAL_MS', 250),
    tallyAckTimeoutMs: num(env, 'TALLY_ACK_TIMEOUT_MS', 30000),
    refreshMs: num(env, 'FANOUT_REFRESH_MS', 250),
    replayWindowMs: num(env, 'FANOUT_REPLAY_MS', 5000),
    lifecycleGraceMs: num(env, 'FANOUT_LIFECYCLE_GRACE_MS', 15000),
    batchMs: num(env, 'FANOUT_BATCH_MS', 5),
  };
}
