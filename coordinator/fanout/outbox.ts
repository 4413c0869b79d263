import type { Logger } from '../../shared/logger';
import { errorFields } from '../../shared/logger';
import {
  type BroadcastAck,
  MAX_BROADCAST_PAYLOAD_BYTES,
  type RealtimeEvent,
} from '../../shared/realtime/events';
import type { BroadcastTransport } from './transport';

/**
 * Collects events for a few milliseconds and hands them to the transport in as few
 * invocations as fit the payload limit: one invocation serves many events (and, in
 * the broadcast function, many connections).
 */
export class Outbox {
  private pending: { event: RealtimeEvent; bytes: number }[] = [];
  private acks: BroadcastAck[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  invocations = 0;
  events = 0;
  failures = 0;
  lastError: string | null = null;

  constructor(
    private readonly transport: BroadcastTransport,
    private readonly from: string,
    private readonly batchMs: number,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  add(events: RealtimeEvent[], ack?: BroadcastAck): void {
    for (const event of events) {
      const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
      if (this.bytes + bytes > MAX_BROADCAST_PAYLOAD_BYTES - 1024) this.flush();
      this.pending.push({ event, bytes });
      this.bytes += bytes;
    }
    if (ack) this.acks.push(ack);
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  /** Sends what is pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const events = this.pending.map((p) => p.event);
    const acks = this.acks;
    this.pending = [];
    this.acks = [];
    this.bytes = 0;
    this.invocations++;
    this.events += events.length;
    const p = this.transport
      .send({ events, from: this.from, sentAt: this.now(), ...(acks.length ? { acks } : {}) })
      .catch((err: unknown) => {
        this.failures++;
        this.lastError = err instanceof Error ? err.message : String(err);
        if (this.failures <= 3 || this.failures % 100 === 0) {
          this.log.warn('broadcast invoke failed', {
            events: events.length,
            failures: this.failures,
            ...errorFields(err),
          });
        }
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Flushes and waits for the invocations under way (on stop). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight]);
  }
}
