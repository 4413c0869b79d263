import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError, notFound } from '../errors';
import { lifecycleMessage } from '../realtime/events';
import {
  activeElectionsKey,
  clusterKeys,
  electionChannel,
  electionIndexKey,
  electionKeys,
  partitionKeys,
} from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';
import {
  type Election,
  type ElectionStatus,
  type NewElection,
  electionIdPattern,
  newElectionId,
  partitionOf,
  partitionTag,
} from './model';

/** The record kept in Redis: the public election plus what the pipeline needs. */
export interface ElectionRecord extends Election {
  /** Hash tag of each partition, index = partition number. */
  tags: string[];
  openedAt: string | null;
}

const transitionScript = defineScript('electionTransition', {
  keys: 2,
  parse: (r) => {
    const a = reply.array('electionTransition', r, 2);
    return { code: reply.integer('electionTransition', a[0]), value: a[1] };
  },
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
    partitions: Number(h['partitions'] ?? 0),
    hideTotalsUntilClosed: h['hideTotals'] === '1',
    closedAt: h['closedAt'] || null,
    openedAt: h['openedAt'] || null,
    tags: JSON.parse(h['tags'] ?? '[]'),
  };
}

/** The public view (API.md "Election object"), without pipeline internals. */
export function publicElection(e: ElectionRecord): Election {
  const { tags: _tags, openedAt: _o, ...rest } = e;
  return rest;
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
    if (input.voters) {
      const byPartition = new Map<number, string[]>();
      for (const v of input.voters) {
        const p = partitionOf(v, P);
        byPartition.set(p, [...(byPartition.get(p) ?? []), v]);
      }
      await Promise.all(
        [...byPartition].map(([p, voters]) => this.redis.sadd(partitionKeys(tags[p]!).eligible, ...voters)),
      );
    }
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
      tags: JSON.stringify(tags),
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
   * Opens an election: status first, then every partition's gate. `term` fences a
   * leader's scheduled transition; an admin request passes none.
   */
  async open(id: string, term?: number): Promise<ElectionRecord> {
    const e = await this.require(id);
    if (e.status === 'open') {
      await this.setGates(e, 'open'); // finish a half-done open
      return e;
    }
    if (e.status !== 'draft')
      throw new ApiError(409, 'invalid_state', `Election is ${e.status}; only a draft opens`);
    await this.transition(e, 'draft', 'open', 'openedAt', term);
    await this.redis.sadd(activeElectionsKey, id);
    await this.setGates(e, 'open');
    await this.notifyChanged(id);
    return this.announce('election.opened', await this.require(id));
  }

  /** Closes an election: gates first (intake stops at once), then the status. */
  async close(id: string, term?: number): Promise<ElectionRecord> {
    const e = await this.require(id);
    if (e.status === 'closed') {
      await this.setGates(e, 'closed');
      return e;
    }
    if (e.status !== 'open')
      throw new ApiError(409, 'invalid_state', `Election is ${e.status}; only an open one closes`);
    await this.setGates(e, 'closed');
    await this.transition(e, 'open', 'closed', 'closedAt', term);
    await this.notifyChanged(id);
    return this.announce('election.closed', await this.require(id));
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

  private async transition(
    e: ElectionRecord,
    from: ElectionStatus,
    to: ElectionStatus,
    stamp: string,
    term?: number,
  ): Promise<void> {
    const k = electionKeys(e.id);
    const r = await runScript(
      this.redis,
      transitionScript,
      [k.meta, k.leaderFence],
      [term === undefined ? '' : String(term), from, to, stamp, new Date(this.clock.now()).toISOString()],
    );
    if (r.code === -1)
      throw new ApiError(409, 'fenced', `A newer leader term (${String(r.value)}) has written`);
    if (r.code === 0 && r.value !== to) {
      throw new ApiError(409, 'invalid_state', `Election is ${String(r.value)}; cannot move it to ${to}`);
    }
  }

  private async setGates(e: ElectionRecord, state: 'open' | 'closed'): Promise<void> {
    await Promise.all(e.tags.map((t) => this.redis.set(partitionKeys(t).gate, state)));
  }

  /** Non-production only: clears an election's votes, tallies and audit log. */
  async reset(id: string): Promise<ElectionRecord> {
    const e = await this.require(id);
    await Promise.all(
      e.tags.map((t) => {
        const k = partitionKeys(t);
        return this.redis.del(
          k.voters,
          k.votes,
          k.checkpoints,
          k.objections,
          k.finalized,
          k.head,
          k.tally,
          k.stats,
          k.rejected,
          k.audit,
        );
      }),
    );
    await this.notifyChanged(id); // coordinators drop their cached checkpoints
    return e;
  }
}
