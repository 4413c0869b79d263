import { loadSettings } from '../../shared/settings/load';

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
  /**
   * Most subscribers one broadcast invocation delivers a tally to: a bigger fan-out is
   * split into concurrent invocations (shards), as Lambda scales them.
   */
  shardSize: number;
}

export function loadFanoutConfig(env: NodeJS.ProcessEnv = process.env): FanoutConfig {
  const s = loadSettings(env);
  const endpoint = s.LAMBDA_ENDPOINT;
  return {
    enabled: endpoint !== 'off' && s.FANOUT !== 'off',
    lambdaEndpoint: endpoint === '' || endpoint === 'off' ? undefined : endpoint,
    functionName: s.BROADCAST_FUNCTION ?? `quorumvote-${s.STAGE}-broadcast`,
    region: s.AWS_REGION,
    tallyIntervalMs: s.TALLY_INTERVAL_MS,
    tallyAckTimeoutMs: s.TALLY_ACK_TIMEOUT_MS,
    refreshMs: s.FANOUT_REFRESH_MS,
    replayWindowMs: s.FANOUT_REPLAY_MS,
    lifecycleGraceMs: s.FANOUT_LIFECYCLE_GRACE_MS,
    batchMs: s.FANOUT_BATCH_MS,
    shardSize: s.FANOUT_SHARD_SIZE,
  };
}
