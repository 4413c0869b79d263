import { createHash } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { Clock } from '../../shared/clock';
import { type ElectionRecord, ElectionStore } from '../../shared/elections/store';
import { type Logger, errorFields } from '../../shared/logger';
import { loadSettings } from '../../shared/settings/load';
import { type Lock, RedisMutex } from '../../shared/mutex';
import type { PipelineStatus } from '../../shared/membership/coordinator-status';
import { majorityOf } from '../../shared/consensus/quorum';
import { clusterKeys } from '../../shared/redis/keys';
import { electionBallots } from '../../shared/secret/election-ballots';
import { readResults } from '../../shared/votes/read';
import { FencedError, Finalizer } from './finalizer';
import { IDLE_POLL_MAX_MS, PartitionRounds, PollBackoff } from './poll-backoff';
import { type SecretBallotJudge, createSecretBallotJudge } from './secret-judge';
import type { LeadershipView } from '../leadership';
import type { PipelineObserver } from './observer';
import { Validator } from './validator';
import { Alarm, PartitionWakeUps, type WakeKind } from './wake-ups';

export interface PipelineDeps {
  /** The pipeline's own client: commands of one loop are issued together, so they share trips. */
  redis: Cluster;
  clock: Clock;
  nodeId: string;
  committee: string[];
  partitions: number;
  log: Logger;
  /** False while this node's clock is out of sync: it abstains from validating. */
  inSync: () => boolean;
  /** Healthy members right now (for partition ownership). */
  healthyMembers: () => string[];
  /**
   * This node's leadership: the term while it leads (scheduled transitions are
   * leader-only and fenced with it), pushed on every change so a new leader takes up
   * its duties at once.
   */
  leadership: LeadershipView;
  /**
   * A sharded-pub/sub client for the elections-changed channel, so a newly opened
   * election is picked up within milliseconds rather than at the next poll (500 ms).
   */
  subscriber?: Cluster;
  /** Told of every batch this node finalizes (the metrics). */
  observer?: PipelineObserver;
  /** Test mode only: delay before each fenced finalize write (see CoordinatorConfig). */
  finalizeWriteDelayMs?: number;
  /**
   * Push, not poll (wake-ups.ts): on by default when there is a `subscriber`
   * (PIPELINE_PUSH), with a safety-net poll every `safetyPollMs` (PIPELINE_SAFETY_POLL_MS).
   */
  push?: boolean;
  safetyPollMs?: number;
}

/** Rendezvous hashing: the member with the highest hash for the key owns it. */
export function rendezvousOwner(key: string, members: string[]): string | undefined {
  return rendezvousRanking(key, members)[0];
}

/** Rendezvous hashing: every member, highest hash for `key` first (ties by id). */
export function rendezvousRanking(key: string, members: string[]): string[] {
  const score = (m: string) => createHash('sha256').update(`${key}|${m}`).digest('hex').slice(0, 15);
  return members
    .map((m) => ({ m, s: score(m) }))
    .sort((a, b) => (a.s === b.s ? (a.m < b.m ? -1 : 1) : a.s < b.s ? 1 : -1))
    .map((x) => x.m);
}

/**
 * How many committee members judge each partition: the majority the finalizer needs,
 * and at least 3 when there are that many (env PIPELINE_ACTIVE_VALIDATORS). The rest
 * stand by and step in for a member that is not healthy. A vote still needs approvals
 * from a majority of the whole committee; this only decides who does the work, so
 * validation costs the same per vote with 3 coordinators or 7.
 */
export function activeValidators(committeeSize: number): number {
  const majority = majorityOf(committeeSize);
  return Math.min(committeeSize, Math.max(majority, ACTIVE_VALIDATORS_WANTED));
}

/** Read once: `judges` asks for every partition of every round. */
const ACTIVE_VALIDATORS_WANTED = loadSettings().PIPELINE_ACTIVE_VALIDATORS;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * How long a round of the validate or finalize loop waits for its slowest partition
 * before going round again for the others (a partition on a failing master hangs until
 * its commands time out; the rest must not wait for it).
 */
const ROUND_MAX_WAIT_MS = 50;

/**
 * The vote pipeline inside one coordinator: a validator loop over every active
 * election, a finalizer loop over the partitions this node owns (held with the
 * distributed mutex, whose fencing token guards every finalize), ownership
 * rebalancing, and — on the leader — election lifecycle at synchronized time.
 */
