import type { Cluster } from 'ioredis';
import type { Clock } from '../shared/clock';
import { monotonicClock } from '../shared/monotonic';
import {
  type MemberRecord,
  type MemberState,
  type MemberView,
  memberHealth,
  parseMemberRecord,
} from '../shared/membership/member';
import { clusterKeys } from '../shared/redis/keys';

/**
 * Membership and failure detection: each coordinator writes its record and a
 * heartbeat into one Redis hash; everyone reads it to discover peers. A member whose
 * heartbeat is older than `unhealthyAfterMs` is unhealthy, older than `goneAfterMs`
 * is gone (and is removed by whoever notices). Graceful shutdown deletes the record.
 * The record and the thresholds are shared knowledge (shared/membership/member.ts).
 */
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
      const rec = parseMemberRecord(raw);
      if (!rec) continue;
      const prev = this.lastChange.get(id);
      if (!prev || prev.heartbeatAt !== rec.heartbeatAt) {
        this.lastChange.set(id, { heartbeatAt: rec.heartbeatAt, seenAt: now });
      }
      const age = id === this.self.id ? 0 : Math.max(0, now - (this.lastChange.get(id)?.seenAt ?? now));
      const health = memberHealth(age);
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
