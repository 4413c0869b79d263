import type { ClockDiscipline, ClockSyncEvent } from '../shared/clock-sync';
import type { Logger } from '../shared/logger';
import type { ClusterEventType } from '../shared/realtime/channel-messages';
import type { CoordinatorMetrics } from './node-metrics';
import type { PeerPort } from './peer-transport';

/**
 * Carries the clock discipline (shared/clock-sync.ts, where everything is decided) to
 * the network and the outside: asks the leader for signed readings, feeds the samples
 * in, and turns what the discipline reports into log lines, `clock.alarm` cluster
 * events and metrics.
 */
export class ClockSyncDriver {
  constructor(
    private readonly d: {
      selfId: string;
      clock: ClockDiscipline;
      peers: PeerPort;
      metrics: Pick<CoordinatorMetrics, 'clockOffset' | 'clockRtt' | 'inSync' | 'clockOffsetNow'>;
      log: Logger;
      publish: (type: ClusterEventType, data: Record<string, unknown>) => void;
    },
  ) {}

  /** One exchange with `leader` (a follower's job; the leader is the reference). */
  async sync(leader: string | null, known: (id: string) => boolean): Promise<void> {
    if (!leader || leader === this.d.selfId || !known(leader)) return;
    const clock = this.d.clock;
    const t0 = clock.now();
    // Only a reading signed by the leader for this very request counts: a forged or
    // replayed answer could otherwise steer this node's clock (and so vote windows).
    const leaderTime = await this.d.peers.readTime(leader);
    const t1 = clock.now();
    if (leaderTime === null) return;
    const r = clock.addSample({ t0, t1, leaderTime });
    if (r.action !== 'discarded') {
      this.d.metrics.clockOffset.observe(Math.abs(r.offsetMs) / 1000);
      this.d.metrics.clockRtt.set(r.rttMs / 1000);
    }
    this.report(r.events);
  }

  /** Advances a running slew or step (every 50 ms). */
  tick(): void {
    this.report(this.d.clock.tick());
  }

  /** This node became leader: its clock is now the cluster's reference. */
  becomeReference(): void {
    this.report(this.d.clock.becomeReference());
  }

  private report(events: ClockSyncEvent[]): void {
    const { log, selfId } = this.d;
    for (const e of events) {
      if (e.type === 'outOfSync') {
        log.warn('clock out of sync: abstaining from validation', { offsetMs: e.offsetMs });
        this.d.publish('clock.alarm', { node: selfId, state: 'raised', offsetMs: e.offsetMs });
      } else if (e.type === 'inSync') {
        log.info('clock back in sync', { offsetMs: e.offsetMs });
        this.d.publish('clock.alarm', { node: selfId, state: 'cleared', offsetMs: e.offsetMs });
      } else {
        log.info('clock stepped', { byMs: e.byMs });
      }
    }
    const s = this.d.clock.status();
    this.d.metrics.inSync.set(s.inSync ? 1 : 0);
    if (s.offsetMs !== null) this.d.metrics.clockOffsetNow.set(s.offsetMs / 1000);
  }
}