export class Pipeline {
  readonly validator: Validator;
  readonly finalizer: Finalizer;
  /** Secret ballots' signatures and proofs, verified in batches on worker threads. */
  private readonly secretJudge: SecretBallotJudge = createSecretBallotJudge(loadSettings());
  private readonly mutex: RedisMutex;
  private readonly store: ElectionStore;
  private readonly owned = new Map<number, Lock>();
  private readonly finalizeRounds: PartitionRounds;
  /** Push: the partitions' wake channels (null: polling only). */
  private readonly wakeUps: PartitionWakeUps | null;
  /** The longest pause of a loop: the safety-net poll with push, else the idle poll. */
  private readonly maxPauseMs: number;
  private readonly validateAlarm = new Alarm();
  private readonly finalizeAlarm = new Alarm();
  /** Rendezvous rankings of partitions ("<election>|<p>") for the healthy view `rankingView`. */
  private readonly rankings = new Map<string, string[]>();
  private rankingView = '';
  private elections: ElectionRecord[] = [];
  private running = false;
  private unsubscribe: () => void = () => {};
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private loops: Promise<void>[] = [];
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly d: PipelineDeps) {
    const settings = loadSettings();
    const push = (d.push ?? settings.PIPELINE_PUSH !== 'off') && d.subscriber !== undefined;
    const safetyMs = d.safetyPollMs ?? settings.PIPELINE_SAFETY_POLL_MS;
    this.wakeUps =
      push && d.subscriber
        ? new PartitionWakeUps(d.subscriber, (kind, key) => this.wake(kind, key), d.log)
        : null;
    this.maxPauseMs = push ? Math.max(IDLE_POLL_MAX_MS, safetyMs) : IDLE_POLL_MAX_MS;
    const listening = (key: string): boolean => this.wakeUps?.listening(key) ?? false;
    const pace = (): PollBackoff => new PollBackoff(IDLE_POLL_MAX_MS, undefined, push ? safetyMs : undefined);
    this.validator = new Validator(
      d.redis,
      d.nodeId,
      d.clock,
      electionBallots,
      d.log,
      500,
      pace(),
      this.secretJudge,
      listening,
    );
    this.finalizer = new Finalizer(
      d.redis,
      d.clock,
      d.committee,
      electionBallots,
      d.log,
      1000,
      d.finalizeWriteDelayMs ?? 0,
      listening,
    );
    this.finalizeRounds = new PartitionRounds(
      pace(),
      () => {},
      (key) => this.finalizer.waiting(key),
    );
    this.finalizer.observer = d.observer;
    this.mutex = new RedisMutex(d.redis, { ttlMs: 3000 });
    this.store = new ElectionStore(d.redis, d.clock, d.partitions);
  }

  start(): void {
    this.running = true;
    const sub = this.d.subscriber;
    if (sub) {
      sub.on('smessage', (channel: string, electionId: string) => {
        if (channel !== clusterKeys.electionsChanged) {
          this.wakeUps?.handle(channel, electionId);
          return;
        }
        // Cached positions of a changed (possibly reset) election are re-read.
        this.validator.forget(electionId);
        this.finalizer.forget(electionId);
        void this.refreshElections();
      });
      sub.ssubscribe(clusterKeys.electionsChanged).catch((err: unknown) => {
        this.d.log.warn('cannot subscribe to election changes; polling only', errorFields(err));
      });
    }
    // A new leader runs the leader duties (scheduled opens and closes) at once, not at the next poll.
    this.unsubscribe = this.d.leadership.onChange((now) => {
      if (now.role === 'leader' && this.running) void this.refreshElections();
    });
    void this.refreshElections();
    this.timers.push(setInterval(() => void this.refreshElections(), 500));
    this.timers.push(setInterval(() => void this.rebalance(), 500));
    this.loops.push(
      this.loop(
        'validate',
        () => this.validateOnce(),
        () => this.validator.msUntilNextPoll(),
        this.validateAlarm,
      ),
    );
    this.loops.push(
      this.loop(
        'finalize',
        () => this.finalizeOnce(),
        () => this.finalizeRounds.msUntilNextDue(),
        this.finalizeAlarm,
      ),
    );
  }

  /** A notice: the partition is due at once, and its loop stops pausing. */
  private wake(kind: WakeKind, key: string): void {
    if (kind === 'votes') {
      this.validator.wake(key);
      this.validateAlarm.wake();
    } else {
      this.finalizeRounds.wake(key);
      this.finalizeAlarm.wake();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe();
    for (const t of this.timers) clearInterval(t);
    this.validateAlarm.wake();
    this.finalizeAlarm.wake();
    this.wakeUps?.follow([]);
    await Promise.all(this.loops);
    await this.secretJudge.close();
    await Promise.all([...this.owned.values()].map((l) => l.release().catch(() => {})));
    this.owned.clear();
  }

  status(): PipelineStatus {
    return {
      activeElections: this.elections.map((e) => e.id),
      partitionsOwned: [...this.owned.keys()].sort((a, b) => a - b),
      judged: this.validator.judged,
      objected: this.validator.objected,
      finalized: this.finalizer.finalized,
      rejected: this.finalizer.rejected,
    };
  }

  private async loop(
    name: string,
    once: () => Promise<number>,
    nextDueMs: () => number,
    alarm: Alarm,
  ): Promise<void> {
    while (this.running) {
      let did = 0;
      try {
        did = await once();
      } catch (err) {
        this.d.log.debug(`${name} loop error`, errorFields(err));
        await sleep(100);
      }
      // Go round again at once while there is work; otherwise wait for the next partition
      // due for a poll (each quiet partition backs off on its own, up to IDLE_POLL_MAX_MS;
      // one waiting for a notice up to the safety-net poll) or for a notice.
      await alarm.sleep(did > 0 ? 0 : Math.max(1, Math.min(this.maxPauseMs, nextDueMs())));
    }
  }

  private async validateOnce(): Promise<number> {
    if (!this.d.inSync()) return 0; // abstain: time cannot be judged honestly
    const live = this.elections.filter((e) => e.status !== 'draft');
    return this.validator.runOnce(live, (e, p) => this.judges(e, p), ROUND_MAX_WAIT_MS);
  }

  /**
   * True when this member is among the partition's active validators: the first
   * {@link activeValidators} healthy committee members in the partition's rendezvous
   * ranking. Each partition has its own ranking, so the work spreads evenly; when a
   * member stops being healthy the next in line takes its place (and catches up from
   * its own checkpoint).
   */
  private judges(e: ElectionRecord, p: number): boolean {
    const committee = this.d.committee;
    const active = activeValidators(committee.length);
    if (active >= committee.length) return true;
    const healthy = new Set(this.d.healthyMembers());
    healthy.add(this.d.nodeId);
    const view = committee.filter((m) => healthy.has(m)).join(',');
    if (view !== this.rankingView) {
      this.rankingView = view;
      this.rankings.clear();
    }
    const key = `${e.id}|${p}`;
    let ranking = this.rankings.get(key);
    if (!ranking) {
      ranking = rendezvousRanking(`judge:${key}`, view.split(','));
      this.rankings.set(key, ranking);
    }
    return ranking.slice(0, active).includes(this.d.nodeId);
  }

  private async finalizeOnce(): Promise<number> {
    // Out of sync, this node does no partition work at all (rebalance hands its
    // partitions over to the members in sync): its clock would stamp the finalizations.
    if (!this.d.inSync()) return 0;
    const live = this.elections.filter((e) => e.status !== 'draft');
    const jobs = new Map<string, () => Promise<number>>();
    for (const [p, lock] of this.owned) {
      if (lock.lost) {
        this.owned.delete(p);
        continue;
      }
      for (const e of live) {
        if (p >= e.tags.length) continue;
        jobs.set(`${e.id}|${p}`, () =>
          this.finalizer.finalizePartition(e, p, lock.fencingToken).catch((err: unknown) => {
            if (err instanceof FencedError) {
              this.d.log.warn('finalize fenced: lost partition ownership', { partition: p, election: e.id });
              this.owned.delete(p);
              this.finalizer.forget(undefined, p);
              void lock.release().catch(() => {});
            } else {
              this.d.log.debug('finalize failed', { partition: p, election: e.id, ...errorFields(err) });
            }
            return 0;
          }),
        );
      }
    }
    return this.finalizeRounds.round(jobs.keys(), (key) => jobs.get(key)!(), ROUND_MAX_WAIT_MS);
  }

  /** Keeps this node's share of partitions: takes what it should own, lets go of the rest. */
  private async rebalance(): Promise<void> {
    if (!this.running) return;
    const healthy = this.d.healthyMembers().filter((m) => this.d.committee.includes(m));
    // An out-of-sync node owns nothing (its partitions go to the next in line); a node in
    // sync counts itself even before its own heartbeat says so.
    const self = healthy.indexOf(this.d.nodeId);
    if (!this.d.inSync()) {
      if (self >= 0) healthy.splice(self, 1);
    } else if (self < 0) healthy.push(this.d.nodeId);
    const maxP = Math.max(this.d.partitions, ...this.elections.map((e) => e.tags.length));
    for (let p = 0; p < maxP; p++) {
      const want = rendezvousOwner(`partition:${p}`, healthy) === this.d.nodeId;
      const held = this.owned.get(p);
      if (held?.lost) this.owned.delete(p);
      if (want && !this.owned.has(p)) {
        try {
          const lock = await this.mutex.tryAcquire(clusterKeys.finalizerLock(p), { ttlMs: 3000 });
          if (lock) {
            lock.startWatchdog();
            this.owned.set(p, lock);
            this.finalizeAlarm.wake(); // its partitions are due at once
            this.d.log.info('partition owned', { partition: p, fencingToken: lock.fencingToken });
          }
        } catch (err) {
          this.d.log.debug('partition acquire failed', { partition: p, ...errorFields(err) });
        }
      } else if (!want && held && !held.lost) {
        this.owned.delete(p);
        this.finalizer.forget(undefined, p);
        await held.release().catch(() => {});
        this.d.log.info('partition handed over', { partition: p });
      }
    }
  }

  /** Re-reads the active elections; calls during a refresh coalesce into one more. */
  private refreshElections(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        await this.refreshOnce();
      } while (this.refreshAgain && this.running);
      this.refreshing = null;
    })();
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    try {
      const ids = await this.store.activeIds();
      const all = await Promise.all(ids.map((id) => this.store.get(id)));
      const before = this.elections;
      this.elections = all.filter((e): e is ElectionRecord => e !== null);
      if (this.wakeUps && this.running) {
        this.wakeUps.follow(this.elections.filter((e) => e.status !== 'draft'));
        const ids = (list: ElectionRecord[]) => list.map((e) => `${e.id}:${e.status}`).join(',');
        if (ids(before) !== ids(this.elections)) {
          // New partitions are due at once: neither loop may sleep through them.
          this.validateAlarm.wake();
          this.finalizeAlarm.wake();
        }
      }
      if (this.running && this.elections.some((e) => e.ballot === 'secret')) this.secretJudge.warm();
      for (const old of before) {
        if (this.elections.some((e) => e.id === old.id)) continue;
        this.validator.forget(old.id); // retired: drop its cached positions and reads
        this.finalizer.forget(old.id);
      }
      const term = this.d.leadership.leaderTerm();
      if (term !== null) await this.leaderDuties(term);
    } catch (err) {
      this.d.log.debug('refresh failed', errorFields(err));
    }
  }

  /**
   * Leader only: open and close scheduled elections at synchronized time (fenced with
   * the leader's term), finish a close whose caller died half-way (`closingAt` set),
   * re-assert the gates of closed elections at their recorded closing points (a master
   * failover may have lost one), and retire elections whose results are final.
   */
  private async leaderDuties(term: number): Promise<void> {
    const now = this.d.clock.now();
    for (const e of this.elections) {
      try {
        if (e.status === 'draft' && e.opensAt && Date.parse(e.opensAt) <= now) {
          if (!e.closesAt || Date.parse(e.closesAt) > now) {
            await this.store.open(e.id, term);
            this.d.log.info('election opened on schedule', { election: e.id, term });
          }
        } else if (e.status === 'open' && (e.closingAt || (e.closesAt && Date.parse(e.closesAt) <= now))) {
          await this.store.close(e.id, term);
          this.d.log.info('election closed', { election: e.id, term, scheduled: !e.closingAt });
        } else if (e.status === 'closed') {
          await this.store.sealGates(e);
          const r = await readResults(this.d.redis, this.d.clock, e);
          if (r.final) {
            // The final chain heads go into the election record before it is retired.
            if (r.chainHeads) await this.store.recordFinalHeads(e.id, r.chainHeads);
            await this.store.deactivate(e.id);
            this.d.log.info('election final; retired from the pipeline', { election: e.id });
          }
        }
      } catch (err) {
        this.d.log.warn('leader duty failed', { election: e.id, ...errorFields(err) });
      }
    }
  }
}
