import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError, notFound } from '../errors';
import { electionIdPattern } from '../ids';
import { lifecycleMessage } from '../realtime/channel-messages';
import {
  activeElectionsKey,
  clusterKeys,
  electionChannel,
  electionIndexKey,
  electionKeys,
  partitionKeys,
  partitionTag,
} from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';
import type { ChainHead } from '../votes/audit-chain';
import { closeGate, openGate, replicate } from './gates';
import { reserveJoinCode } from './join-store';
import {
  type Election,
  type ElectionStatus,
  type NewElection,
  newElectionId,
  newPartitionSalt,
  partitionOf,
} from './model';
import { secretFieldsOf, secretMetaFields } from './secret-config';

/** The record kept in Redis: the public election plus what the pipeline needs. */
export interface ElectionRecord extends Election {
  /** Hash tag of each partition, index = partition number. */
  tags: string[];
  openedAt: string | null;
  /**
   * Secret key of `partitionOf` (hex; '' for elections made before it). Never
   * published: with it, a user id would again tell which audit chain holds their ballot.
   */
  partitionSalt: string;
  /** Set when a close began (the intent): the leader finishes a close left half-done. */
  closingAt: string | null;
  /** Per partition, the closing point its gate recorded (set with status `closed`). */
  closePoints: string[] | null;
  /** The `opensAt` an early manual open moved to the moment it opened (null otherwise). */
  scheduledOpensAt: string | null;
  /** Code access: the join code (shown to admins only, see {@link adminElection}). */
  joinCode?: string;
  /**
   * Code access: the key of the joined identities (hex, shared/auth/join-identity.ts).
   * Never published: with it, a device secret would name its identity anywhere.
   */
  joinKey?: string;
}

/** Options of {@link ElectionStore.reset}. */
export interface ResetOptions {
  /** The stack runs in explicit test mode (QV_TEST_MODE=1): a counted election may be reset. */
  testMode: boolean;
  /** Who asked (recorded in the reset's audit record). */
  by: string;
}

/** The audit record of one reset (GET /elections/{id}/audit lists them as `resets`). */
export interface ResetRecord {
  at: string;
  by: string;
  /** Status of the election when it was reset. */
  status: ElectionStatus;
  /** Votes finalized (counted) and rejected that the reset erased. */
  finalized: number;
  rejected: number;
  /** Head hash of each partition's audit chain before the reset ('' when empty). */
  heads: string[];
}

const transitionScript = defineScript('electionTransition', {
  keys: 2,
  parse: (r) => {
    const a = reply.array('electionTransition', r, 2);
    return { code: reply.integer('electionTransition', a[0]), value: a[1] };
  },
});

/** Erases one partition and fences out finalizes planned before (see partition-reset.lua). */
const partitionResetScript = defineScript('partitionReset', {
  keys: 11,
  parse: (r) => reply.string('partitionReset', r),
});

function toRecord(h: Record<string, string>): ElectionRecord | null {
  if (!h['id']) return null;
  return {
    id: h['id'],
    title: h['title'] ?? '',
    options: JSON.parse(h['options'] ?? '[]'),
    status: (h['status'] ?? 'draft') as ElectionStatus,
    opensAt: h['opensAt'] || null,
    closesAt: h['closesAt'] || null,
    createdAt: h['createdAt'] ?? '',
    restricted: h['restricted'] === '1',
    access: h['access'] === 'code' ? 'code' : 'roll',
    ...(h['joinCode'] ? { joinCode: h['joinCode'] } : {}),
    ...(h['joinKey'] ? { joinKey: h['joinKey'] } : {}),
    partitions: Number(h['partitions'] ?? 0),
    hideTotalsUntilClosed: h['hideTotals'] === '1',
    // Elections made before "choose up to m" are single choice; a secret ballot's limit is
    // its maxSelections (secretFieldsOf).
    maxChoices: Number(h['ballot'] === 'secret' ? (h['maxSelections'] ?? 1) : (h['maxChoices'] ?? 1)),
    closedAt: h['closedAt'] || null,
    openedAt: h['openedAt'] || null,
    closingAt: h['closingAt'] || null,
    closePoints: h['closePoints'] ? JSON.parse(h['closePoints']) : null,
    scheduledOpensAt: h['scheduledOpensAt'] || null,
    tags: JSON.parse(h['tags'] ?? '[]'),
    partitionSalt: h['partitionSalt'] ?? '',
    ...(h['finalChainHeads'] ? { finalChainHeads: JSON.parse(h['finalChainHeads']) } : {}),
    ...secretFieldsOf(h),
  };
}

