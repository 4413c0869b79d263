import type { Cluster } from 'ioredis';
import type { Clock } from '../shared/clock';
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

  /** Reads all members with their health as of now; removes records that are gone. */
  async list(): Promise<MemberView[]> {
    const all = await this.redis.hgetall(clusterKeys.members);
    const now = this.clock.now();
    const out: MemberView[] = [];
    for (const [id, raw] of Object.entries(all)) {
      let rec: MemberRecord;
      try {
        rec = JSON.parse(raw) as MemberRecord;
      } catch {
        continue;
      }
      const age = Math.max(0, now - rec.heartbeatAt);
      const health =
        age <= membershipTiming.unhealthyAfterMs
          ? 'healthy'
          : age <= membershipTiming.goneAfterMs
            ? 'unhealthy'
            : 'gone';
      if (health === 'gone') {
        await this.redis.hdel(clusterKeys.members, id).catch(() => {});
      }
      out.push({ ...rec, heartbeatAgeMs: age, health });
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }
}
