import type { Cluster } from 'ioredis';
import type { Clock } from '../../shared/clock';
import type { Election } from '../../shared/elections/model';
import { type ElectionRecord, ElectionStore, publicElection } from '../../shared/elections/store';
import { type Logger, errorFields } from '../../shared/logger';
import type { FanoutStatus } from '../../shared/membership/coordinator-status';
import {
  batchVoteEvents,
  batchVoteIds,
  electionEvent,
  lifecycleMessage,
  parseChannelMessage,
} from '../../shared/realtime/channel-messages';
import { MAX_BROADCAST_SHARDS, type RealtimeEvent, tallyEvent } from '../../shared/realtime/events';
import { realtimeKeys } from '../../shared/realtime/keys';
import { ConnectionRegistry } from '../../shared/realtime/registry';
import { electionTopic } from '../../shared/realtime/topics';
import { electionChannel, eventChannels } from '../../shared/redis/keys';
import { readResults } from '../../shared/votes/read';
import type { LeadershipView } from '../leadership';
import type { FanoutConfig } from './config';
import { ReplayBuffer } from './replay-buffer';
import { Outbox } from './outbox';
import { TallyCoalescer } from './tally';
import { type BroadcastTransport, lambdaTransport } from './transport';

export interface FanoutDeps {
  nodeId: string;
  /** A sharded-subscriber client of its own (the fan-out follows many channels); disconnected by the owner. */
  redis: Cluster;
  clock: Clock;
  log: Logger;
  partitions: number;
  /** This coordinator's leadership, pushed on every change: only the leader fans out. */
  leadership: LeadershipView;
  config: FanoutConfig;
  /** Defaults to invoking the `broadcast` function. */
  transport?: BroadcastTransport;
}

/**
 * Turns pipeline and cluster events into API.md's WebSocket events and hands them to
 * the `broadcast` function.
 *
 * **Who fans out: the leader, for everything.** Every coordinator subscribes (sharded
 * pub/sub) to the cluster channel and to every active election's channel and keeps the
 * same state (elections, pending tallies, recent messages), but only the current
 * leader sends. So each event goes out once in steady state, the per-election tally
 * coalescing lives in one place, and a takeover needs no subscription work: the new
 * leader already listens. It then re-sends the last few seconds of messages (the
 * handover gap) and a fresh full tally of every active election: delivery is
 * at-least-once around a leader change, and every event is idempotent for a client
 * (full totals; a vote's final status).
 *
 * Partition owners were the alternative for vote events (they finalize them), but
 * a batch already names every vote it decided, a tally needs all partitions anyway,
 * and ownership moves more often than leadership.
 */
export class Fanout {
  private readonly redis: Cluster;
  private readonly registry: ConnectionRegistry;
  private readonly store: ElectionStore;
  private readonly tally: TallyCoalescer;
  private readonly replay: ReplayBuffer;
  private readonly outbox: Outbox;
  private readonly elections = new Map<string, ElectionRecord>();
  /** Lifecycle events already seen or sent ("<election>|<type>"), so polling does not repeat them. */
  private readonly announced = new Map<string, number>();
  /** Nodes known to have joined: a new leader re-announces every node; those are dropped. */
  private readonly knownNodes = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly checkingAck = new Set<string>();
  /** Into how many shards the delivery each election awaits was split (its ack keys). */
  private readonly ackShards = new Map<string, number>();
  private clusterSubscribed = false;
  private leading = false;
  private running = false;
  private unsubscribe: () => void = () => {};
  private refreshing = false;
  private seq = 0;
  private readonly counts = {
    tallies: 0,
    latestOnly: 0,
    votes: 0,
    lifecycle: 0,
    cluster: 0,
    replays: 0,
    takeovers: 0,
  };