/** The public view (API.md "Election object"), without pipeline internals. */
export function publicElection(e: ElectionRecord): Election {
  const {
    tags: _t,
    openedAt: _o,
    closingAt: _c,
    closePoints: _p,
    scheduledOpensAt: _s,
    partitionSalt: _salt,
    joinCode: _code,
    joinKey: _key,
    ...rest
  } = e;
  return rest;
}

/**
 * What admins see of an election (`POST /elections`, `GET /elections/{id}`): the public
 * view plus, for code access, the join code, the join link made from the web app's
 * origin, and how many joined (`joined`, read by the caller). Voters never get the code
 * from the API: it is handed out in the room.
 */
export interface AdminElection extends Election {
  joinCode?: string;
  joinLink?: string;
  joined?: number;
}

export function adminElection(e: ElectionRecord, joined: number, webOrigin: string): AdminElection {
  const view: AdminElection = publicElection(e);
  if (e.access !== 'code' || !e.joinCode) return view;
  return { ...view, joinCode: e.joinCode, joinLink: `${webOrigin}/#/join/${e.joinCode}`, joined };
}

/**
 * Elections in Redis: create, read, list, open, close, reset. Election metadata
 * lives under `{el:<id>}`; the intake gate of each partition lives with the partition,
 * so the submit script checks "open" atomically with taking the vote.
 */
export class ElectionStore {
  constructor(
    private readonly redis: Cluster,
    private readonly clock: Clock,
    private readonly partitions: number,
  ) {}

  async create(input: NewElection): Promise<ElectionRecord> {
    const id = newElectionId();
    const P = this.partitions;
    const tags = Array.from({ length: P }, (_, p) => partitionTag(id, p, P));
    const partitionSalt = newPartitionSalt();
    if (input.voters) {
      const byPartition = new Map<number, string[]>();
      for (const v of input.voters) {
        const p = partitionOf(v, P, partitionSalt);
        byPartition.set(p, [...(byPartition.get(p) ?? []), v]);
      }
      await Promise.all(
        [...byPartition].map(([p, voters]) => this.redis.sadd(partitionKeys(tags[p]!).eligible, ...voters)),
      );
    }
    // Reserved first: a code always names an election that exists or is being made.
    const join = input.access === 'code' ? await reserveJoinCode(this.redis, id) : null;
    const now = new Date(this.clock.now()).toISOString();
    const fields: Record<string, string> = {
      id,
      title: input.title,
      options: JSON.stringify(input.options),
      status: 'draft',
      opensAt: input.opensAt ?? '',
      closesAt: input.closesAt ?? '',
      createdAt: now,
      restricted: input.voters ? '1' : '0',
      partitions: String(P),
      hideTotals: input.hideTotalsUntilClosed ? '1' : '0',
      maxChoices: String(input.maxChoices ?? 1),
      tags: JSON.stringify(tags),
      partitionSalt,
      access: input.access ?? 'roll',
      ...(join ?? {}),
      ...(input.secret ? secretMetaFields(input.secret) : {}),
    };
    await this.redis.hset(electionKeys(id).meta, fields);
    await this.redis.zadd(electionIndexKey, this.clock.now(), id);
    // Scheduled elections are watched by the leader from creation on.
    if (input.opensAt || input.closesAt) {
      await this.redis.sadd(activeElectionsKey, id);
      await this.notifyChanged(id);
    }
    return toRecord(fields)!;
  }

  async get(id: string): Promise<ElectionRecord | null> {
    if (!electionIdPattern.test(id)) return null;
    return toRecord(await this.redis.hgetall(electionKeys(id).meta));
  }

  async require(id: string): Promise<ElectionRecord> {
    const e = await this.get(id);
    if (!e) throw notFound('Election');
    return e;
  }

  async list(limit = 200): Promise<ElectionRecord[]> {
    const ids = await this.redis.zrevrange(electionIndexKey, 0, limit - 1);
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((e): e is ElectionRecord => e !== null);
  }

  async activeIds(): Promise<string[]> {
    return this.redis.smembers(activeElectionsKey);
  }

  async deactivate(id: string): Promise<void> {
    await this.redis.srem(activeElectionsKey, id);
    await this.notifyChanged(id);
  }

  /**
   * Tells the coordinators that an election's state changed, so their pipelines
   * re-read the active set now instead of at their next poll. Best effort.
   */
  private async notifyChanged(id: string): Promise<void> {
    await this.redis.spublish(clusterKeys.electionsChanged, id).catch(() => {});
  }

