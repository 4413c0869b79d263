/**
 * What a coordinator publishes about itself in the `{qv}:members` hash, and how old a
 * heartbeat may be before the member counts as unhealthy or gone. One home for these
 * facts: the coordinators' failure detector, `GET /cluster` and `npm run status` all
 * judge members by them.
 */

/** One coordinator's record, rewritten with every heartbeat. */
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

/** A member's health by the age of its heartbeat. */
export type MemberHealth = 'healthy' | 'unhealthy' | 'gone';

export interface MemberView extends MemberRecord {
  heartbeatAgeMs: number;
  health: MemberHealth;
}

/**
 * Heartbeat every 250 ms; a record older than 1.5 s is unhealthy (six missed beats:
 * a GC pause or a slow Redis round trip does not trip it), older than 10 s gone.
 */
export const membershipTiming = { heartbeatMs: 250, unhealthyAfterMs: 1500, goneAfterMs: 10000 } as const;

/** The health of a member whose heartbeat is `ageMs` old. */
export function memberHealth(ageMs: number): MemberHealth {
  return ageMs <= membershipTiming.unhealthyAfterMs
    ? 'healthy'
    : ageMs <= membershipTiming.goneAfterMs
      ? 'unhealthy'
      : 'gone';
}

/**
 * One `{qv}:members` value, parsed; null when it is not JSON or lacks the id, admin URL
 * or heartbeat time every reader relies on.
 */
export function parseMemberRecord(raw: string): MemberRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const r = v as Partial<MemberRecord>;
  return typeof r.id === 'string' && typeof r.adminUrl === 'string' && typeof r.heartbeatAt === 'number'
    ? (r as MemberRecord)
    : null;
}
