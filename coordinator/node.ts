import { indexExistingUsers } from '../shared/auth/user-directory';
import type { Server } from 'node:http';
import type { Cluster } from 'ioredis';
import { SkewedClock, systemClock } from '../shared/clock';
import { ClockDiscipline } from '../shared/clock-sync';
import { type RaftMessage, RaftNode, type RaftOutput } from '../shared/consensus/raft';
import { withDeadline } from '../shared/deadline';
import { type Logger, createLogger, errorFields } from '../shared/logger';
import type { CoordinatorStatus } from '../shared/membership/coordinator-status';
import { type MemberView, membershipTiming } from '../shared/membership/member';
import { monotonicClock } from '../shared/monotonic';
import { clusterKeys, clusterName } from '../shared/redis/keys';
import { runScript } from '../shared/redis/scripts';
import { adminRoutes } from './admin-routes';
import { startAdminServer } from './admin-server';
import { ClockSyncDriver } from './clock-sync-driver';
import { leaderRenewScript } from './cluster-scripts';
import type { CoordinatorConfig } from './config';
import { publishClusterEvent } from './events';
import { loadFanoutConfig } from './fanout/config';
import { Fanout } from './fanout/fanout';
import { Leadership } from './leadership';
import { Membership } from './membership';
import { type CoordinatorMetrics, coordinatorMetrics } from './node-metrics';
import { PeerVerifier } from './peer-auth';
import { type ElectionLedger, RedisElectionLedger, ledgerBacks } from './peer-ledger';
import { HttpPeerTransport, type PeerPort } from './peer-transport';
import { Pipeline } from './pipeline/pipeline';
import { coordinatorRedis } from './redis-clients';

/** Code version reported by membership and /status. */
export const VERSION = '0.1.0';

/**
 * One coordinator process: a thin driver, as etcd's RawNode is for its raft core. It
 * wires the deterministic election state machine and the clock discipline to Redis,
 * timers and the admin port, and tells the vote pipeline and the fan-out when its role
 * changes. Everything that decides lives in shared/; the peer transport
 * (peer-transport.ts), the admin routes (admin-routes.ts), the metrics
 * (node-metrics.ts), the Redis clients (redis-clients.ts) and the clock-sync exchange
 * (clock-sync-driver.ts) are their own modules;
 * this class only moves messages and results around.
 */
export class CoordinatorNode {
  readonly log: Logger;
  readonly redis: Cluster;
  /** Wall clock as this node believes it (artificial skew only with QV_TEST_MODE=1). */
  readonly rawClock: SkewedClock;
  /** The synchronized clock: every time judgement in this process reads it. */
  readonly clock: ClockDiscipline;
  raft!: RaftNode;
  private readonly membership: Membership;
  private readonly m: CoordinatorMetrics = coordinatorMetrics({
    pipeline: () => this.pipeline?.status(),
    fanout: () => this.fanout?.status(),
  });
  /** Campaigns the state machine reported so far (the metric counts the increments). */
  private electionsCounted = 0;
  /** This node's role, pushed to the pipeline and the fan-out on every change. */
  private readonly leadership = new Leadership();
  private server: Server | undefined;
  private timers: NodeJS.Timeout[] = [];
  private members: MemberView[] = [];
  private knownAlive = new Set<string>();
  private storeHealthy = false;
  private lastLeader: string | null = null;
  private stopping = false;
  private readonly startedAt: number;
  /** A second connection set for the vote pipeline, so its traffic never delays heartbeats. */
  private readonly pipelineRedis: Cluster;
  /** Sharded subscriber for the elections-changed channel (the pipeline's wake-up call). */
  private readonly pipelineEvents: Cluster;
  private pipeline: Pipeline | undefined;
  /** WebSocket fan-out (sends only while this node leads; see coordinator/fanout/fanout.ts). */
  private fanout: Fanout | undefined;
  /** The fan-out's sharded subscriber (it follows every active election's channel). */
  private fanoutRedis: Cluster | undefined;
  /** How this node reaches its peers (signed election messages, signed clock readings). */
  private readonly peers: PeerPort;
  /** Authenticates (and de-duplicates) what peers send to `POST /raft`. */
  private readonly verifier: PeerVerifier;
  /** The durable election record (votes, terms): the state machine's store port. */
  private readonly ledger: ElectionLedger;
  /** Synchronizes this node's clock with the leader's and reports what happens. */
  private readonly clockSync: ClockSyncDriver;
  /** Store checks in flight, so a burst of far-ahead messages costs at most one lookup each. */
  private readonly verifying = new Set<string>();