  /**
   * Opens a draft election. The lifecycle is one state machine, draft -> open -> closed,
   * each step a fenced script on the election's metadata (`term` fences a leader's
   * scheduled step; an admin request passes none); closed is final.
   *
   * - Opening an open election returns it unchanged (idempotent); a closed one is 409.
   * - Opening before `opensAt` moves the window's start to now (the scheduled time is
   *   kept as `scheduledOpensAt`): validators judge votes by the gates, not the clock, so
   *   a vote the open gate took is never thrown out as early.
   * - Opening after `closesAt` is refused (409): the window is over before it began.
   *
   * The status moves first, then each partition's gate opens with a script that
   * refuses to reopen a gate a racing close already closed.
   */
  async open(id: string, term?: number): Promise<ElectionRecord> {
    const e = await this.require(id);
    if (e.status === 'open') return this.finishOpen(e);
    if (e.status !== 'draft') throw invalidState(e.status, 'only a draft opens');
    if (e.ballot === 'secret' && e.ceremony !== 'done') {
      throw new ApiError(
        409,
        'ceremony_not_done',
        e.ceremony === 'failed'
          ? 'The key ceremony of this secret-ballot election failed (fewer than threshold trustees qualified): it can never open; create a new election'
          : `This secret-ballot election cannot open before its key ceremony is done (ceremony: ${e.ceremony})`,
        { state: e.ceremony },
      );
    }
    const now = this.clock.now();
    if (e.closesAt && Date.parse(e.closesAt) <= now) {
      throw new ApiError(409, 'invalid_state', 'The election closesAt has passed; it can no longer open');
    }
    const at = new Date(now).toISOString();
    const fields = ['openedAt', at];
    if (e.opensAt && Date.parse(e.opensAt) > now) fields.push('opensAt', at, 'scheduledOpensAt', e.opensAt);
    if (!(await this.transition(e, 'draft', 'open', fields, term))) {
      const current = await this.require(id); // another opener (or a close) came first
      if (current.status === 'open') return this.finishOpen(current);
      throw invalidState(current.status, 'only a draft opens');
    }
    await this.redis.sadd(activeElectionsKey, id);
    // The gates follow what Redis holds now (a close may already be under way); the
    // caller gets the election as this step left it: open.
    await this.finishOpen(await this.require(id));
    const opened: ElectionRecord = { ...e, status: 'open', ...recordFields(fields) };
    await this.notifyChanged(id);
    return this.announce('election.opened', opened);
  }

  /** Opens every gate of an open election that is not closing (finishes a half-done open). */
  private async finishOpen(e: ElectionRecord): Promise<ElectionRecord> {
    if (!e.closingAt) await Promise.all(e.tags.map((t) => openGate(this.redis, t)));
    return e;
  }

  /**
   * Closes an open election. First the intent (`closingAt`, so the leader finishes a
   * close whose caller died), then every gate closes for good and records its closing
   * point, then the status becomes `closed` together with those points. Any
   * interleaving with opens converges to all gates closed: an open never writes over a
   * closed gate. Closing a closed election returns it unchanged (and re-asserts its
   * gates); closing a draft is 409.
   */
  async close(id: string, term?: number): Promise<ElectionRecord> {
    const e = await this.require(id);
    if (e.status === 'closed') return this.sealGates(e);
    if (e.status !== 'open') throw invalidState(e.status, 'only an open election closes');
    const k = electionKeys(id);
    if (!e.closingAt) {
      const at = new Date(this.clock.now()).toISOString();
      if (!(await this.transition(e, 'open', 'open', ['closingAt', at], term)))
        return this.closedBySomeoneElse(id);
    }
    const points = await Promise.all(e.tags.map((t) => closeGate(this.redis, t)));
    await Promise.all(e.tags.map((t) => replicate(this.redis, partitionKeys(t).gate)));
    const at = new Date(this.clock.now()).toISOString();
    const fields = ['closedAt', at, 'closePoints', JSON.stringify(points)];
    if (!(await this.transition(e, 'open', 'closed', fields, term))) return this.closedBySomeoneElse(id);
    await replicate(this.redis, k.meta);
    await this.notifyChanged(id);
    return this.announce('election.closed', await this.require(id));
  }

  private async closedBySomeoneElse(id: string): Promise<ElectionRecord> {
    const current = await this.require(id);
    if (current.status === 'closed') return current;
    throw invalidState(current.status, 'only an open election closes');
  }