  constructor(private readonly d: FanoutDeps) {
    this.redis = d.redis;
    this.registry = new ConnectionRegistry(this.redis);
    this.store = new ElectionStore(this.redis, d.clock, d.partitions);
    this.tally = new TallyCoalescer(d.config.tallyIntervalMs, d.config.tallyAckTimeoutMs);
    this.replay = new ReplayBuffer(d.config.replayWindowMs);
    this.outbox = new Outbox(
      d.transport ?? lambdaTransport(d.config),
      d.nodeId,
      d.config.batchMs,
      d.log,
      () => d.clock.now(),
    );
  }

  start(): void {
    this.running = true;
    this.redis.on('smessage', (channel: string, message: string) => {
      if (!this.running) return;
      this.replay.push(this.d.clock.now(), channel, message);
      this.onMessage(channel, message, false).catch((err: unknown) =>
        this.d.log.debug('fanout message failed', { channel, ...errorFields(err) }),
      );
    });
    // Leadership is pushed: a takeover starts the instant this node becomes leader, so
    // an event published at that instant is sent at once, not saved by a later replay.
    this.unsubscribe = this.d.leadership.onChange((now) => this.lead(now.role === 'leader'));
    this.lead(this.d.leadership.current().role === 'leader');
    void this.refresh();
    this.timers.push(setInterval(() => void this.refresh(), this.d.config.refreshMs));
    this.timers.push(setInterval(() => this.tick(), 20));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe();
    for (const t of this.timers) clearInterval(t);
    await this.outbox.drain().catch(() => {});
  }

  status(): FanoutStatus {
    return {
      leading: this.leading,
      elections: this.elections.size,
      clusterSubscribed: this.clusterSubscribed,
      sent: { ...this.counts },
      invocations: this.outbox.invocations,
      events: this.outbox.events,
      superseded: this.outbox.superseded,
      invokeFailures: this.outbox.failures,
      lastInvokeError: this.outbox.lastError,
    };
  }

  // ---- leadership and timing -----------------------------------------------------

  /** Takes over when this node becomes leader; stops sending when it no longer is. */
  private lead(lead: boolean): void {
    if (!this.running) return;
    if (lead && !this.leading) {
      this.leading = true;
      this.takeOver();
    } else if (!lead && this.leading) {
      this.leading = false;
      this.d.log.info('fan-out handed over');
    }
  }

  /** Coalesced tallies go out on their own schedule (≥ tallyIntervalMs apart per election). */
  private tick(): void {
    if (!this.running) return;
    if (this.leading) this.sendDueTallies();
  }

  private takeOver(): void {
    this.counts.takeovers++;
    const recent = this.replay.recent(this.d.clock.now());
    this.d.log.info('fan-out taken over', { replaying: recent.length, elections: this.elections.size });
    for (const m of recent) {
      this.counts.replays++;
      this.onMessage(m.channel, m.text, true).catch(() => {});
    }
    for (const id of this.elections.keys()) this.tally.markDirty(id);
  }

  private sendDueTallies(): void {
    const now = this.d.clock.now();
    // An owed election is not dirty: nothing else would ask whether its delivery ended.
    for (const { id, seq } of this.tally.pendingAcks(now)) this.checkAck(id, seq);
    for (const id of this.tally.ready(now)) {
      const awaited = this.tally.blockedBy(id, now);
      // A delivery under way: read anyway, so that it posts the newest totals to the
      // connections it has not reached yet; the election is owed a delivery after it.
      if (awaited !== null) this.checkAck(id, awaited);
      this.tally.begin(id, now);
      void this.sendTally(id, awaited === null).then(
        (seq) => this.tally.end(id, seq, this.d.clock.now()),
        (err: unknown) => {
          this.d.log.debug('tally failed', { election: id, ...errorFields(err) });
          this.tally.end(id, null, this.d.clock.now(), true);
        },
      );
    }
  }

  /** Has the broadcast function finished delivering tally `seq` (every shard)? One check in flight per election. */
  private checkAck(id: string, seq: string): void {
    if (this.checkingAck.has(id)) return;
    this.checkingAck.add(id);
    const shards = this.ackShards.get(id) ?? 1;
    const keys =
      shards === 1
        ? [realtimeKeys.tallyAck(id)]
        : Array.from({ length: shards }, (_, k) => realtimeKeys.tallyAck(id, k));
    this.redis
      .mget(...keys)
      .then((values) => {
        if (values.every((v) => v === seq)) this.tally.acked(id, seq);
      })
      .catch(() => {})
      .finally(() => this.checkingAck.delete(id));
  }

