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
 */
export class PollBackoff {
  private readonly state = new Map<string, { pauseMs: number; nextAt: number }>();

  constructor(
    private readonly maxMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True when `key` is due for a poll. */
  due(key: string): boolean {
    const s = this.state.get(key);
    return !s || this.now() >= s.nextAt;
  }

  /** Records a poll's outcome: work found resets the pause, none doubles it. */
  record(key: string, foundWork: boolean): void {
    if (foundWork || this.maxMs <= 0) {
      this.state.delete(key);
      return;
    }
    const pauseMs = Math.min(this.maxMs, Math.max(1, (this.state.get(key)?.pauseMs ?? 0) * 2));
    this.state.set(key, { pauseMs, nextAt: this.now() + pauseMs });
  }

  /** Milliseconds until the earliest paused key is due (`maxMs` when none is paused). */
  msUntilNextDue(): number {
    let soonest = this.maxMs;
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
  /** Votes done by work that finished after its round stopped waiting for it. */
  private late = 0;

  constructor(
    private readonly pace: PollBackoff,
    private readonly onError: (key: string, err: unknown) => void,
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
            this.pace.record(key, n > 0);
            if (waiting) done += n;
            else this.late += n;
          },
          (err: unknown) => {
            this.running.delete(key);
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

  forget(prefix?: string): void {
    this.pace.forget(prefix);
  }
}