  /**
   * Re-asserts every gate of a closed election at its recorded closing point: a gate
   * whose closed state a master failover lost (written, not yet replicated) is closed
   * again, and anything it took meanwhile lies after the point and is rejected.
   */
  async sealGates(e: ElectionRecord): Promise<ElectionRecord> {
    if (e.status === 'closed') {
      await Promise.all(e.tags.map((t, p) => closeGate(this.redis, t, e.closePoints?.[p] ?? '')));
    }
    return e;
  }

  /**
   * Tells the WebSocket fan-out (sharded channel of the election). Best effort: the
   * change is already stored, and the fan-out also notices it by polling.
   */
  private async announce(type: 'election.opened' | 'election.closed', e: ElectionRecord) {
    const message = lifecycleMessage(type, publicElection(e), this.clock.now());
    await this.redis.spublish(electionChannel(e.id), JSON.stringify(message)).catch(() => {});
    return e;
  }

  /** One fenced lifecycle step; false when the election was not in status `from`. */
  private async transition(
    e: ElectionRecord,
    from: ElectionStatus,
    to: ElectionStatus,
    fields: string[],
    term?: number,
  ): Promise<boolean> {
    const k = electionKeys(e.id);
    const r = await runScript(
      this.redis,
      transitionScript,
      [k.meta, k.leaderFence],
      [term === undefined ? '' : String(term), from, to, ...fields],
    );
    if (r.code === -1)
      throw new ApiError(409, 'fenced', `A newer leader term (${String(r.value)}) has written`);
    return r.code === 1;
  }

  /**
   * Clears an election's votes, tallies and audit log (the caller refuses it in
   * production). A closed election with finalized votes is a published result: it is
   * reset only in explicit test mode. Every reset is first recorded in the election's
   * reset log (what was erased, and each audit chain's head), which the audit API
   * lists and the verifier reports, so a reset is never silent.
   */
  async reset(id: string, opts: ResetOptions): Promise<ElectionRecord> {
    const e = await this.require(id);
    const parts = await Promise.all(
      e.tags.map(async (t) => {
        const k = partitionKeys(t);
        const [stats, head] = await Promise.all([this.redis.hgetall(k.stats), this.redis.get(k.head)]);
        return { finalized: Number(stats['finalized'] ?? 0), rejected: Number(stats['rejected'] ?? 0), head };
      }),
    );
    const finalized = parts.reduce((n, p) => n + p.finalized, 0);
    const rejected = parts.reduce((n, p) => n + p.rejected, 0);
    if (e.status === 'closed' && finalized + rejected > 0 && !opts.testMode) {
      throw new ApiError(
        403,
        'forbidden',
        'This election is closed and its votes are finalized: its result is kept (reset needs test mode)',
      );
    }
    const record: ResetRecord = {
      at: new Date(this.clock.now()).toISOString(),
      by: opts.by,
      status: e.status,
      finalized,
      rejected,
      heads: parts.map((p) => p.head ?? ''),
    };
    await this.redis.rpush(electionKeys(id).resets, JSON.stringify(record));
    await this.redis.hdel(electionKeys(id).meta, 'finalChainHeads'); // the reset record keeps them
    await Promise.all(
      e.tags.map((t) => {
        const k = partitionKeys(t);
        return runScript(
          this.redis,
          partitionResetScript,
          [
            k.votes,
            k.finalized,
            k.voters,
            k.checkpoints,
            k.objections,
            k.head,
            k.tally,
            k.stats,
            k.rejected,
            k.audit,
            k.etally,
          ],
          [],
        );
      }),
    );
    await this.notifyChanged(id); // coordinators drop their cached checkpoints
    return e;
  }

  /**
   * Records the final chain heads of an election whose result is final (the leader does,
   * as it retires the election). Written once: later calls leave the first record.
   */
  async recordFinalHeads(id: string, heads: Record<string, ChainHead>): Promise<void> {
    await this.redis.hsetnx(electionKeys(id).meta, 'finalChainHeads', JSON.stringify(heads));
  }

  /** Every reset of an election, oldest first (the audit trail of resets). */
  async resets(id: string): Promise<ResetRecord[]> {
    const raw = await this.redis.lrange(electionKeys(id).resets, 0, -1);
    return raw.map((r) => JSON.parse(r) as ResetRecord);
  }
}

/** The record fields a transition's field/value pairs set (the ones open writes). */
function recordFields(pairs: string[]): Partial<ElectionRecord> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) out[pairs[i]!] = pairs[i + 1]!;
  return out as Partial<ElectionRecord>;
}

function invalidState(status: ElectionStatus, rule: string): ApiError {
  return new ApiError(409, 'invalid_state', `Election is ${status}; ${rule}`);
}
