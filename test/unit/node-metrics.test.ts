import { coordinatorMetrics } from '../../coordinator/node-metrics';
import type { FanoutStatus, PipelineStatus } from '../../shared/membership/coordinator-status';

/** The value of one sample line (`name{labels} value`) in a Prometheus text exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('coordinator metrics (prom-client)', () => {
  const pipeline: PipelineStatus = {
    activeElections: ['elabcd'],
    partitionsOwned: [0, 3, 5],
    judged: 120,
    objected: 2,
    finalized: 7,
    rejected: 1,
  };
  const fanout: FanoutStatus = {
    leading: true,
    elections: 1,
    clusterSubscribed: true,
    sent: { tallies: 1, latestOnly: 0, votes: 2, lifecycle: 0, cluster: 0, replays: 0, takeovers: 1 },
    invocations: 4,
    events: 9,
    superseded: 0,
    invokeFailures: 1,
    lastInvokeError: null,
  };

  it('serves the process and event-loop metrics of the runtime', async () => {
    const text = await coordinatorMetrics({
      pipeline: () => undefined,
      fanout: () => undefined,
    }).registry.metrics();
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('reads the pipeline and fan-out counters from their status when scraped, as _total counters', async () => {
    let p = pipeline;
    const m = coordinatorMetrics({ pipeline: () => p, fanout: () => fanout });
    let text = await m.registry.metrics();
    expect(text).toContain('# TYPE quorumvote_votes_counted_total counter');
    expect(sample(text, 'quorumvote_votes_judged_total')).toBe(120);
    expect(sample(text, 'quorumvote_votes_objected_total')).toBe(2);
    expect(sample(text, 'quorumvote_votes_counted_total')).toBe(7);
    expect(sample(text, 'quorumvote_votes_rejected_total')).toBe(1);
    expect(sample(text, 'quorumvote_partitions_owned')).toBe(3);
    expect(sample(text, 'quorumvote_fanout_events_total')).toBe(9);
    expect(sample(text, 'quorumvote_fanout_invocations_total')).toBe(4);
    expect(sample(text, 'quorumvote_fanout_invoke_failures_total')).toBe(1);
    p = { ...pipeline, finalized: 10 };
    text = await m.registry.metrics();
    expect(sample(text, 'quorumvote_votes_counted_total')).toBe(10);
  });

  it('observes finalize latency per vote and the write per batch, in seconds', async () => {
    const m = coordinatorMetrics({ pipeline: () => pipeline, fanout: () => undefined });
    m.pipeline.batchFinalized([1000, 1040, 1400], 1050, 3);
    const text = await m.registry.metrics();
    expect(sample(text, 'quorumvote_vote_finalize_latency_seconds_count')).toBe(3);
    // 50 ms and 10 ms; a vote accepted "after" its finalization (clock skew) counts as 0.
    expect(sample(text, 'quorumvote_vote_finalize_latency_seconds_sum')).toBeCloseTo(0.06, 9);
    expect(sample(text, 'quorumvote_vote_finalize_latency_seconds_bucket{le="0.005"}')).toBe(1);
    expect(sample(text, 'quorumvote_vote_finalize_latency_seconds_bucket{le="0.05"}')).toBe(3);
    expect(sample(text, 'quorumvote_finalize_write_seconds_count')).toBe(1);
    expect(sample(text, 'quorumvote_finalize_write_seconds_sum')).toBeCloseTo(0.003, 9);
  });

  it('escapes label values (a member id is any string)', async () => {
    const m = coordinatorMetrics({ pipeline: () => undefined, fanout: () => undefined });
    m.heartbeatAge.set({ member: 'c"1\\\n' }, 0.25);
    const text = await m.registry.metrics();
    expect(text).toContain('quorumvote_member_heartbeat_age_seconds{member="c\\"1\\\\\\n"} 0.25');
  });
});
