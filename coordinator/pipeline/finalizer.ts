import type { Cluster } from 'ioredis';
import type { Clock } from '../../shared/clock';
import { beforeClosingPoint, closingPoint, parseGate, recordedPoints } from '../../shared/elections/gates';
import { makeVoteId } from '../../shared/elections/model';
import type { ElectionRecord } from '../../shared/elections/store';
import type { Logger } from '../../shared/logger';
import type { FinalizedBatchMessage } from '../../shared/realtime/channel-messages';
import { electionChannel, partitionKeys } from '../../shared/redis/keys';
import { defineScript, reply, runScript } from '../../shared/redis/scripts';
import { type AuditEntryContent, entryHash, genesisHash } from '../../shared/votes/audit-chain';
import type { BallotScheme } from '../../shared/votes/ballot';
import { compareStreamIds } from '../../shared/votes/stream-ids';
import { countVerdicts, decide, majorityCheckpoint } from '../../shared/votes/verdict';
import { decodeVoteLogEntry } from '../../shared/votes/vote-log';
import { WAKE_FLAG_TTL_MS } from './wake-ups';
import type { PipelineObserver } from './observer';
import type { Group } from '../../shared/ballots';
import { createSodiumGroup } from '../../shared/ballots/group-sodium';
import { planSecretBatch } from './secret-batch';

/** The reply of both finalize scripts (open and secret ballots). */
const parseFinalizeReply = (name: string) => (r: unknown) => {
  const a = reply.array(name, r, 2);
  const ok = reply.integer(name, a[0]) === 1;
  return ok
    ? { ok: true as const, count: reply.integer(name, a[1]) }
    : {
        ok: false as const,
        why: reply.oneOf(name, a[1], ['fenced', 'moved'] as const),
        current: a[2] === undefined ? undefined : Number(a[2]),
      };
};

export const finalizeVotesScript = defineScript('finalizeVotes', {
  keys: 7,
  parse: parseFinalizeReply('finalizeVotes'),
});

/** Secret ballots: the same step, plus the running encrypted tally's compare-and-set. */
export const finalizeSecretVotesScript = defineScript('finalizeSecretVotes', {
  keys: 7,
  parse: parseFinalizeReply('finalizeSecretVotes'),
});

/** Where a partition stands, as its owner last wrote or read it. */
interface Position {
  /** Last finalized stream id ('' none yet) and the audit chain's head hash ('' none yet). */
  fin: string;
  head: string;
  /** Entries in the partition's audit chain (the next entry's sequence number is this + 1). */
  entries: number;
  /** Secret ballots: the partition's running encrypted tally (JSON; '' none yet). */
  etally: string;
  /** When it was learned (ms, monotonic): re-read after a while, in case of a reset. */
  at: number;
}

/** How long a cached position is trusted without a write of ours confirming it. */
const POSITION_TTL_MS = 5000;

/**
 * The group the running encrypted tallies are added in: libsodium's, whose points are
 * their encodings (secret-batch.ts); loaded at the first secret batch only.
 */
let tallyGroup: Promise<Group<Uint8Array>> | null = null;

/** Thrown when a finalize was refused for a stale fencing token: ownership is lost. */
export class FencedError extends Error {
  constructor(
    readonly partition: number,
    readonly current: number | undefined,
  ) {
    super(`partition ${partition}: fencing token superseded (now ${current})`);
    this.name = 'FencedError';
  }
}

interface Outcome {
  sid: string;
  entry: AuditEntryContent;
  countKey: string;
  /** When the vote was accepted (ms, the accepting function's clock), for the latency metric. */
  acceptedAt: number;
  /** The vote log's recorded text (secret ballots chain and tally from it). */
  recorded: string;
}

/**
 * The partition owner's work: find the votes a majority of the committee has judged,
 * decide each (counted when a majority approved, rejected when a majority objected),
 * chain their audit hashes, and finalize the batch with one fenced script. Votes are
 * finalized strictly in log order; a vote without a majority yet holds the rest back.
 */
export class Finalizer {
  finalized = 0;
  rejected = 0;
  /**
   * Per partition ("<election>|<p>"): the position this owner left it at. The finalize
   * script checks it (expected finalized id and head), so a stale one is refused as
   * 'moved' and re-read; it saves two reads on every idle poll.
   */
  private readonly positions = new Map<string, Position>();
  /** Per partition: the checkpoints read sent along with the last finalize. */
  private readonly prefetched = new Map<string, Promise<(string | null)[]>>();
  /** Told of every batch this node finalizes (the metrics); none by default. */
  observer: PipelineObserver | undefined;
  /** Partitions whose last checkpoint read found nothing to do with the wake-up flag set (push). */
  private readonly waitingKeys = new Set<string>();

