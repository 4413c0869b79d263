import type { Cluster } from 'ioredis';
import type { Clock } from '../../shared/clock';
import { beforeClosingPoint, closingPoint, parseGate, recordedPoints } from '../../shared/elections/gates';
import type { ElectionRecord } from '../../shared/elections/store';
import { type Logger, errorFields } from '../../shared/logger';
import { partitionKeys } from '../../shared/redis/keys';
import { defineScript, reply, runScript } from '../../shared/redis/scripts';
import type { BallotScheme } from '../../shared/votes/ballot';
import { isVoteWeight } from '../../shared/votes/weight';
import { decodeVoteLogEntry } from '../../shared/votes/vote-log';
import { rollKeysOf } from '../../shared/secret/voter-roll';
import { PartitionRounds, PollBackoff } from './poll-backoff';
import type { SecretBallotJudge } from './secret-judge';
import { WAKE_FLAG_TTL_MS } from './wake-ups';

export const recordVerdictsScript = defineScript('recordVerdicts', {
  keys: 4,
  parse: (r) => {
    const a = reply.array('recordVerdicts', r, 2);
    return {
      ok: reply.integer('recordVerdicts', a[0]) === 1,
      checkpoint: reply.string('recordVerdicts', a[1]),
    };
  },
});

/** Clock error tolerated before a vote's time is judged to be in the future. */
export const WINDOW_GRACE_MS = 2000;

/**
 * One committee member's independent check of pending votes. It reads a batch of a
 * partition's vote log past its own checkpoint, judges every vote (ballot, eligibility,
 * one vote per voter, window by synchronized time) and records the verdict for the
 * whole range in one script: "approved up to here, except these objections". An
 * out-of-sync clock abstains: the checkpoint simply does not move.
 */
interface PendingVote {
  id: string;
  voter: string;
  option: string;
  /** The vote's weight (vote-log.ts: 1 unless the entry carries one; 0 when unreadable). */
  weight: number;
  /** The voter map's value for this voter ('' when none). */
  owner: string;
  eligible: boolean;
  /** The partition's closing point when it is closed (null while open). */
  closePoint: string | null;
  /** Secret ballots: the voter's key on the election's roll (null when none). */
  rollKey: string | null;
}

/** Per partition: the checkpoint recorded, and the next read already on its way. */
interface PartitionState {
  checkpoint: string;
  /** Issued in the same trip as the last verdict, so the next batch costs no extra trip. */
  prefetched: Promise<[string, string[]][]> | null;
}

/**
 * One committee member's independent check of pending votes. It reads a batch of a
 * partition's vote log past its own checkpoint (then each voter's map entry and
 * eligibility), judges every vote (ballot, eligibility, one
 * vote per voter, window by synchronized time) and records the verdict for the whole
 * range in one script: "approved up to here, except these objections". The log read of
 * the next batch goes out right behind that verdict, so a busy partition costs two trips
 * per batch. (Folding the reads into one Lua script was measured 5× costlier in Redis:
 * converting 500 stream entries to Lua tables and back costs ~4 µs each.) An out-of-sync clock abstains: the checkpoint simply does not move.
 */
export class Validator {
  private readonly partitions = new Map<string, PartitionState>();
  private readonly rounds: PartitionRounds;
  /** Partitions whose last read came back empty with the wake-up flag set (push). */
  private readonly waiting = new Set<string>();
  judged = 0;
  objected = 0;

  constructor(
    private readonly redis: Cluster,
    private readonly id: string,
    private readonly clock: Clock,
    private readonly ballot: BallotScheme,
    private readonly log: Logger,
    private readonly batchSize = 500,
    /** Pacing of quiet partitions (the pipeline's loop passes one; none by default). */
    pace: PollBackoff = new PollBackoff(0),
    /**
     * Secret ballots' cryptography in batches on worker threads (the pipeline passes
     * one). Without it, `ballot.judge` checks them one at a time on this thread.
     */
    private readonly secretJudge?: SecretBallotJudge,
    /**
     * Push, per partition ("<election>|<p>"): a fresh read sets the partition's
     * validators-waiting flag first, so the next vote's enqueue sends a notice
     * ({@link wake}); the pipeline says true for the partitions whose notices it hears.
     * False (the default): reads set nothing and quiet partitions are polled.
     */
    private readonly push: (key: string) => boolean = () => false,
  ) {
    this.rounds = new PartitionRounds(
      pace,
      (key, err) => this.log.debug('judging failed', { partition: key, ...errorFields(err) }),
      (key) => this.waiting.has(key),
    );
  }

  /** A notice said partition `key` ("<election>|<p>") has new votes: poll it at once. */
  wake(key: string): void {
    this.rounds.wake(key);
  }

