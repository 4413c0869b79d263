import type { Cluster } from 'ioredis';
import type { Clock } from '../../shared/clock';
import type { ElectionRecord } from '../../shared/elections/store';
import type { Logger } from '../../shared/logger';
import { partitionKeys } from '../../shared/redis/keys';
import { defineScript, reply, runScript } from '../../shared/redis/scripts';
import type { BallotScheme } from '../../shared/votes/ballot';
import { decodeVoteLogEntry } from '../../shared/votes/vote-log';

export const recordVerdictsScript = defineScript('recordVerdicts', {
  keys: 2,
  parse: (r) => {
    const a = reply.array('recordVerdicts', r, 2);
    return {
      ok: reply.integer('recordVerdicts', a[0]) === 1,
      checkpoint: reply.string('recordVerdicts', a[1]),
    };
  },
});

/** Grace around opensAt/closesAt when judging a vote's time (clock error of the intake). */
export const WINDOW_GRACE_MS = 2000;

/**
 * One committee member's independent check of pending votes. It reads a batch of a
 * partition's vote log past its own checkpoint, judges every vote (ballot, eligibility,
 * one vote per voter, window by synchronized time) and records the verdict for the
 * whole range in one script: "approved up to here, except these objections". An
 * out-of-sync clock abstains: the checkpoint simply does not move.
 */
export class Validator {
  private readonly checkpoints = new Map<string, string>();
  judged = 0;
  objected = 0;

  constructor(
    private readonly redis: Cluster,
    private readonly id: string,
    private readonly clock: Clock,
    private readonly ballot: BallotScheme,
    private readonly log: Logger,
    private readonly batchSize = 500,
  ) {}

  /** Judges what is pending in every partition of the given elections; returns votes judged. */
  async runOnce(elections: ElectionRecord[]): Promise<number> {
    const work: Promise<number>[] = [];
    for (const e of elections) {
      for (let p = 0; p < e.tags.length; p++) work.push(this.judgePartition(e, p));
    }
    const counts = await Promise.all(work);
    return counts.reduce((a, b) => a + b, 0);
  }

  private async judgePartition(e: ElectionRecord, p: number): Promise<number> {
    const k = partitionKeys(e.tags[p]!);
    const cpKey = `${e.id}|${p}`;
    let cp = this.checkpoints.get(cpKey);
    if (cp === undefined) {
      cp = (await this.redis.hget(k.checkpoints, this.id)) ?? '';
      this.checkpoints.set(cpKey, cp);
    }
    const rows = await this.redis.xrange(k.votes, cp ? `(${cp}` : '-', '+', 'COUNT', this.batchSize);
    if (rows.length === 0) return 0;
    const votes = rows.map(([id, fields]) => {
      const { voter, option } = decodeVoteLogEntry(fields);
      return { id, voter, option };
    });
    const voterList = votes.map((v) => v.voter);
    const [owners, eligible] = await Promise.all([
      this.redis.hmget(k.voters, ...voterList),
      e.restricted
        ? (this.redis.call('SMISMEMBER', k.eligible, ...voterList) as Promise<number[]>)
        : Promise.resolve(null),
    ]);
    const now = this.clock.now();
    const objections: string[] = [];
    votes.forEach((v, i) => {
      const reason = this.judge(e, v, owners[i] ?? null, eligible ? eligible[i] === 1 : true, now);
      if (reason) objections.push(v.id, reason);
    });
    const last = votes[votes.length - 1]!.id;
    const r = await runScript(
      this.redis,
      recordVerdictsScript,
      [k.checkpoints, k.objections],
      [this.id, cp, last, ...objections],
    );
    this.checkpoints.set(cpKey, r.checkpoint);
    if (!r.ok) {
      this.log.debug('checkpoint moved under us; reloaded', { election: e.id, partition: p });
      return 0;
    }
    this.judged += votes.length;
    this.objected += objections.length / 2;
    return votes.length;
  }

  /** One vote's verdict: null approves, a string is the reason for rejecting it. */
  private judge(
    e: ElectionRecord,
    v: { id: string; voter: string; option: string },
    owner: string | null,
    eligible: boolean,
    now: number,
  ): string | null {
    // One vote per voter: the voter map must point at exactly this entry.
    if (!owner || owner.split('|')[0] !== v.id) return 'duplicate_vote';
    if (!eligible) return 'not_eligible';
    const ballotProblem = this.ballot.judge(e, v.option);
    if (ballotProblem) return ballotProblem;
    const takenAt = Number(v.id.split('-')[0]);
    if (e.opensAt && takenAt < Date.parse(e.opensAt) - WINDOW_GRACE_MS) return 'outside_window';
    if (e.closesAt && takenAt > Date.parse(e.closesAt) + WINDOW_GRACE_MS) return 'outside_window';
    if (takenAt > now + WINDOW_GRACE_MS * 5) return 'from_the_future';
    return null;
  }

  /** Forget cached checkpoints (after a reset or failover). */
  forget(electionId?: string): void {
    for (const key of [...this.checkpoints.keys()]) {
      if (!electionId || key.startsWith(`${electionId}|`)) this.checkpoints.delete(key);
    }
  }
}
