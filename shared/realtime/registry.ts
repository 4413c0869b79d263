import type { Cluster } from 'ioredis';
import { isRole, type Role } from '../auth/roles';
import { type RealtimeKeys, realtimeKeys, realtimeKeysFor } from './keys';
import { parseTopic, type Topic } from './topics';

/**
 * The WebSocket connection registry in Redis: who is connected (one hash per
 * connection) and who listens to what (one sorted set per topic). Everything expires:
 *
 * - A connection record expires at the connection's longest possible life (API
 *   Gateway closes every connection after 2 h), so a connection whose `$disconnect`
 *   never ran (a crash, a lost event) cannot outlive it.
 * - Topic members are scored with when their subscription ends: the connection's
 *   expiry or its token's, whichever comes first. Readers (delivery, the fan-out's
 *   counts) ignore and prune members past it, so nothing reaches a connection whose
 *   token has expired; the topic key itself expires with its last member.
 * - Each subject (token `sub`) indexes its connections, so revoking a user's sessions
 *   ends their subscriptions at once ({@link ConnectionRegistry.endSubscriptionsOf}).
 * - A post that answers 410 (gone) removes the connection at once.
 *
 * Writes to one key go in one MULTI, so a key never exists without its expiry. A
 * connection and its topics live in different slots: a `$disconnect` racing a
 * `subscribe` can leave a stray member, which then only lives until its expiry score.
 */
export interface ConnectionRecord {
  id: string;
  sub: string;
  role: Role;
  connectedAt: number;
  /** When the registry forgets this connection (ms). */
  expiresAt: number;
  /** The token's `exp` (ms): subscriptions are refused, and deliveries stop, after it. */
  tokenExpiresAt: number;
  /** The token's session version (claim `sv`, 0 when absent): checked against revocations. */
  sv: number;
  /** The election the token is bound to (claim `eid`), if any: authorizeTopic enforces it. */
  eid?: string;
  /** Topic names this connection subscribes to. */
  topics: string[];
}

export interface RegistryOptions {
  /** Longest life of a connection (ms); API Gateway's limit is 2 h. */
  connectionTtlMs: number;
  /** Cluster whose registry this is; default: this process's `CLUSTER_NAME`. */
  cluster?: string;
}

export const defaultRegistryOptions: RegistryOptions = { connectionTtlMs: 2 * 60 * 60 * 1000 };

const TOPIC_FIELD = 't:';

type MultiResult = [Error | null, unknown][] | null;

