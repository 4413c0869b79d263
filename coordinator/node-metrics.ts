import { Metrics } from './metrics';

/**
 * The coordinator's Prometheus metrics (`GET /metrics`): election, clock and membership
 * gauges the driver updates as the state machine and the clock discipline report.
 */
export function coordinatorMetrics(metrics: Metrics = new Metrics()) {
  return {
    registry: metrics,
    term: metrics.gauge('quorumvote_term', 'Current election term seen by this coordinator'),
    isLeader: metrics.gauge('quorumvote_is_leader', '1 when this coordinator is the leader'),
    electionsStarted: metrics.gauge('quorumvote_elections_started_total', 'Elections this node started'),
    leaderChanges: metrics.counter('quorumvote_leader_changes_total', 'Leader changes observed'),
    clockOffset: metrics.histogram(
      'quorumvote_clock_offset_ms',
      'Absolute measured clock offset to the leader (ms)',
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
    ),
    clockOffsetNow: metrics.gauge('quorumvote_clock_offset_estimate_ms', 'Current offset estimate (ms)'),
    clockRtt: metrics.gauge('quorumvote_clock_rtt_ms', 'RTT of the last clock sample (ms)'),
    inSync: metrics.gauge('quorumvote_clock_in_sync', '1 when the clock is within bounds'),
    heartbeatLag: metrics.gauge('quorumvote_member_heartbeat_age_ms', 'Age of each member heartbeat (ms)'),
    storeHealthy: metrics.gauge('quorumvote_redis_reachable', '1 when Redis answers heartbeats'),
  };
}

export type CoordinatorMetrics = ReturnType<typeof coordinatorMetrics>;
