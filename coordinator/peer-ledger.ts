import type { Cluster } from 'ioredis';
import type { RaftOutput } from '../shared/consensus/raft';
import { clusterKeys as defaultKeys } from '../shared/redis/keys';
import { runScript } from '../shared/redis/scripts';
import { recordVoteScript } from './cluster-scripts';

/**
 * The election's durable record, as the driver needs it: the port through which the
 * election state machine's store questions (`recordVote`, `verifyVote`, `verifyTerm`)
 * are answered. Redis implements it in production; tests can inject their own.
 */
export interface ElectionLedger {
  /** SET NX of `voter`'s vote in `term`; returns whom `voter` voted for in that term. */
  recordVote(term: number, voter: string, candidate: string): Promise<string | null>;
  /** Whom `voter` voted for in `term`, as recorded (null: no vote recorded). */
  votedFor(term: number, voter: string): Promise<string | null>;
  /**
   * Whether the store shows that `term` was really reached: some member recorded a vote
   * in it (every campaign records its self-vote), or a leader of that term or a later
   * one has written (the leader fence).
   */
  termBacked(term: number): Promise<boolean>;
}

/** How long a vote record lives: far longer than any election round. */
export const VOTE_TTL_MS = 3_600_000;

export class RedisElectionLedger implements ElectionLedger {
  constructor(
    private readonly redis: Cluster,
    private readonly members: readonly string[],
    /** The cluster's keys (another cluster name's in tests). */
    private readonly keys: Pick<typeof defaultKeys, 'vote' | 'leaderFence'> = defaultKeys,
  ) {}

  recordVote(term: number, voter: string, candidate: string): Promise<string | null> {
    return runScript(
      this.redis,
      recordVoteScript,
      [this.keys.vote(term, voter)],
      [candidate, String(VOTE_TTL_MS)],
    );
  }

  votedFor(term: number, voter: string): Promise<string | null> {
    return this.redis.get(this.keys.vote(term, voter));
  }

  async termBacked(term: number): Promise<boolean> {
    // All keys carry the cluster's hash tag: one slot, so one MGET.
    const [fence, ...votes] = await this.redis.mget(
      this.keys.leaderFence,
      ...this.members.map((m) => this.keys.vote(term, m)),
    );
    return Number(fence ?? 0) >= term || votes.some((v) => v !== null);
  }
}

/**
 * Answers one store question of the state machine: true when the vote (or the term)
 * is backed by the ledger and the driver should feed it back (`voteVerified` /
 * `stepBacked`). A ledger error is a "no": an unverifiable claim never counts.
 */
export async function ledgerBacks(
  ledger: ElectionLedger,
  selfId: string,
  o: Extract<RaftOutput, { type: 'verifyVote' | 'verifyTerm' }>,
): Promise<boolean> {
  try {
    if (o.type === 'verifyVote') return (await ledger.votedFor(o.term, o.voter)) === selfId;
    return await ledger.termBacked(o.term);
  } catch {
    return false;
  }
}
