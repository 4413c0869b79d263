import type { Cluster } from 'ioredis';
import type { ElectionRecord } from '../../shared/elections/store';
import { type Logger, errorFields } from '../../shared/logger';
import { partitionKeys } from '../../shared/redis/keys';

/**
 * Push, not poll. A validator (or partition owner) that reads a partition and finds
 * nothing sets the partition's waiting flag just before that read, on the same
 * connection; the enqueue script (or the verdict script) that next writes there deletes
 * the flag and publishes one notice on the partition's sharded channel. So every
 * arrival is either in the waiter's read or sees its flag, and a waiter needs to poll
 * only as a safety net (a notice lost to a reconnect or a failover costs a delay of at
 * most `PIPELINE_SAFETY_POLL_MS`, never a vote). Busy partitions are read without a
 * flag and cost no notices: one per wait, not one per vote.
 */

/**
 * Lifetime of a waiting flag: far longer than any pause between a waiter's reads (the
 * safety-net poll sets it again), so it only ends the flag of a partition nobody reads
 * any more (a retired election) instead of leaving it in Redis for good.
 */
export const WAKE_FLAG_TTL_MS = 60_000;

/** What a notice says: votes arrived (for validators), a verdict was recorded (for the owner). */
export type WakeKind = 'votes' | 'judged';

/** A loop's pause that a notice ends early; a notice while the loop runs ends its next pause. */
export class Alarm {
  private ring: (() => void) | null = null;
  private rung = false;

  sleep(ms: number): Promise<void> {
    if (this.rung) {
      this.rung = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.ring = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.ring = done;
    });
  }

  wake(): void {
    if (this.ring) this.ring();
    else this.rung = true;
  }
}

/**
 * The subscriptions to the wake channels of the active elections' partitions (one
 * sharded channel per partition, in the partition's own slot, so its notice comes from
 * the master that took the vote). A partition counts as listened to only once its
 * subscription was confirmed: until then its waiters keep polling as before.
 */
export class PartitionWakeUps {
  /** channel → "<election>|<p>", and whether its subscription is confirmed. */
  private readonly channels = new Map<string, { key: string; listening: boolean }>();
  private readonly listeningKeys = new Set<string>();

  constructor(
    private readonly sub: Cluster,
    private readonly onWake: (kind: WakeKind, key: string) => void,
    private readonly log: Logger,
  ) {}

  /** True when notices for partition `key` ("<election>|<p>") reach this process. */
  listening(key: string): boolean {
    return this.listeningKeys.has(key);
  }

  /** Handles a sharded message; false when it is not a wake channel of ours. */
  handle(channel: string, message: string): boolean {
    const c = this.channels.get(channel);
    if (!c) return false;
    if (message === 'votes' || message === 'judged') this.onWake(message, c.key);
    return true;
  }

  /** Subscribes the partitions of `elections` not yet subscribed, unsubscribes the rest. */
  follow(elections: ElectionRecord[]): void {
    const want = new Map<string, string>();
    for (const e of elections) {
      for (const [p, t] of e.tags.entries()) want.set(partitionKeys(t).wake, `${e.id}|${p}`);
    }
    for (const [channel, key] of want) {
      if (this.channels.has(channel)) continue;
      const c = { key, listening: false };
      this.channels.set(channel, c);
      this.sub.ssubscribe(channel).then(
        () => {
          if (this.channels.get(channel) !== c) return; // unsubscribed meanwhile
          c.listening = true;
          this.listeningKeys.add(key);
        },
        (err: unknown) => {
          // Tried again at the next refresh; meanwhile the partition is polled.
          if (this.channels.get(channel) === c) this.channels.delete(channel);
          this.log.debug('cannot subscribe to a wake channel; polling it', { key, ...errorFields(err) });
        },
      );
    }
    for (const [channel, c] of [...this.channels]) {
      if (want.has(channel)) continue;
      this.channels.delete(channel);
      this.listeningKeys.delete(c.key);
      this.sub.sunsubscribe(channel).catch(() => {});
    }
  }
}
