import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FanoutStatus, PipelineStatus } from '../shared/membership/coordinator-status';
import type { PipelineObserver } from './pipeline/observer';

/**
 * The coordinator's Prometheus metrics (`GET /metrics`), with prom-client: the process
 * and Node.js runtime metrics (CPU, memory, event-loop lag, GC) come for free, label
 * values are escaped correctly, times are in seconds and counters end in `_total`
 * (Prometheus naming conventions). Election and clock metrics are set by the driver as
 * the state machine and the clock discipline report; the vote pipeline's and the
 * fan-out's counters are read from their status when scraped (one source of truth
 * with `/status`); the pipeline's latencies are observed as batches are finalized.
 *
 * Each node has its own registry (never prom-client's global one), so two nodes in one
 * process (tests) do not mix their numbers.
 */
export function coordinatorMetrics(sources: {
  pipeline: () => PipelineStatus | undefined;
  fanout: () => FanoutStatus | undefined;
}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  /** A counter whose value is read from a subsystem's own count at scrape time. */
  const countFrom = (name: string, help: string, read: () => number | undefined): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        const v = read();
        if (v === undefined) return;
        this.reset();
        this.inc(v);
      },
    });
  };
  countFrom(
    'quorumvote_votes_judged_total',
    'Votes this node judged as a validator',
    () => sources.pipeline()?.judged,
  );
  countFrom(
    'quorumvote_votes_objected_total',
    'Votes this node objected to as a validator',
    () => sources.pipeline()?.objected,
  );
  countFrom(
    'quorumvote_votes_counted_total',
    'Votes this node finalized as counted (as partition owner)',
    () => sources.pipeline()?.finalized,
  );
  countFrom(
    'quorumvote_votes_rejected_total',
    'Votes this node finalized as rejected (as partition owner)',
    () => sources.pipeline()?.rejected,
  );
  countFrom(
    'quorumvote_fanout_events_total',
    'WebSocket events handed to the broadcast function',
    () => sources.fanout()?.events,
  );
  countFrom(
    'quorumvote_fanout_invocations_total',
    'Invocations of the broadcast function',
    () => sources.fanout()?.invocations,
  );
  countFrom(
    'quorumvote_fanout_invoke_failures_total',
    'Failed invocations of the broadcast function',
    () => sources.fanout()?.invokeFailures,
  );
  new Gauge({
    name: 'quorumvote_partitions_owned',
    help: 'Vote-log partitions this node finalizes (as owner), summed over active elections',
    registers,
    collect() {
      this.set(sources.pipeline()?.partitionsOwned.length ?? 0);
    },
  });
  const voteLatency = new Histogram({
    name: 'quorumvote_vote_finalize_latency_seconds',
    help: 'From a vote accepted (function clock) to its batch finalized (this node, synchronized clock)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const finalizeWrite = new Histogram({
    name: 'quorumvote_finalize_write_seconds',
    help: 'Duration of one fenced finalize write (a batch of votes)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const pipeline: PipelineObserver = {
    batchFinalized(acceptedAtMs, finalizedAtMs, writeMs) {
      for (const a of acceptedAtMs) voteLatency.observe(Math.max(0, finalizedAtMs - a) / 1000);
      finalizeWrite.observe(writeMs / 1000);
    },
  };
  return {
    registry,
    /** Hand to the vote pipeline: it reports finalized batches here. */
    pipeline,
    term: new Gauge({
      name: 'quorumvote_term',
      help: 'Current election term seen by this coordinator',
      registers,
    }),
    isLeader: new Gauge({
      name: 'quorumvote_is_leader',
      help: '1 when this coordinator is the leader',
      registers,
    }),
    electionsStarted: new Counter({
      name: 'quorumvote_elections_started_total',
      help: 'Elections (campaigns) this node started',
      registers,
    }),
    leaderChanges: new Counter({
      name: 'quorumvote_leader_changes_total',
      help: 'Leader changes observed',
      registers,
    }),
    clockOffset: new Histogram({
      name: 'quorumvote_clock_offset_seconds',
      help: 'Absolute measured clock offset to the leader, per accepted sample',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
    clockOffsetNow: new Gauge({
      name: 'quorumvote_clock_offset_estimate_seconds',
      help: 'Current offset estimate (leader minus this node)',
      registers,
    }),
    clockRtt: new Gauge({
      name: 'quorumvote_clock_rtt_seconds',
      help: 'RTT of the last clock sample',
      registers,
    }),
    inSync: new Gauge({
      name: 'quorumvote_clock_in_sync',
      help: '1 when the clock is within bounds',
      registers,
    }),
    heartbeatAge: new Gauge({
      name: 'quorumvote_member_heartbeat_age_seconds',
      help: 'Age of each member heartbeat, as this node sees it',
      labelNames: ['member'] as const,
      registers,
    }),
    storeHealthy: new Gauge({
      name: 'quorumvote_redis_reachable',
      help: '1 when Redis answers heartbeats',
      registers,
    }),
  };
}

export type CoordinatorMetrics = ReturnType<typeof coordinatorMetrics>;