  /**
   * Reads one election's full results and makes them its newest tally (the key a
   * delivery under way posts from); with `deliver`, also sends them to every
   * subscriber, split into shards of at most `shardSize` subscribers, each its own
   * invocation (as Lambda scales a large fan-out out). The delivery's seq, or null when
   * nothing was sent.
   */
  private async sendTally(id: string, deliver = true): Promise<string | null> {
    const now = this.d.clock.now();
    const subscribers = await this.registry.countSubscribers(electionTopic(id), now);
    if (subscribers === 0) return null;
    const record = (await this.store.get(id)) ?? this.elections.get(id);
    if (!record) return null;
    const results = await readResults(this.redis, this.d.clock, record);
    const seq = `${this.d.nodeId}:${++this.seq}`;
    const event = tallyEvent({ ...results, seq });
    // Written before the invocation: a delivery never finds an older tally here than its own.
    await this.redis.set(realtimeKeys.tallyLatest(id), JSON.stringify(event), 'PX', 60_000);
    if (!deliver) {
      this.counts.latestOnly++;
      return null;
    }
    this.counts.tallies++;
    const shards = Math.min(
      MAX_BROADCAST_SHARDS,
      Math.max(1, Math.ceil(subscribers / Math.max(1, this.d.config.shardSize))),
    );
    this.ackShards.set(id, shards);
    if (shards === 1) {
      this.outbox.add([event], { key: realtimeKeys.tallyAck(id), value: seq, ttlMs: 60_000 });
      return seq;
    }
    for (let k = 0; k < shards; k++) {
      this.outbox.sendNow({
        events: [event],
        shard: { index: k, count: shards },
        acks: [{ key: realtimeKeys.tallyAck(id, k), value: seq, ttlMs: 60_000 }],
      });
    }
    return seq;
  }

  /**
   * Sends events while leading. Events of topics nobody subscribes to are dropped
   * first (one count per topic; they are rare: lifecycle and cluster events), so an
   * idle system invokes nothing. Vote events come pre-filtered (`filtered`).
   */
  private emit(events: RealtimeEvent[], filtered = false): void {
    if (events.length === 0 || !this.leading) return;
    if (filtered) {
      this.outbox.add(events);
      return;
    }
    const now = this.d.clock.now();
    const topics = [...new Set(events.map((e) => e.topic))];
    Promise.all(topics.map((t) => this.registry.countSubscribers(t, now)))
      .then((counts) => {
        const live = new Set(topics.filter((_, i) => counts[i]! > 0));
        const out = events.filter((e) => live.has(e.topic));
        if (out.length > 0) this.outbox.add(out);
      })
      .catch((err: unknown) => this.d.log.debug('fanout emit failed', errorFields(err)));
  }

  // ---- messages ------------------------------------------------------------------

  private async onMessage(channel: string, text: string, replaying: boolean): Promise<void> {
    const m = parseChannelMessage<Election>(text, channel === eventChannels.cluster);
    if (!m) return;
    switch (m.kind) {
      case 'cluster': {
        const node = typeof m.event.data['node'] === 'string' ? m.event.data['node'] : null;
        if (m.event.type === 'node.joined' && node) {
          if (this.knownNodes.has(node) && !replaying) return;
          this.knownNodes.add(node);
        }
        if (m.event.type === 'node.left' && node) this.knownNodes.delete(node);
        if (this.leading) this.counts.cluster++;
        this.emit([m.event]);
        return;
      }
      case 'lifecycle': {
        const { message } = m;
        const known = this.elections.get(message.electionId);
        if (known) this.elections.set(message.electionId, { ...known, ...message.election });
        this.tally.markDirty(message.electionId);
        const key = `${message.electionId}|${message.type}`;
        if (this.announced.has(key) && !replaying) return;
        this.announced.set(key, this.d.clock.now());
        if (this.leading) this.counts.lifecycle++;
        this.emit([electionEvent(message)]);
        return;
      }
      case 'batch': {
        const { batch } = m;
        this.tally.markDirty(batch.electionId);
        if (!this.leading) return; // a follower keeps the message for a takeover replay
        const ids = batchVoteIds(batch);
        if (ids.length === 0) return;
        const watched = await this.registry.watchedVotes(batch.electionId, ids, this.d.clock.now());
        if (watched.size === 0) return;
        const events = batchVoteEvents(batch, watched);
        this.counts.votes += events.length;
        this.emit(events, true);
        return;
      }
    }
  }