  /**
   * `ports.ledger` replaces the Redis election ledger and `ports.peers` the HTTP peer
   * transport (tests); everything else about the node is configured by `config`.
   */
  constructor(
    readonly config: CoordinatorConfig,
    ports: { ledger?: ElectionLedger; peers?: PeerPort } = {},
  ) {
    this.log = createLogger({ component: 'coordinator', node: config.nodeId });
    this.rawClock = new SkewedClock(systemClock, config.clockSkewMs, config.clockDriftPpm);
    this.clock = new ClockDiscipline(this.rawClock, { maxOffsetMs: config.clockMaxOffsetMs });
    this.startedAt = systemClock.now();
    this.redis = coordinatorRedis(config, 'control');
    this.pipelineRedis = coordinatorRedis(config, 'pipeline');
    this.pipelineEvents = coordinatorRedis(config, 'subscriber');
    this.membership = new Membership(
      this.redis,
      {
        id: config.nodeId,
        adminUrl: config.advertiseUrl,
        startedAt: this.startedAt,
        version: VERSION,
        pid: process.pid,
      },
      this.clock,
    );
    // Peer-auth timestamps use the OS clock: the artificial test skew must not make
    // honest peers look like replays.
    this.peers =
      ports.peers ??
      new HttpPeerTransport({
        selfId: config.nodeId,
        secret: config.clusterSecret,
        cluster: clusterName,
        now: () => systemClock.now(),
        addressOf: (id) => config.peerUrls[id] ?? this.members.find((x) => x.id === id)?.adminUrl,
      });
    this.verifier = new PeerVerifier({
      secret: config.clusterSecret,
      cluster: clusterName,
      windowMs: config.peerWindowMs,
      now: () => systemClock.now(),
    });
    this.ledger = ports.ledger ?? new RedisElectionLedger(this.redis, config.members);
    this.clockSync = new ClockSyncDriver({
      selfId: config.nodeId,
      clock: this.clock,
      peers: this.peers,
      metrics: this.m,
      log: this.log,
      publish: (type, data) => void this.publish(type, data),
    });
  }

  private makeRaft(term: number): RaftNode {
    const config = this.config;
    return new RaftNode(
      {
        id: config.nodeId,
        members: config.members,
        electionTimeoutMinMs: config.electionTimeoutMinMs,
        electionTimeoutMaxMs: config.electionTimeoutMaxMs,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        leaseMs: config.leaseMs,
        maxTermJump: config.maxTermJump,
        random: Math.random,
      },
      { term, now: monotonicClock.now() },
    );
  }

  get id(): string {
    return this.config.nodeId;
  }

