/**
 * What the vote pipeline reports as it works, for the metrics (coordinator/node-metrics.ts)
 * without the pipeline knowing about Prometheus. Called on the hot path: implementations
 * must be cheap and must not throw.
 */
export interface PipelineObserver {
  /**
   * A batch was finalized by this node: each vote's accepted-at time (ms, on the
   * accepting function's clock), when the batch was finalized (ms, this node's
   * synchronized clock) and how long the fenced finalize write took (ms).
   */
  batchFinalized(acceptedAtMs: readonly number[], finalizedAtMs: number, writeMs: number): void;
}
