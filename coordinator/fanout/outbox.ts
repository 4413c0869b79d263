import type { Logger } from '../../shared/logger';
import { errorFields } from '../../shared/logger';
import {
  type BroadcastAck,
  type BroadcastRequest,
  MAX_BROADCAST_PAYLOAD_BYTES,
  type RealtimeEvent,
} from '../../shared/realtime/events';
import type { BroadcastTransport } from './transport';

/**
 * Collects events for a few milliseconds and hands them to the transport in as few
 * invocations as fit the payload limit: one invocation serves many events (and, in
 * the broadcast function, many connections). Latest wins while events wait: a tally
 * replaces a waiting tally of the same topic (full totals; the older one would be stale
 * on arrival), and an ack replaces a waiting ack of the same key. Every other event
 * waits its turn and goes out: a voter's `vote.finalized` is never dropped.
 */
export class Outbox {
  private pending: { event: RealtimeEvent; bytes: number }[] = [];
  private acks = new Map<string, BroadcastAck>();
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  invocations = 0;
  events = 0;
  /** Tallies replaced by a newer one of the same topic before they went out. */
  superseded = 0;
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
      if (event.type === 'tally.updated') this.dropWaitingTally(event.topic);
      const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
      if (this.bytes + bytes > MAX_BROADCAST_PAYLOAD_BYTES - 1024) this.flush();
      this.pending.push({ event, bytes });
      this.bytes += bytes;
    }
    if (ack) this.acks.set(ack.key, ack);
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  private dropWaitingTally(topic: string): void {
    const i = this.pending.findIndex((p) => p.event.type === 'tally.updated' && p.event.topic === topic);
    if (i < 0) return;
    this.bytes -= this.pending[i]!.bytes;
    this.pending.splice(i, 1);
    this.superseded++;
  }

  /** Sends what is pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const events = this.pending.map((p) => p.event);
    const acks = [...this.acks.values()];
    this.pending = [];
    this.acks = new Map();
    this.bytes = 0;
    this.invoke({ events, ...(acks.length ? { acks } : {}) });
  }

  /**
   * One invocation of its own, now (a shard of a split fan-out: it must not wait for,
   * or share its payload with, other events).
   */
  sendNow(request: Omit<BroadcastRequest, 'from' | 'sentAt'>): void {
    this.invoke(request);
  }

  private invoke(request: Omit<BroadcastRequest, 'from' | 'sentAt'>): void {
    const events = request.events;
    this.invocations++;
    this.events += events.length;
    const p = this.transport
      .send({ ...request, from: this.from, sentAt: this.now() })
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