  /** Milliseconds until a quiet partition is due for another poll. */
  msUntilNextPoll(): number {
    return this.rounds.msUntilNextDue();
  }

  /**
   * Judges what is pending in every partition of the given elections that `judges`
   * assigns to this member (all by default); returns votes judged.
   */
  async runOnce(
    elections: ElectionRecord[],
    judges: (e: ElectionRecord, p: number) => boolean = () => true,
    maxWaitMs = Number.POSITIVE_INFINITY,
  ): Promise<number> {
    const byKey = new Map<string, [ElectionRecord, number]>();
    for (const e of elections) {
      for (let p = 0; p < e.tags.length; p++) if (judges(e, p)) byKey.set(`${e.id}|${p}`, [e, p]);
    }
    return this.rounds.round(
      byKey.keys(),
      (key) => {
        const [e, p] = byKey.get(key)!;
        return this.judgePartition(e, p);
      },
      maxWaitMs,
    );
  }

  /** The next batch past `after`: log entries (one trip), then the voter map entries (one). */
  private async read(e: ElectionRecord, p: number, logRead: Promise<[string, string[]][]>) {
    const k = partitionKeys(e.tags[p]!);
    const rows = await logRead;
    if (rows.length === 0) return [];
    const votes = rows.map(([id, fields]) => ({ id, ...decodeVoteLogEntry(fields) }));
    const voters = votes.map((v) => v.voter);
    // The gate is read after the log: if it is still open, every vote read lies before
    // the point its close will record; if closed, its point is final.
    const [owners, eligible, gate, recorded, rollKeys] = await Promise.all([
      this.redis.hmget(k.voters, ...voters),
      e.restricted ? (this.redis.call('SMISMEMBER', k.eligible, ...voters) as Promise<number[]>) : null,
      this.redis.get(k.gate),
      recordedPoints(this.redis, e),
      e.ballot === 'secret' ? rollKeysOf(this.redis, e, voters) : null,
    ]);
    const closePoint = closingPoint(parseGate(gate), recorded?.[p]);
    return votes.map(
      (v, i): PendingVote => ({
        id: v.id,
        voter: v.voter,
        option: v.option,
        weight: v.weight,
        owner: owners[i] ?? '',
        eligible: eligible ? eligible[i] === 1 : true,
        closePoint,
        rollKey: rollKeys ? (rollKeys[i] ?? null) : null,
      }),
    );
  }

  /**
   * The log past `after`. With `arm`, the validators-waiting flag is set first, on the
   * same connection (same slot): a vote enqueued after the read then sees the flag and
   * sends a notice, and one enqueued before is in the read, so an empty read may wait.
   */
  private readLog(e: ElectionRecord, p: number, after: string, arm = false): Promise<[string, string[]][]> {
    const k = partitionKeys(e.tags[p]!);
    const flag = arm ? this.redis.set(k.validatorsWaiting, '1', 'PX', WAKE_FLAG_TTL_MS) : null;
    const rows = this.redis.xrange(k.votes, after ? `(${after}` : '-', '+', 'COUNT', this.batchSize);
    return flag ? Promise.all([flag, rows]).then(([, r]) => r) : rows;
  }

  private async judgePartition(e: ElectionRecord, p: number): Promise<number> {
    const k = partitionKeys(e.tags[p]!);
    const key = `${e.id}|${p}`;
    let st = this.partitions.get(key);
    if (!st) {
      st = { checkpoint: (await this.redis.hget(k.checkpoints, this.id)) ?? '', prefetched: null };
      this.partitions.set(key, st);
    }
    const pending = st.prefetched;
    st.prefetched = null;
    this.waiting.delete(key);
    let votes: PendingVote[];
    let fresh = false;
    const arm = this.push(key);
    try {
      // A prefetched read that found nothing is stale by now: read afresh (and, with
      // push, arm the wake-up flag: if this read finds nothing too, the partition waits).
      const early = pending ? await pending : [];
      fresh = early.length === 0;
      votes = await this.read(e, p, fresh ? this.readLog(e, p, st.checkpoint, arm) : Promise.resolve(early));
    } catch (err) {
      this.partitions.delete(key); // start over from what Redis holds
      throw err;
    }
    if (votes.length === 0) {
      if (fresh && arm) this.waiting.add(key);
      return 0;
    }
    const reasons = await this.judgeAll(e, votes);
    const objections: string[] = [];
    votes.forEach((v, i) => {
      if (reasons[i]) objections.push(v.id, reasons[i]);
    });
    const cp = st.checkpoint;
    const last = votes[votes.length - 1]!.id;
    const recorded = runScript(
      this.redis,
      recordVerdictsScript,
      [k.checkpoints, k.objections, k.ownerWaiting, k.wake],
      [this.id, cp, last, ...objections],
    );
    // Same slot, same connection, same tick: the next log read rides in the verdict's trip.
    const next = this.readLog(e, p, last);
    next.catch(() => {}); // consumed (or dropped) by the next round
    let r: { ok: boolean; checkpoint: string };
    try {
      r = await recorded;
    } catch (err) {
      this.partitions.delete(key);
      throw err;
    }
    st.checkpoint = r.checkpoint;
    if (!r.ok) {
      // Someone moved this validator's checkpoint (a reset, another process with our id).
      this.log.debug('checkpoint moved under us; reloaded', { election: e.id, partition: p });
      return 0;
    }
    st.prefetched = next;
    this.judged += votes.length;
    this.objected += objections.length / 2;
    return votes.length;
  }