function check(results: MultiResult, what: string): unknown[] {
  if (!results) throw new Error(`${what}: transaction aborted`);
  return results.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

export class ConnectionRegistry {
  private readonly keys: RealtimeKeys;

  constructor(
    private readonly redis: Cluster,
    private readonly options: RegistryOptions = defaultRegistryOptions,
  ) {
    this.keys = options.cluster === undefined ? realtimeKeys : realtimeKeysFor(options.cluster);
  }

  private topicKey(topic: Topic): string {
    return topic.kind === 'vote'
      ? this.keys.voteTopic(topic.electionId, topic.voteId)
      : this.keys.topic(topic.name);
  }

  /** Records a new connection (the `$connect` route). */
  async add(
    id: string,
    who: { sub: string; role: Role; exp: number; sv?: number; eid?: string },
    nowMs: number,
  ): Promise<ConnectionRecord> {
    const record: ConnectionRecord = {
      id,
      sub: who.sub,
      role: who.role,
      connectedAt: nowMs,
      expiresAt: nowMs + this.options.connectionTtlMs,
      tokenExpiresAt: who.exp * 1000,
      sv: who.sv ?? 0,
      ...(who.eid === undefined ? {} : { eid: who.eid }),
      topics: [],
    };
    const key = this.keys.connection(id);
    const subjectKey = this.keys.subject(who.sub);
    check(
      await this.redis
        .multi()
        .hset(key, {
          sub: record.sub,
          role: record.role,
          connectedAt: String(record.connectedAt),
          expiresAt: String(record.expiresAt),
          tokenExpiresAt: String(record.tokenExpiresAt),
          sv: String(record.sv),
          ...(record.eid === undefined ? {} : { eid: record.eid }),
        })
        .pexpireat(key, record.expiresAt)
        .exec(),
      'registry.add',
    );
    check(
      await this.redis
        .multi()
        .zadd(subjectKey, record.expiresAt, id)
        .pexpireat(subjectKey, record.expiresAt, 'NX')
        .pexpireat(subjectKey, record.expiresAt, 'GT')
        .exec(),
      'registry.add',
    );
    return record;
  }

  /** The connection's record, or null when it is unknown (never connected, gone or expired). */
  async get(id: string): Promise<ConnectionRecord | null> {
    const h = await this.redis.hgetall(this.keys.connection(id));
    const role = h['role'];
    if (!h['sub'] || !isRole(role)) return null;
    return {
      id,
      sub: h['sub'],
      role,
      connectedAt: Number(h['connectedAt'] ?? 0),
      expiresAt: Number(h['expiresAt'] ?? 0),
      tokenExpiresAt: Number(h['tokenExpiresAt'] ?? 0),
      sv: Number(h['sv'] ?? 0) || 0,
      ...(h['eid'] ? { eid: h['eid'] } : {}),
      topics: Object.keys(h)
        .filter((f) => f.startsWith(TOPIC_FIELD))
        .map((f) => f.slice(TOPIC_FIELD.length)),
    };
  }

  /** Adds `conn` to `topic`'s subscribers (idempotent). */
  async subscribe(conn: ConnectionRecord, topic: Topic): Promise<void> {
    const connKey = this.keys.connection(conn.id);
    const key = this.topicKey(topic);
    // The subscription ends with the connection or with its token, whichever is first.
    const exp = Math.min(conn.expiresAt, conn.tokenExpiresAt);
    // The connection first: if it was removed meanwhile, this recreates a record that
    // still expires with the connection, and the topic member below does too.
    check(
      await this.redis
        .multi()
        .hset(connKey, `${TOPIC_FIELD}${topic.name}`, '1')
        .pexpireat(connKey, conn.expiresAt)
        .exec(),
      'registry.subscribe',
    );
    const tx = this.redis
      .multi()
      .zadd(key, exp, conn.id)
      // NX sets an expiry on a new key; GT moves it later for a longer-lived member.
      .pexpireat(key, exp, 'NX')
      .pexpireat(key, exp, 'GT');
    if (topic.kind === 'vote') {
      const watch = this.keys.voteWatch(topic.electionId);
      tx.zadd(watch, 'GT', exp, topic.voteId).pexpireat(watch, exp, 'NX').pexpireat(watch, exp, 'GT');
    }
    check(await tx.exec(), 'registry.subscribe');
  }

  /** Removes `connectionId` from `topic` (idempotent). */
  async unsubscribe(connectionId: string, topic: Topic, nowMs: number): Promise<void> {
    await this.redis.hdel(this.keys.connection(connectionId), `${TOPIC_FIELD}${topic.name}`);
    await this.leaveTopic(connectionId, topic, nowMs);
  }

  private async leaveTopic(connectionId: string, topic: Topic, nowMs: number): Promise<void> {
    const key = this.topicKey(topic);
    if (topic.kind !== 'vote') {
      await this.redis.zrem(key, connectionId);
      return;
    }
    const r = check(
      await this.redis
        .multi()
        .zrem(key, connectionId)
        .zremrangebyscore(key, '-inf', `(${nowMs}`)
        .zcard(key)
        .exec(),
      'registry.unsubscribe',
    );
    // Nobody left watching this vote: the fan-out may stop announcing it.
    if (Number(r[2]) === 0) await this.redis.zrem(this.keys.voteWatch(topic.electionId), topic.voteId);
  }

  /**
   * Forgets a connection and all its subscriptions (`$disconnect`, or a post that
   * answered 410). Returns how many subscriptions it had.
   */
  async remove(connectionId: string, nowMs: number): Promise<number> {
    const key = this.keys.connection(connectionId);
    const h = await this.redis.hgetall(key);
    const topics = Object.keys(h)
      .filter((f) => f.startsWith(TOPIC_FIELD))
      .map((f) => parseTopic(f.slice(TOPIC_FIELD.length)))
      .filter((t): t is Topic => t !== null);
    await Promise.all(topics.map((t) => this.leaveTopic(connectionId, t, nowMs)));
    await this.redis.del(key);
    if (h['sub']) await this.redis.zrem(this.keys.subject(h['sub']), connectionId);
    return topics.length;
  }

  /**
   * Ends every subscription of a token subject's connections (its sessions were revoked
   * or the user disabled): nothing is delivered to them from now on. The connection
   * records stay until they disconnect or expire, so a later subscribe is refused with
   * the reason (`token_revoked`) rather than as an unknown connection. Returns the
   * subject's connections and how many subscriptions ended.
   */
  async endSubscriptionsOf(
    sub: string,
    nowMs: number,
  ): Promise<{ connections: string[]; subscriptions: number }> {
    const ids = await this.redis.zrange(this.keys.subject(sub), '0', '-1');
    const counts = await Promise.all(ids.map((id) => this.endSubscriptions(id, nowMs)));
    return { connections: ids, subscriptions: counts.reduce((a, b) => a + b, 0) };
  }

  private async endSubscriptions(connectionId: string, nowMs: number): Promise<number> {
    const key = this.keys.connection(connectionId);
    const fields = (await this.redis.hkeys(key)).filter((f) => f.startsWith(TOPIC_FIELD));
    const topics = fields
      .map((f) => parseTopic(f.slice(TOPIC_FIELD.length)))
      .filter((t): t is Topic => t !== null);
    await Promise.all(topics.map((t) => this.leaveTopic(connectionId, t, nowMs)));
    if (fields.length > 0) await this.redis.hdel(key, ...fields);
    return topics.length;
  }

  /** Live subscribers of a topic; prunes members whose connection has expired. */
  async subscribers(topicName: string, nowMs: number): Promise<string[]> {
    const topic = parseTopic(topicName);
    if (!topic) return [];
    const key = this.topicKey(topic);
    const r = check(
      await this.redis
        .multi()
        .zremrangebyscore(key, '-inf', `(${nowMs}`)
        .zrangebyscore(key, nowMs, '+inf')
        .exec(),
      'registry.subscribers',
    );
    return (r[1] as string[] | null) ?? [];
  }

  /** How many live subscribers a topic has (the fan-out skips work nobody would see). */
  async countSubscribers(topicName: string, nowMs: number): Promise<number> {
    const topic = parseTopic(topicName);
    if (!topic) return 0;
    return this.redis.zcount(this.topicKey(topic), nowMs, '+inf');
  }

  /** Which of `voteIds` (all of one election) somebody watches right now. */
  async watchedVotes(electionId: string, voteIds: string[], nowMs: number): Promise<Set<string>> {
    const watched = new Set<string>();
    const key = this.keys.voteWatch(electionId);
    for (let i = 0; i < voteIds.length; i += 1000) {
      const chunk = voteIds.slice(i, i + 1000);
      const scores = (await this.redis.zmscore(key, ...chunk)) as (string | null)[];
      chunk.forEach((id, j) => {
        const s = scores[j];
        if (s !== null && s !== undefined && Number(s) >= nowMs) watched.add(id);
      });
    }
    return watched;
  }
}
