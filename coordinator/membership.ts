import type { Cluster } from 'ioredis';
import type { Clock } from '../shared/clock';
import { monotonicClock } from '../shared/monotonic';
import { clusterKeys } from '../shared/redis/keys';

/**
 * Membership and failure detection: each coordinator writes its record and a
 * heartbeat into one Redis hash; everyone reads it to discover peers. A member whose
 * heartbeat is older than `unhealthyAfterMs` is unhealthy, older than `goneAfterMs`
 * is gone (and is removed by whoever notices). Graceful shutdown deletes the record.
 */
export interface MemberRecord {
  id: string;
  adminUrl: string;
  startedAt: number;
  version: string;
  pid: number;
  heartbeatAt: number;
  /** What this member reports about itself (role, term, clock), for GET /cluster. */
  state?: MemberState;
}

export interface MemberState {
  role: string;
  term: number;
  leader: string | null;
  clockOffsetMs: number | null;
  inSync: boolean;
  partitionsOwned: number[];
}

export interface MemberView extends MemberRecord {
  heartbeatAgeMs: number;
  health: 'healthy' | 'unhealthy' | 'gone';
}

export const membershipTiming = { heartbeatMs: 250, unhealthyAfterMs: 1500, goneAfterMs: 10000 };

export class Membership {
  constructor(
    private readonly redis: Cluster,
    private readonly self: Omit<MemberRecord, 'heartbeatAt'>,
    private readonly clock: Clock,
  ) {}

  async heartbeat(state?: MemberState): Promise<void> {
    const rec: MemberRecord = { ...this.self, heartbeatAt: this.clock.now(), ...(state ? { state } : {}) };
    await this.redis.hset(clusterKeys.members, this.self.id, JSON.stringify(rec));
  }

  async deregister(): Promise<void> {
    await this.redis.hdel(clusterKeys.members, this.self.id);
  }

  /** When (on this node's monotonic clock) each member's heartbeat last changed. */
  private readonly lastChange = new Map<string, { heartbeatAt: number; seenAt: number }>();

  /**
   * Reads all members with their health as of now; removes records that are gone.
   * Heartbeat age is measured by when this node *saw the record change*, on its own
   * monotonic clock, so a node whose wall clock is skewed (or not yet synchronized)
   * neither misjudges its peers nor deletes their records.
   */
  async list(): Promise<MemberView[]> {
    const all = await this.redis.hgetall(clusterKeys.members);
    const now = monotonicClock.now();
    const out: MemberView[] = [];
    for (const [id, raw] of Object.entries(all)) {
      let rec: MemberRecord;
      try {
        rec = JSON.parse(raw) as MemberRecord;
      } catch {
        continue;
      }
      const prev = this.lastChange.get(id);
      if (!prev || prev.heartbeatAt !== rec.heartbeatAt) {
        this.lastChange.set(id, { heartbeatAt: rec.heartbeatAt, seenAt: now });
      }
      const age = id === this.self.id ? 0 : Math.max(0, now - (this.lastChange.get(id)?.seenAt ?? now));
      const health =
        age <= membershipTiming.unhealthyAfterMs
          ? 'healthy'
          : age <= membershipTiming.goneAfterMs
            ? 'unhealthy'
            : 'gone';
      if (health === 'gone') {
        await this.redis.hdel(clusterKeys.members, id).catch(() => {});
        this.lastChange.delete(id);
      }
      out.push({ ...rec, heartbeatAgeMs: Math.round(age), health });
    }
    for (const id of this.lastChange.keys()) if (!(id in all)) this.lastChange.delete(id);
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }
}