  constructor(
    private readonly redis: Cluster,
    private readonly clock: Clock,
    private readonly committee: string[],
    private readonly ballot: BallotScheme,
    private readonly log: Logger,
    private readonly batchSize = 1000,
    /** Test mode only: wait between deciding a batch and writing it (a widened pause window). */
    private readonly writeDelayMs = 0,
    /**
     * Push, per partition ("<election>|<p>"): a fresh checkpoints read sets the
     * partition's owner-waiting flag first, so the next recorded verdict sends a notice;
     * the pipeline says true for the partitions whose notices it hears.
     */
    private readonly push: (key: string) => boolean = () => false,
  ) {}

  /** True when partition `key`'s last poll found nothing and left the wake-up flag: it may wait. */
  waiting(key: string): boolean {
    return this.waitingKeys.has(key);
  }

  /**
   * The committee's checkpoints. With `arm`, the owner-waiting flag is set first on the
   * same connection: a verdict recorded after the read sees it and sends a notice.
   */
  private checkpointsOf(e: ElectionRecord, p: number, arm = false): Promise<(string | null)[]> {
    const k = partitionKeys(e.tags[p]!);
    const flag = arm ? this.redis.set(k.ownerWaiting, '1', 'PX', WAKE_FLAG_TTL_MS) : null;
    const cps = this.redis.hmget(k.checkpoints, ...this.committee);
    return flag ? Promise.all([flag, cps]).then(([, c]) => c) : cps;
  }

  private async position(e: ElectionRecord, p: number, key: string): Promise<Position> {
    const known = this.positions.get(key);
    if (known && performance.now() - known.at < POSITION_TTL_MS) return known;
    const k = partitionKeys(e.tags[p]!);
    const [fin, head, entries, etally] = await Promise.all([
      this.redis.get(k.finalized),
      this.redis.get(k.head),
      this.redis.hget(k.stats, 'entries'),
      e.ballot === 'secret' ? this.redis.get(k.etally) : null,
    ]);
    const pos = {
      fin: fin ?? '',
      head: head ?? '',
      entries: Number(entries ?? 0),
      etally: etally ?? '',
      at: performance.now(),
    };
    this.positions.set(key, pos);
    return pos;
  }

  /** Drops cached positions and reads (ownership lost, election retired). */
  forget(electionId?: string, partition?: number): void {
    for (const key of [...this.positions.keys(), ...this.prefetched.keys()]) {
      const [id, p] = key.split('|');
      if ((!electionId || id === electionId) && (partition === undefined || Number(p) === partition)) {
        this.positions.delete(key);
        this.prefetched.delete(key);
        this.waitingKeys.delete(key);
      }
    }
  }

