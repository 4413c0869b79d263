import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError, badRequest } from '../errors';
import { type Election, makeVoteId, partitionOf } from '../elections/model';
import { partitionKeys } from '../redis/keys';
import { ReplicaWaits } from '../redis/replica-waits';
import { defineScript, reply, runScript } from '../redis/scripts';
import { type BallotScheme, makeReceipt } from './ballot';
import { decodeReceiptToken, encodeReceiptToken } from './vote-log';

/** The partition data the submit path needs about an election (cached by callers). */
export interface SubmitElection extends Election {
  tags: string[];
  /** The election's secret partition key (see `partitionOf`); '' for elections made before it. */
  partitionSalt: string;
}

export interface SubmitOptions {
  /** Replicas that must have the vote before 202 (Redis WAIT); 0 skips WAIT. */
  waitReplicas: number;
  waitTimeoutMs: number;
}

export interface SubmitResult {
  voteId: string;
  status: 'pending';
  receipt: string;
  /** The ballot's public id in the audit log (the entry that carries `receipt`). */
  ballotId: string;
  /** The receipt's secret nonce, for the voter only: recomputes `receipt` from the entry. */
  receiptNonce: string;
  /** True when this was a repeat with the same Idempotency-Key. */
  duplicate: boolean;
  /** Replicas that acknowledged the write (when WAIT is on). */
  replicated?: number;
}

export const enqueueVoteScript = defineScript('enqueueVote', {
  keys: 4,
  parse: (r) => {
    const a = reply.array('enqueueVote', r, 2);
    const kind = reply.oneOf('enqueueVote', a[0], ['ok', 'dup', 'err'] as const);
    return {
      kind,
      value: reply.string('enqueueVote', a[1]),
      receipt: a[2] === undefined ? '' : String(a[2]),
    };
  },
});

const idempotencyKeyPattern = /^[\x21-\x7b\x7d-\x7e]{1,200}$/; // printable ASCII without '|' or spaces

const errors: Record<string, ApiError> = {
  election_not_open: new ApiError(409, 'election_not_open', 'This election is not open for voting'),
  not_eligible: new ApiError(403, 'not_eligible', 'You are not on the voter list of this election'),
  already_voted: new ApiError(409, 'already_voted', 'You have already voted in this election'),
};

/**
 * Takes a vote in: validate, then one atomic script in the voter's partition (gate,
 * eligibility, one vote per voter, idempotency, append to the vote log), followed by
 * WAIT in the same round trip so the vote is on a replica before we answer 202.
 */
const replicaWaits = new WeakMap<Cluster, ReplicaWaits>();
function replicaWaitsOf(redis: Cluster): ReplicaWaits {
  let w = replicaWaits.get(redis);
  if (!w) {
    w = new ReplicaWaits(redis);
    replicaWaits.set(redis, w);
  }
  return w;
}

export async function submitVote(
  redis: Cluster,
  clock: Clock,
  ballot: BallotScheme,
  election: SubmitElection,
  voter: string,
  body: unknown,
  idempotencyKey: string | undefined,
  opts: SubmitOptions,
): Promise<SubmitResult> {
  if (idempotencyKey !== undefined && !idempotencyKeyPattern.test(idempotencyKey)) {
    throw badRequest('Idempotency-Key must be 1-200 printable characters without spaces or "|"');
  }
  const recorded = ballot.parse(election, body);
  const p = partitionOf(voter, election.partitions, election.partitionSalt);
  const tag = election.tags[p];
  if (!tag) throw new Error(`Election ${election.id} has no partition ${p}`);
  const k = partitionKeys(tag);
  // The script keeps the receipt, ballot id and nonce as one opaque token (vote-log.ts).
  const receipt = encodeReceiptToken(makeReceipt(election.id, recorded));
  const keys = [k.gate, k.eligible, k.voters, k.votes];
  const args = [voter, recorded, receipt, idempotencyKey ?? '', clock.now(), election.restricted ? '1' : '0'];
  let replicated: number | undefined;
  // The vote's write, then a WAIT shared with the other submits of this turn to the same
  // master (see ReplicaWaits), sent behind them on the same connection. A client that
  // does not know the master yet (first call of a container) sends its WAIT after the
  // write's reply instead: still behind the write, one trip later.
  const waits = opts.waitReplicas > 0 ? replicaWaitsOf(redis) : null;
  const waitFor = () => {
    const target = waits?.target(k.votes);
    return target ? waits!.after(target, opts.waitReplicas, opts.waitTimeoutMs) : null;
  };
  const written = runScript(redis, enqueueVoteScript, keys, args);
  let waited = waitFor();
  waited?.catch(() => {}); // a refused vote never looks at it
  const r = await written;
  if (waits && r.kind !== 'err') {
    waited ??= waitFor();
    // The vote is stored: a WAIT that fails (its master just failed over) only means no
    // replica confirmed it, the shortfall reported as `replicated: 0`.
    replicated = waited ? await waited.catch(() => 0) : 0;
  }
  if (r.kind === 'err') throw errors[r.value] ?? new Error(`enqueue-vote: unknown code ${r.value}`);
  const token = decodeReceiptToken(r.receipt);
  return {
    voteId: makeVoteId(election.id, p, r.value),
    status: 'pending',
    receipt: token.receipt,
    ballotId: token.ballotId,
    receiptNonce: token.nonce,
    duplicate: r.kind === 'dup',
    ...(replicated === undefined ? {} : { replicated }),
  };
}
