/**
 * When to send an election's next `tally.updated`: a deterministic state machine (no
 * timers, no I/O; time comes in). An election becomes dirty when votes finalize or its
 * status changes; a dirty election is due when
 *
 * - at least `intervalMs` passed since its last update (at most 1000/intervalMs per
 *   second, and the first change after a quiet spell goes out at once), and
 * - the previous update was delivered (acknowledged) or has been out for longer than
 *   `ackTimeoutMs`: one delivery per election in flight, so a slow delivery path
 *   coalesces more instead of queueing stale tallies.
 *
 * Changes that arrive meanwhile fold into the next update, which reads full totals.
 * A due election whose delivery is still under way is read anyway (`begin` while
 * awaiting): the read refreshes the newest tally that the delivery under way posts to
 * the connections it has not reached yet (latest wins), and the election is *owed* a
 * full delivery once the one under way ends, for the connections it had already passed.
 */
interface ElectionTally {
  dirty: boolean;
  reading: boolean;
  lastSentAt: number;
  awaiting: { seq: string; since: number } | null;
  /** Read while a delivery was under way: deliver again once it ends. */
  owed: boolean;
}

export class TallyCoalescer {
  private readonly state = new Map<string, ElectionTally>();

  constructor(
    readonly intervalMs: number,
    readonly ackTimeoutMs: number,
  ) {}

  private get(id: string): ElectionTally {
    let s = this.state.get(id);
    if (!s) {
      s = {
        dirty: false,
        reading: false,
        lastSentAt: Number.NEGATIVE_INFINITY,
        awaiting: null,
        owed: false,
      };
      this.state.set(id, s);
    }
    return s;
  }

  markDirty(id: string): void {
    this.get(id).dirty = true;
  }

  isDirty(id: string): boolean {
    return this.state.get(id)?.dirty === true;
  }

  /** Dirty elections whose interval has passed and that are not being read. */
  ready(now: number): string[] {
    const out: string[] = [];
    for (const [id, s] of this.state) {
      if (s.dirty && !s.reading && now - s.lastSentAt >= this.intervalMs) out.push(id);
    }
    return out;
  }

  /** The unacknowledged delivery that holds `id` back, or null when it may go. */
  blockedBy(id: string, now: number): string | null {
    const s = this.state.get(id);
    if (!s?.awaiting) return null;
    if (now - s.awaiting.since > this.ackTimeoutMs) {
      this.settle(s);
      return null;
    }
    return s.awaiting.seq;
  }

  /**
   * Deliveries an owed election waits for (read while they were under way, nothing dirty
   * since): their acknowledgements must still be polled, or the owed delivery never goes
   * out when no further vote arrives. One that outlived `ackTimeoutMs` is settled here
   * (the election becomes dirty) and not listed.
   */
  pendingAcks(now: number): { id: string; seq: string }[] {
    const out: { id: string; seq: string }[] = [];
    for (const [id, s] of this.state) {
      if (!s.owed || !s.awaiting || s.dirty || s.reading) continue;
      if (now - s.awaiting.since > this.ackTimeoutMs) this.settle(s);
      else out.push({ id, seq: s.awaiting.seq });
    }
    return out;
  }

  /** The awaited delivery `seq` was acknowledged. */
  acked(id: string, seq: string): void {
    const s = this.state.get(id);
    if (s?.awaiting?.seq === seq) this.settle(s);
  }

  private settle(s: ElectionTally): void {
    s.awaiting = null;
    if (s.owed) s.dirty = true;
    s.owed = false;
  }

  /** True while a delivery of `id` is under way (a read now only refreshes the newest tally). */
  isAwaiting(id: string): boolean {
    return this.state.get(id)?.awaiting != null;
  }

  /** A read for `id` starts: what is dirty now will be in it. */
  begin(id: string, now: number): void {
    const s = this.get(id);
    if (s.awaiting) s.owed = true;
    s.dirty = false;
    s.reading = true;
    s.lastSentAt = now;
  }

  /** The read ended: `seq` was handed over for delivery (or null: nothing was sent). */
  end(id: string, seq: string | null, now: number, failed = false): void {
    const s = this.state.get(id);
    if (!s) return;
    s.reading = false;
    if (failed) s.dirty = true;
    if (seq !== null) s.awaiting = { seq, since: now };
  }

  forget(id: string): void {
    this.state.delete(id);
  }
}