  // ---- elections -----------------------------------------------------------------

  /** Follows the active elections: channel subscriptions, and lifecycle changes missed on them. */
  private async refresh(): Promise<void> {
    if (!this.running || this.refreshing) return;
    this.refreshing = true;
    try {
      if (!this.clusterSubscribed) {
        await this.redis.ssubscribe(eventChannels.cluster);
        this.clusterSubscribed = true;
      }
      const ids = new Set(await this.store.activeIds());
      for (const id of [...this.elections.keys()]) {
        if (!ids.has(id)) await this.untrack(id);
      }
      const records = await Promise.all([...ids].map((id) => this.store.get(id)));
      for (const record of records) {
        if (!record) continue;
        const previous = this.elections.get(record.id);
        if (!previous) {
          // Subscribe before comparing states, so nothing falls between the two.
          await this.redis.ssubscribe(electionChannel(record.id));
        }
        this.elections.set(record.id, record);
        this.reconcile(record, previous);
      }
      const now = this.d.clock.now();
      for (const [k, at] of this.announced) if (now - at > 10 * 60_000) this.announced.delete(k);
    } catch (err) {
      this.d.log.debug('fanout refresh failed', errorFields(err));
    } finally {
      this.refreshing = false;
    }
  }

  /**
   * Announces a lifecycle change this node did not hear about on the channel (it was
   * not subscribed yet: an election is created and opened within a refresh), if it is
   * recent; the channel message, when it comes too, is dropped as already announced.
   */
  private reconcile(record: ElectionRecord, previous: ElectionRecord | undefined): void {
    const now = this.d.clock.now();
    const recent = (iso: string | null): boolean =>
      iso !== null && now - Date.parse(iso) <= this.d.config.lifecycleGraceMs;
    const opened = previous
      ? previous.status === 'draft' && record.status !== 'draft'
      : recent(record.openedAt);
    const closed = previous
      ? previous.status !== 'closed' && record.status === 'closed'
      : recent(record.closedAt);
    if (opened && record.status !== 'draft') this.announce('election.opened', record, record.openedAt);
    if (closed) this.announce('election.closed', record, record.closedAt);
  }

  private announce(
    type: 'election.opened' | 'election.closed',
    record: ElectionRecord,
    at: string | null,
  ): void {
    const key = `${record.id}|${type}`;
    if (this.announced.has(key)) return;
    const now = this.d.clock.now();
    this.announced.set(key, now);
    this.tally.markDirty(record.id);
    const message = lifecycleMessage(type, publicElection(record), at ? Date.parse(at) : now);
    if (this.leading) this.counts.lifecycle++;
    this.emit([electionEvent(message)]);
  }

  private async untrack(id: string): Promise<void> {
    // Retired (final): make sure its last tally went out before forgetting it.
    if (this.leading && this.tally.isDirty(id)) {
      await this.sendTally(id).catch(() => null);
    }
    this.elections.delete(id);
    this.tally.forget(id);
    this.ackShards.delete(id);
    for (const type of ['election.opened', 'election.closed']) this.announced.delete(`${id}|${type}`);
    await this.redis.sunsubscribe(electionChannel(id)).catch(() => {});
  }
}
