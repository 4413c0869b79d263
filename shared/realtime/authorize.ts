import { decodeVoteLogEntry } from '../votes/vote-log';
import type { Cluster } from 'ioredis';
import { mayActIn } from '../auth/election-binding';
import type { Role } from '../auth/roles';
import { partitionKeys } from '../redis/keys';
import { WsError } from './protocol';
import type { Topic } from './topics';

/**
 * Who may subscribe to what (API.md "WebSocket"):
 *
 * - `election:<id>`: any authenticated role, for an election that exists;
 * - `vote:<voteId>`: only the voter who cast it, or an admin;
 * - `cluster`: admins only.
 *
 * The rules are pure; the facts they need come through a narrow port.
 */
export interface TopicDirectory {
  electionExists(electionId: string): Promise<boolean>;
  /** The `sub` of the voter who cast `voteId`, or null when there is no such vote. */
  voteOwner(electionId: string, voteId: string): Promise<string | null>;
}

export interface Subscriber {
  sub: string;
  role: Role;
  /** The one election the connection's token is bound to (claim `eid`), if any. */
  eid?: string;
}

/** Resolves when `who` may subscribe to `topic`; else throws {@link WsError} (`forbidden`, `not_found`). */
export async function authorizeTopic(who: Subscriber, topic: Topic, dir: TopicDirectory): Promise<void> {
  // A token bound to one election (voting credential, join code) watches that one only.
  if (who.eid !== undefined && (topic.kind === 'cluster' || !mayActIn(who.eid, topic.electionId))) {
    throw new WsError('wrong_election', 'This token is valid for another election only', topic.name);
  }
  switch (topic.kind) {
    case 'cluster':
      if (who.role !== 'admin')
        throw new WsError('forbidden', 'Only admins may watch the cluster', topic.name);
      return;
    case 'election':
      if (!(await dir.electionExists(topic.electionId))) {
        throw new WsError('not_found', 'Election not found', topic.name);
      }
      return;
    case 'vote': {
      const owner = await dir.voteOwner(topic.electionId, topic.voteId);
      // An admin learns whether the vote exists; anybody else is refused without that hint.
      if (who.role === 'admin') {
        if (owner === null) throw new WsError('not_found', 'Vote not found', topic.name);
        return;
      }
      if (owner === null || owner !== who.sub) {
        throw new WsError(
          'forbidden',
          'Only the voter who cast this vote or an admin may watch it',
          topic.name,
        );
      }
      return;
    }
  }
}

/**
 * What the directory needs of the election store: an election's partition hash tags.
 * A narrow port, so the realtime layer does not import the domain.
 */
export interface ElectionTags {
  get(electionId: string): Promise<{ tags: readonly string[] } | null>;
}

/** The Redis-backed directory: election records and partition vote logs. */
export function redisTopicDirectory(redis: Cluster, elections: ElectionTags): TopicDirectory {
  return {
    async electionExists(electionId) {
      return (await elections.get(electionId)) !== null;
    },
    async voteOwner(electionId, voteId) {
      const e = await elections.get(electionId);
      if (!e) return null;
      const [, p = '', streamId = ''] = voteId.split('.');
      const tag = e.tags[Number(p)];
      if (!tag) return null;
      const rows = await redis.xrange(partitionKeys(tag).votes, streamId, streamId);
      const fields = rows[0]?.[1];
      if (!fields) return null;
      return decodeVoteLogEntry(fields).voter || null;
    },
  };
}
