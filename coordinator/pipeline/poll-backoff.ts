import { loadSettings } from '../../shared/settings/load';

/**
 * Longest pause between polls of a quiet partition (env PIPELINE_IDLE_POLL_MS): the most
 * the first vote after a quiet spell waits per stage, and what an idle cluster costs.
 */
export const IDLE_POLL_MAX_MS = loadSettings().PIPELINE_IDLE_POLL_MS;

/**
 * Per-partition polling pace. A partition whose last poll found nothing is polled again
 * only after a pause that doubles up to `maxMs`; one that found work is polled at once.
 * Every poll is a Redis round trip, and on a small machine polling every partition of
 * every election at full speed costs more CPU than the votes themselves: with this, a
 * quiet partition costs at most 1000 / maxMs polls a second, a busy one is never slowed.
 *
 * With push (`waitingMs` given), a poll that found nothing *and* left a wake-up flag
 * behind (the poller is "waiting": the next arrival sends it a notice) pauses for
 * `waitingMs` instead, the safety-net poll; {@link wake} makes it due at once.
 */
export class PollBackoff {
  private readonly state = new Map<string, { pauseMs: number; nextAt: number }>();

  constructor(
    private readonly maxMs: number,
    private readonly now: () => number = () => performance.now(),
    /** The safety-net pause of a waiting partition (push); none: waiting polls back off as idle ones. */
    private readonly waitingMs?: number,
  ) {}

  /** True when `key` is due for a poll. */
  due(key: string): boolean {
    const s = this.state.get(key);
    return !s || this.now() >= s.nextAt;
  }

  /**
   * Records a poll's outcome: work found resets the pause, none doubles it; none while
   * waiting for a notice pauses for the safety-net interval.
   */
  record(key: string, foundWork: boolean, waiting = false): void {
    if (foundWork || this.maxMs <= 0) {
      this.state.delete(key);
      return;
    }
    if (waiting && this.waitingMs !== undefined) {
      this.state.set(key, { pauseMs: this.waitingMs, nextAt: this.now() + this.waitingMs });
      return;
    }
    const before = Math.min(this.maxMs, this.state.get(key)?.pauseMs ?? 0);
    const pauseMs = Math.min(this.maxMs, Math.max(1, before * 2));
    this.state.set(key, { pauseMs, nextAt: this.now() + pauseMs });
  }

  /** A notice for `key` arrived: it is due at once. */
  wake(key: string): void {
    this.state.delete(key);
  }

  /** Milliseconds until the earliest paused key is due (`maxMs` when none is paused). */
  msUntilNextDue(): number {
    let soonest = this.state.size > 0 ? Number.POSITIVE_INFINITY : this.maxMs;
    const now = this.now();
    for (const s of this.state.values()) soonest = Math.min(soonest, s.nextAt - now);
    return Math.max(0, soonest);
  }

  /** Forgets keys (all, or those starting with `prefix`). */
  forget(prefix?: string): void {
    for (const key of [...this.state.keys()]) if (!prefix || key.startsWith(prefix)) this.state.delete(key);
  }
}

/**
 * Runs per-partition work so that partitions do not wait for each other: a partition
 * whose Redis master is failing over (its commands hang until they time out) must not
 * hold up the partitions on healthy masters. Work still running from an earlier round
 * is not started again; a round waits for what it started at most `maxWaitMs`.
 */
export class PartitionRounds {
  private readonly running = new Set<string>();
  /** Running keys a notice arrived for: polled again at once, whatever they find. */
  private readonly wokenWhileRunning = new Set<string>();
  /** Votes done by work that finished after its round stopped waiting for it. */
  private late = 0;

  constructor(
    private readonly pace: PollBackoff,
    private readonly onError: (key: string, err: unknown) => void,
    /** True when the key's last poll left a wake-up flag (push): it may wait for a notice. */
    private readonly waiting: (key: string) => boolean = () => false,
  ) {}

  /** One round: starts `work(key)` for each due, idle key; returns votes done. */
  async round(
    keys: Iterable<string>,
    work: (key: string) => Promise<number>,
    maxWaitMs: number,
  ): Promise<number> {
    let done = 0;
    let waiting = true;
    const started: Promise<void>[] = [];
    for (const key of keys) {
      if (this.running.has(key) || !this.pace.due(key)) continue;
      this.running.add(key);
      started.push(
        work(key).then(
          (n) => {
            this.running.delete(key);
            // A notice that came while this poll ran may be for work it did not see.
            const woken = this.wokenWhileRunning.delete(key);
            this.pace.record(key, n > 0 || woken, this.waiting(key));
            if (waiting) done += n;
            else this.late += n;
          },
          (err: unknown) => {
            this.running.delete(key);
            this.wokenWhileRunning.delete(key);
            this.pace.record(key, false);
            this.onError(key, err);
          },
        ),
      );
    }
    if (started.length > 0 && !Number.isFinite(maxWaitMs)) {
      await Promise.all(started); // (setTimeout would take Infinity for 1 ms)
    } else if (started.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(started),
        new Promise<void>((r) => {
          timer = setTimeout(r, maxWaitMs);
        }),
      ]);
      clearTimeout(timer);
    }
    waiting = false;
    const total = done + this.late;
    this.late = 0;
    return total;
  }

  /** Milliseconds until a paused key is due (see PollBackoff). */
  msUntilNextDue(): number {
    return this.pace.msUntilNextDue();
  }

  /** A notice for `key` arrived: due at once, or again at once when its poll is running. */
  wake(key: string): void {
    if (this.running.has(key)) this.wokenWhileRunning.add(key);
    this.pace.wake(key);
  }

  forget(prefix?: string): void {
    this.pace.forget(prefix);
  }
}