  async start(): Promise<void> {
    // A restart must never go back in term: load the term this node persisted.
    const persisted = await withDeadline(this.redis.get(clusterKeys.nodeTerm(this.id)), 3000).catch(
      () => null,
    );
    this.raft = this.makeRaft(Number(persisted ?? 0) || 0);
    this.server = await startAdminServer(
      this.config.adminPort,
      adminRoutes({
        id: this.id,
        storeHealthy: () => this.storeHealthy,
        role: () => this.raft.role,
        status: () => this.status(),
        metrics: () => this.m.registry.metrics(),
        now: () => this.clock.now(),
        clusterSecret: this.config.clusterSecret,
        verifier: this.verifier,
        onRaftMessage: (msg) => this.apply(this.raft.step(msg, monotonicClock.now())),
        // Skew injection is a test tool: without QV_TEST_MODE=1 the route does not exist.
        ...(this.config.testMode ? { testClock: this.rawClock } : {}),
        log: this.log,
      }),
      this.config.adminHost,
    );
    await this.heartbeatOnce();
    // Users made before the user directory existed get into it (GET /users never writes).
    void indexExistingUsers(this.redis).catch((err: unknown) =>
      this.log.warn('user directory not indexed', errorFields(err)),
    );
    this.every(membershipTiming.heartbeatMs, () => this.heartbeatOnce());
    this.every(this.config.tickMs, () => this.apply(this.raft.tick(monotonicClock.now())));
    this.every(this.config.heartbeatIntervalMs, () => this.renewLeadership());
    this.every(this.config.clockSyncMs, () =>
      this.clockSync.sync(this.raft.leader, (id) => this.members.some((x) => x.id === id)),
    );
    this.every(50, () => this.clockSync.tick());
    this.pipeline = new Pipeline({
      redis: this.pipelineRedis,
      clock: this.clock,
      nodeId: this.id,
      committee: this.config.members,
      partitions: this.config.partitions,
      log: this.log,
      inSync: () => this.clock.inSync,
      // Members that judge and own partitions: healthy, and not out of sync by their own
      // heartbeat (an out-of-sync node abstains, so the next in line takes its place).
      healthyMembers: () =>
        this.members.filter((x) => x.health === 'healthy' && x.state?.inSync !== false).map((x) => x.id),
      leadership: this.leadership,
      subscriber: this.pipelineEvents,
      finalizeWriteDelayMs: this.config.finalizeWriteDelayMs,
      observer: this.m.pipeline,
    });
    this.pipeline.start();
    const fanoutConfig = loadFanoutConfig();
    if (fanoutConfig.enabled) {
      this.fanoutRedis = coordinatorRedis(this.config, 'subscriber');
      this.fanout = new Fanout({
        nodeId: this.id,
        redis: this.fanoutRedis,
        clock: this.clock,
        log: this.log,
        partitions: this.config.partitions,
        leadership: this.leadership,
        config: fanoutConfig,
      });
      this.fanout.start();
    }
    this.log.info('coordinator started', {
      adminPort: this.config.adminPort,
      members: this.config.members,
      skewMs: this.config.clockSkewMs,
    });
  }

  /** Graceful stop: hand leadership over, deregister at once, close everything. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.raft.role === 'leader') {
      const out = this.raft.handover(monotonicClock.now());
      await Promise.all(out.map((o) => (o.type === 'send' ? this.send(o.message) : Promise.resolve()))).catch(
        () => {},
      );
    }
    await withDeadline(this.pipeline?.stop() ?? Promise.resolve(), 2000).catch(() => {});
    await withDeadline(this.fanout?.stop() ?? Promise.resolve(), 1000).catch(() => {});
    await withDeadline(this.membership.deregister(), 1000).catch(() => {});
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    this.peers.close();
    this.redis.disconnect();
    this.pipelineRedis.disconnect();
    this.pipelineEvents.disconnect();
    this.fanoutRedis?.disconnect();
    this.log.info('coordinator stopped');
  }

  private every(ms: number, fn: () => unknown): void {
    this.timers.push(
      setInterval(() => {
        if (this.stopping) return;
        try {
          const r = fn();
          if (r instanceof Promise) r.catch((err: unknown) => this.log.debug('loop error', errorFields(err)));
        } catch (err) {
          this.log.error('loop error', errorFields(err));
        }
      }, ms),
    );
  }

  // ---- membership ---------------------------------------------------------------

  private async heartbeatOnce(): Promise<void> {
    let healthy = true;
    try {
      await withDeadline(this.membership.heartbeat(this.selfState()), this.config.storeTimeoutMs);
      this.members = await withDeadline(this.membership.list(), this.config.storeTimeoutMs);
    } catch {
      healthy = false;
    }
    if (healthy !== this.storeHealthy) {
      this.log.warn(healthy ? 'redis reachable' : 'redis unreachable');
      this.storeHealthy = healthy;
      this.m.storeHealthy.set(healthy ? 1 : 0);
    }
    this.apply(this.raft.setStoreHealthy(healthy, monotonicClock.now()));
    // Only the members seen now: a member that is gone leaves the metric too.
    this.m.heartbeatAge.reset();
    for (const mbr of this.members) this.m.heartbeatAge.set({ member: mbr.id }, mbr.heartbeatAgeMs / 1000);
    if (healthy && this.raft.role === 'leader') await this.announceMembershipChanges();
  }

  /** The leader turns membership changes into node.joined / node.left events. */
  private async announceMembershipChanges(): Promise<void> {
    const alive = new Set(this.members.filter((x) => x.health === 'healthy').map((x) => x.id));
    for (const id of alive) {
      if (!this.knownAlive.has(id)) await this.publish('node.joined', { node: id });
    }
    for (const id of this.knownAlive) {
      if (!alive.has(id)) await this.publish('node.left', { node: id });
    }
    this.knownAlive = alive;
  }