  /** Finalizes what is ready in partition `p` of `e`; returns votes finalized. */
  async finalizePartition(e: ElectionRecord, p: number, fencingToken: number): Promise<number> {
    const k = partitionKeys(e.tags[p]!);
    const key = `${e.id}|${p}`;
    const prefetched = this.prefetched.get(key);
    this.prefetched.delete(key);
    this.waitingKeys.delete(key);
    // An idle poll costs one command: the committee's checkpoints. A prefetched read that
    // shows nothing new is stale by now: read afresh.
    const { fin, head, entries, etally } = await this.position(e, p, key);
    const agreedIn = (cps: (string | null)[]): string | undefined => {
      const agreed = majorityCheckpoint(cps, this.committee.length);
      return agreed && (!fin || compareStreamIds(agreed, fin) > 0) ? agreed : undefined;
    };
    let cps = prefetched ? await prefetched : null;
    // A fresh read arms the wake-up flag (push): if it shows nothing to do, the owner may
    // wait for the next verdict's notice. A prefetched one did not: nothing found after
    // it is polled again soon (then afresh).
    let armed = false;
    if (!cps || !agreedIn(cps)) {
      armed = this.push(key);
      cps = await this.checkpointsOf(e, p, armed);
    }
    const agreed = agreedIn(cps);
    const idle = (): number => {
      if (armed) this.waitingKeys.add(key);
      return 0;
    };
    if (!agreed) return idle();
    const n = this.committee.length;
    // The gate is read after the log (same connection, in order): open means every row
    // lies before the point a later close records; closed gives the final point.
    const [rows, objectionCount, gate, recorded] = await Promise.all([
      this.redis.xrange(k.votes, fin ? `(${fin}` : '-', agreed, 'COUNT', this.batchSize),
      this.redis.hlen(k.objections),
      this.redis.get(k.gate),
      recordedPoints(this.redis, e),
    ]);
    const closePoint = closingPoint(parseGate(gate), recorded?.[p]);
    if (rows.length === 0) return 0;
    let objections: string[] = [];
    if (objectionCount > 0) {
      const fields = rows.flatMap(([sid]) => this.committee.map((v) => `${v}|${sid}`));
      objections = (await this.redis.hmget(k.objections, ...fields)).map((o) => o ?? '');
    }
    const at = new Date(this.clock.now()).toISOString();
    const outcomes: Outcome[] = [];
    for (const [i, [sid, fields]] of rows.entries()) {
      const entry = decodeVoteLogEntry(fields);
      // The closing point is the same rule validators apply: nothing after it counts,
      // whatever verdicts a validator with a stale view recorded.
      const decision =
        closePoint && !beforeClosingPoint(sid, closePoint)
          ? { outcome: 'rejected' as const, reason: 'after_close' }
          : decide(countVerdicts(sid, cps, objections.slice(i * n, (i + 1) * n)), n);
      if (decision.outcome === 'pending') break; // no majority either way yet: wait for more verdicts
      const { outcome } = decision;
      const reason = decision.outcome === 'rejected' ? decision.reason : '';
      outcomes.push({
        sid,
        acceptedAt: entry.at,
        countKey: this.ballot.countKey(entry.option),
        recorded: entry.option,
        entry: {
          ballotId: entry.ballotId,
          receipt: entry.receipt,
          option: entry.option,
          outcome,
          reason,
          // Only a weighted vote's entry names its weight (audit-encoding.ts).
          ...(entry.weight === 1 ? {} : { weight: entry.weight }),
        },
      });
    }
    if (outcomes.length === 0) return idle(); // the next verdict may decide the first one
    const firstPrev = head || genesisHash(e.id, p);
    let prev = firstPrev;
    let newTally = etally;
    let written: ReturnType<typeof runScript<ReturnType<typeof finalizeVotesScript.parse>>>;
    // ARGV[1..9], the same for both finalize scripts (includes/finalize-checks.lua);
    // called once `prev` holds the batch's new head.
    const batchArgs = (): (string | number)[] => [
      fencingToken,
      fin,
      outcomes[outcomes.length - 1]!.sid,
      head,
      prev,
      at,
      outcomes.length,
      firstPrev,
      entries + 1,
    ];
    if (e.ballot === 'secret') {
      tallyGroup ??= createSodiumGroup();
      const g = await tallyGroup;
      const plan = planSecretBatch(
        e,
        p,
        entries + 1,
        firstPrev,
        etally,
        outcomes.map((o) => ({
          sid: o.sid,
          ballotId: o.entry.ballotId,
          recorded: o.recorded,
          outcome: o.entry.outcome,
          reason: o.entry.reason,
        })),
        g,
      );
      prev = plan.head;
      newTally = plan.tally;
      if (this.writeDelayMs > 0) await new Promise((r) => setTimeout(r, this.writeDelayMs));
      written = runScript(
        this.redis,
        finalizeSecretVotesScript,
        [k.fence, k.finalized, k.head, k.etally, k.stats, k.rejected, k.audit],
        [...batchArgs(), etally, newTally, ...plan.args],
      );
    } else {
      const args: (string | number)[] = [];
      for (const [i, o] of outcomes.entries()) {
        const hash = entryHash(prev, e.id, p, entries + 1 + i, o.entry);
        args.push(
          o.sid,
          o.entry.outcome,
          o.entry.option,
          o.entry.receipt,
          o.entry.reason,
          hash,
          o.entry.ballotId,
          o.entry.weight === undefined ? '' : String(o.entry.weight),
        );
        prev = hash;
      }
      if (this.writeDelayMs > 0) await new Promise((r) => setTimeout(r, this.writeDelayMs));
      written = runScript(
        this.redis,
        finalizeVotesScript,
        [k.fence, k.finalized, k.head, k.tally, k.stats, k.rejected, k.audit],
        [...batchArgs(), ...args],
      );
    }
    // Same slot, same connection, same tick: the next poll's read rides in this trip.
    const next = this.checkpointsOf(e, p);
    next.catch(() => {});
    let r: Awaited<typeof written>;
    const writeStarted = performance.now();
    try {
      r = await written;
    } catch (err) {
      this.positions.delete(key); // unknown outcome: re-read the position
      throw err;
    }
    if (!r.ok) {
      this.positions.delete(key); // fenced, or someone else moved it: re-read
      if (r.why === 'fenced') throw new FencedError(p, r.current);
      return 0;
    }
    this.positions.set(key, {
      fin: outcomes[outcomes.length - 1]!.sid,
      head: prev,
      entries: entries + outcomes.length,
      etally: newTally,
      at: performance.now(),
    });
    this.prefetched.set(key, next);
    this.observer?.batchFinalized(
      outcomes.map((o) => o.acceptedAt),
      Date.parse(at),
      performance.now() - writeStarted,
    );
    const counted = outcomes.filter((o) => o.entry.outcome === 'counted');
    const rejected = outcomes.filter((o) => o.entry.outcome === 'rejected');
    this.finalized += counted.length;
    this.rejected += rejected.length;
    const event: FinalizedBatchMessage = {
      type: 'votes.finalized',
      electionId: e.id,
      partition: p,
      counted: counted.map((o) => makeVoteId(e.id, p, o.sid)),
      rejected: rejected.map((o) => ({ voteId: makeVoteId(e.id, p, o.sid), reason: o.entry.reason })),
      at,
    };
    // Not awaited: the finalize is done; the announcement must not hold the next batch up.
    this.redis
      .spublish(electionChannel(e.id), JSON.stringify(event))
      .catch((err: unknown) => this.log.debug('publish failed', { err: String(err) }));
    return outcomes.length;
  }
}