  /**
   * Every vote's verdict, in order. Secret ballots that pass the cheap checks go to the
   * secret judge together (worker threads, batches); if it fails (a worker died too often,
   * the pool was closed) this throws and the batch is judged again next round: no verdict
   * is recorded for a ballot whose cryptography was not checked.
   */
  private async judgeAll(e: ElectionRecord, votes: PendingVote[]): Promise<(string | null)[]> {
    const batch = this.secretJudge && e.ballot === 'secret' ? this.secretJudge : null;
    if (!batch) {
      const now = this.clock.now();
      return votes.map((v) => this.judge(e, v, now));
    }
    const reasons: (string | null)[] = votes.map((v) => this.judgeVoter(e, v));
    const pending = votes.filter((_, i) => reasons[i] === null);
    const ballotReasons = await batch.judge(
      e,
      pending.map((v) => ({ recorded: v.option, rollKey: v.rollKey })),
    );
    // Read after the verification, which may take a while: the time rule sees the clock now.
    const now = this.clock.now();
    let next = 0;
    return votes.map((v, i) => reasons[i] ?? ballotReasons[next++] ?? this.judgeTime(v, now));
  }

  /** The checks before the ballot's own: one vote per voter, eligibility, the weight. */
  private judgeVoter(e: ElectionRecord, v: PendingVote): string | null {
    // One vote per voter: the voter map must point at exactly this entry.
    if (!v.owner || v.owner.split('|')[0] !== v.id) return 'duplicate_vote';
    if (!v.eligible) return 'not_eligible';
    // The submit path writes only weights of 1..MAX_VOTE_WEIGHT, and none other than 1 for
    // a secret ballot (its encrypted tally counts each ballot once): anything else was
    // written past it.
    if (!isVoteWeight(v.weight) || (v.weight !== 1 && e.ballot === 'secret')) return 'invalid_weight';
    return null;
  }

  /** The checks after the ballot's own: the voting window (see {@link judge}). */
  private judgeTime(v: PendingVote, now: number): string | null {
    if (v.closePoint && !beforeClosingPoint(v.id, v.closePoint)) return 'after_close';
    const takenAt = Number(v.id.split('-')[0]);
    if (takenAt > now + WINDOW_GRACE_MS * 5) return 'from_the_future';
    return null;
  }

  /**
   * One vote's verdict: null approves, a string is the reason for rejecting it.
   *
   * The voting window is judged by the gate, not by comparing the vote's time with
   * opensAt/closesAt: the leader opens and closes the gates at those times by
   * synchronized clocks, and a vote is in the window exactly when its partition's gate
   * took it, i.e. its stream id is at or before the partition's closing point. So a vote
   * an open gate accepted is never thrown out as `outside_window` (an early manual open
   * moves opensAt; a close a little after closesAt still counts what came before it),
   * and a vote after the closing point (only possible when a failover lost a gate's
   * closed state) is `after_close`: intake, validators and finalizer share one rule.
   */
  private judge(e: ElectionRecord, v: PendingVote, now: number): string | null {
    return (
      this.judgeVoter(e, v) ??
      this.ballot.judge(e, v.option, { voter: v.voter, rollKey: v.rollKey }) ??
      this.judgeTime(v, now)
    );
  }

  /** Forget cached checkpoints (after a reset or failover). */
  forget(electionId?: string): void {
    for (const key of [...this.partitions.keys()]) {
      if (!electionId || key.startsWith(`${electionId}|`)) this.partitions.delete(key);
    }
    for (const key of [...this.waiting]) {
      if (!electionId || key.startsWith(`${electionId}|`)) this.waiting.delete(key);
    }
    this.rounds.forget(electionId ? `${electionId}|` : undefined);
  }
}