  private async publish(type: Parameters<typeof publishClusterEvent>[1], data: Record<string, unknown>) {
    await publishClusterEvent(this.redis, type, data, this.clock.now()).catch((err: unknown) =>
      this.log.debug('publish failed', errorFields(err)),
    );
  }

  /** What this node publishes about itself with each heartbeat (read by GET /cluster). */
  private selfState() {
    const c = this.clock.status();
    return {
      role: this.raft?.role ?? 'follower',
      term: this.raft?.term ?? 0,
      leader: this.raft?.leader ?? null,
      clockOffsetMs: c.offsetMs,
      inSync: c.inSync,
      partitionsOwned: this.pipeline?.status().partitionsOwned ?? [],
    };
  }

  // ---- election -----------------------------------------------------------------

  /** Carries out the state machine's outputs: sends, durable votes, role changes. */
  apply(outputs: RaftOutput[]): void {
    for (const o of outputs) {
      switch (o.type) {
        case 'send':
          void this.send(o.message);
          break;
        case 'recordVote':
          void this.recordVote(o.term, o.candidate, o.replyTo);
          break;
        case 'verifyVote':
        case 'verifyTerm':
          void this.verify(o);
          break;
        case 'termChanged':
          this.m.term.set(o.term);
          void withDeadline(this.redis.set(clusterKeys.nodeTerm(this.id), String(o.term)), 1000).catch(
            () => {},
          );
          break;
        case 'roleChanged':
          this.log.info('role changed', { role: o.role, term: o.term });
          this.m.isLeader.set(o.role === 'leader' ? 1 : 0);
          if (o.role === 'leader') {
            this.clockSync.becomeReference();
            void this.renewLeadership();
          }
          this.leadership.set(o.role, o.term);
          break;
        case 'leaderChanged':
          if (o.leader !== this.lastLeader) {
            this.m.leaderChanges.inc();
            this.log.info('leader changed', { leader: o.leader, term: o.term });
            if (o.leader === this.id) {
              void this.publish('leader.changed', {
                leader: o.leader,
                term: o.term,
                previous: this.lastLeader,
              });
            }
            this.lastLeader = o.leader;
          }
          break;
      }
    }
    const started = this.raft.status(monotonicClock.now()).electionsStarted;
    if (started > this.electionsCounted) {
      this.m.electionsStarted.inc(started - this.electionsCounted);
      this.electionsCounted = started;
    }
  }

  /**
   * Answers the state machine's store questions: a peer's grant counts only if the
   * voter's recorded vote names this node; a far-ahead term is taken only if the store
   * shows it was reached. Anything the store does not back is dropped.
   */
  private async verify(o: Extract<RaftOutput, { type: 'verifyVote' | 'verifyTerm' }>): Promise<void> {
    const key = o.type === 'verifyVote' ? `v|${o.term}|${o.voter}` : `t|${o.message.from}`;
    if (this.verifying.has(key)) return;
    this.verifying.add(key);
    try {
      const backed = await withDeadline(
        ledgerBacks(this.ledger, this.id, o),
        this.config.storeTimeoutMs,
      ).catch(() => false);
      if (!backed) {
        this.log.debug('store does not back a peer claim; dropped', { type: o.type, term: o.term });
        return;
      }
      const now = monotonicClock.now();
      this.apply(
        o.type === 'verifyVote'
          ? this.raft.voteVerified(o.term, o.voter, now)
          : this.raft.stepBacked(o.message, now),
      );
    } finally {
      this.verifying.delete(key);
    }
  }

  private async recordVote(term: number, candidate: string, replyTo: string): Promise<void> {
    let granted = false;
    try {
      const votedFor = await withDeadline(
        this.ledger.recordVote(term, this.id, candidate),
        this.config.storeTimeoutMs,
      );
      granted = votedFor === candidate;
    } catch (err) {
      this.log.debug('could not record vote', { term, candidate, ...errorFields(err) });
    }
    const message: RaftMessage = { type: 'voteResponse', from: this.id, to: replyTo, term, granted };
    if (replyTo === this.id) this.apply(this.raft.step(message, monotonicClock.now()));
    else await this.send(message);
  }

  /** Leader-only fenced write of the leader record; a rejection means a newer term exists. */
  private async renewLeadership(): Promise<void> {
    if (this.raft.role !== 'leader') return;
    const term = this.raft.term;
    try {
      const reply = await withDeadline(
        runScript(
          this.redis,
          leaderRenewScript,
          [clusterKeys.leaderFence, clusterKeys.leader, clusterKeys.leaderLease],
          [String(term), this.id, String(this.clock.now()), String(this.config.leaseMs)],
        ),
        this.config.storeTimeoutMs,
      );
      if (reply.ok) {
        this.apply(this.raft.storeWrite({ ok: true }, monotonicClock.now()));
      } else {
        this.log.warn('fenced write rejected: a newer term exists; stepping down', {
          term,
          newest: reply.term,
        });
        this.apply(this.raft.storeWrite({ ok: false, fencedBy: reply.term }, monotonicClock.now()));
      }
    } catch (err) {
      this.log.debug('leader renew failed', errorFields(err));
      this.apply(this.raft.storeWrite({ ok: false }, monotonicClock.now()));
    }
  }

  /** Peer-to-peer election messages go to the peer transport, signed (fire and forget). */
  private send(message: RaftMessage): Promise<void> {
    return this.peers.send(message);
  }

  // ---- admin HTTP ---------------------------------------------------------------

  /** What /status reports; also used by tests and `npm run status`. */
  status(): CoordinatorStatus {
    const now = monotonicClock.now();
    const r = this.raft.status(now);
    const c = this.clock.status();
    return {
      id: this.id,
      version: VERSION,
      pid: process.pid,
      role: r.role,
      term: r.term,
      leader: r.leader,
      lastLeaderContactMs: r.lastLeaderContactMs,
      electionsStarted: r.electionsStarted,
      redisReachable: this.storeHealthy,
      uptimeS: Math.round((systemClock.now() - this.startedAt) / 1000),
      votingMembers: this.config.members,
      members: this.members.map((x) => ({
        id: x.id,
        adminUrl: x.adminUrl,
        health: x.health,
        heartbeatAgeMs: x.heartbeatAgeMs,
        lastHeartbeatAt: new Date(x.heartbeatAt).toISOString(),
        voting: this.config.members.includes(x.id),
      })),
      clock: {
        inSync: c.inSync,
        offsetMs: c.offsetMs,
        rttMs: c.rttMs,
        correctionMs: c.correctionMs,
        samples: c.samples,
        lastAction: c.lastAction,
        artificialSkewMs: this.rawClock.skewMs,
        artificialDriftPpm: this.rawClock.driftPpm,
        now: new Date(this.clock.now()).toISOString(),
      },
      ...this.extraStatus(),
    };
  }

  /** What the subsystems (the vote pipeline, the fan-out) add to /status. */
  private extraStatus(): Pick<CoordinatorStatus, 'pipeline' | 'fanout'> {
    return {
      ...(this.pipeline ? { pipeline: this.pipeline.status() } : {}),
      ...(this.fanout ? { fanout: this.fanout.status() } : {}),
    };
  }
}
