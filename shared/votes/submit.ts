import { createHash } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { Clock } from '../clock';
import { ApiError, badRequest, unavailable } from '../errors';
import { type Election, makeVoteId, partitionOf } from '../elections/model';
import { partitionKeys } from '../redis/keys';
import { type MasterTarget, ReplicaWaits } from '../redis/replica-waits';
import { defineScript, reply, runScript } from '../redis/scripts';
import { type BallotScheme, makeReceipt } from './ballot';
import { decodeReceiptToken, encodeReceiptToken } from './vote-log';
import { isVoteWeight, MAX_VOTE_WEIGHT } from './weight';

/** The partition data the submit path needs about an election (cached by callers). */
export interface SubmitElection extends Election {
  tags: string[];
  /** The election's secret partition key (see `partitionOf`); '' for elections made before it. */
  partitionSalt: string;
}

export interface SubmitOptions {
  /**
   * Replicas that must have the vote before 202 (Redis WAIT); 0 skips WAIT and with it
   * the durability promise (tests and benchmarks of other parts only).
   */
  waitReplicas: number;
  waitTimeoutMs: number;
  /**
   * The vote's weight (an integer from 1 to {@link MAX_VOTE_WEIGHT}; default 1): the
   * voter's weight on the election's roll, which the caller looked up. It travels in the
   * vote log entry, each chosen option's tally grows by it at finalize, the audit entry
   * records it, and every recount (`npm run verify`) multiplies by it. Open ballots only:
   * a secret ballot's tally is a sum of encrypted 0/1 selections (BALLOTS.md qv/v1), so a
   * weight other than 1 on a secret election is refused (409 `weight_not_supported`).
   */
  weight?: number;
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
  /** Replicas that acknowledged the write (when WAIT is on): at least `waitReplicas`. */
  replicated?: number;
}

export const enqueueVoteScript = defineScript('enqueueVote', {
  keys: 6,
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

type EnqueueReply = ReturnType<typeof enqueueVoteScript.parse>;

const idempotencyKeyPattern = /^[\x21-\x7b\x7d-\x7e]{1,200}$/; // printable ASCII without '|' or spaces

/** Seconds a client should wait before retrying a vote that could not be made durable. */
export const SUBMIT_RETRY_AFTER_S = 1;

const errors: Record<string, ApiError> = {
  election_not_open: new ApiError(409, 'election_not_open', 'This election is not open for voting'),
  not_eligible: new ApiError(403, 'not_eligible', 'You are not on the voter list of this election'),
  already_voted: new ApiError(409, 'already_voted', 'You have already voted in this election'),
  weight_not_supported: new ApiError(
    409,
    'weight_not_supported',
    'This election counts every ballot once: a secret ballot cannot carry a weight other than 1',
  ),
  idempotency_key_reused: new ApiError(
    422,
    'idempotency_key_reused',
    'This Idempotency-Key was already used for a different vote; use a new key for a new request',
  ),
};

/** Refusal of a vote that may be stored but is not yet on a replica: retry with the same key. */
const notDurable = (why: string): ApiError =>
  unavailable(
    `The vote could not be confirmed on two Redis processes (${why}); retry with the same Idempotency-Key`,
    SUBMIT_RETRY_AFTER_S,
  );

/**
 * What an Idempotency-Key is bound to (IETF Idempotency-Key draft: a key reused with
 * another request is an error): SHA-256 over the length-prefixed election, key and
 * recorded choice. The parsed choice, not the raw body, so that formatting does not
 * matter.
 */
export function requestHash(electionId: string, idempotencyKey: string, recorded: string): string {
  const h = createHash('sha256');
  for (const part of [electionId, idempotencyKey, recorded]) {
    const b = Buffer.from(part, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len).update(b);
  }
  return h.digest('hex');
}

const replicaWaits = new WeakMap<Cluster, ReplicaWaits>();
function replicaWaitsOf(redis: Cluster): ReplicaWaits {
  let w = replicaWaits.get(redis);
  if (!w) {
    w = new ReplicaWaits(redis);
    replicaWaits.set(redis, w);
  }
  return w;
}

const MAX_REDIRECTS = 2;

/** ioredis' `refreshSlotsCache` as a promise (it never rejects: errors are retried by the caller). */
function refreshSlots(redis: Cluster): Promise<void> {
  return new Promise((resolve) => redis.refreshSlotsCache(() => resolve()));
}

/**
 * Runs the enqueue script on the connection of the key's master itself (not routed by
 * the cluster client), preceded by `CLIENT ID` on that connection, so the caller knows
 * which connection the write's final execution ran on (a NOSCRIPT fallback to EVAL goes
 * to the same connection). A MOVED answer re-reads the slot map and tries the new master.
 */
async function writeOnMaster(redis: Cluster, waits: ReplicaWaits, keys: string[], args: (string | number)[]) {
  const key = keys[0]!;
  for (let attempt = 0; ; attempt++) {
    let target = waits.target(key);
    const known = target ?? waits.locate(key);
    if (!target && (redis.status !== 'ready' || known?.node.status === 'wait')) {
      // The client has not connected to this master yet (first call of a container, or
      // the first vote for this master): a routed command connects it and learns the slot map.
      await redis.exists(key);
      target = waits.target(key);
    }
    if (!target) {
      redis.refreshSlotsCache(); // its master is (re)connecting or just failed over
      throw notDurable('no connected master for this partition');
    }
    const id = target.node.call('CLIENT', 'ID') as Promise<number>;
    const written = runScript(target.node, enqueueVoteScript, keys, args);
    try {
      const [clientId, r] = await Promise.all([id, written]);
      return { r, target, clientId };
    } catch (err) {
      if (err instanceof Error && /^(MOVED|ASK|READONLY) /.test(err.message)) {
        // Sent on one master's connection, so ioredis does not follow redirections: the
        // slot moved (failover), is migrating (resharding), or the node we knew as its
        // master came back as a replica (READONLY: nothing was written). Re-read the map and retry;
        // a slot still in flux after that is a "retry shortly", not an error.
        if (attempt >= MAX_REDIRECTS) throw notDurable('the partition is moving between masters');
        await refreshSlots(redis);
        continue;
      }
      throw err;
    }
  }
}

/** Resolves once a WAIT on the write's own connection confirmed enough replicas; else throws 503. */
async function confirmReplicated(
  waits: ReplicaWaits,
  target: MasterTarget,
  clientId: number,
  opts: SubmitOptions,
): Promise<number> {
  let outcome: Awaited<ReturnType<ReplicaWaits['after']>>;
  try {
    outcome = await waits.after(target, opts.waitReplicas, opts.waitTimeoutMs);
  } catch {
    throw notDurable('the master did not answer WAIT');
  }
  if (outcome.clientId !== clientId) throw notDurable('the connection to the master was replaced');
  if (outcome.replicas < opts.waitReplicas) throw notDurable('no replica acknowledged it in time');
  return outcome.replicas;
}

/**
 * Takes a vote in: validate, then one atomic script in the voter's partition (gate,
 * eligibility, one vote per voter, idempotency bound to the request, append to the
 * vote log) on its master's connection, then a `WAIT` on that same connection after the
 * script's reply. 202 only when `waitReplicas` replicas confirmed: the vote is then on
 * at least two Redis processes and survives the loss of one. Otherwise 503 with
 * Retry-After: the vote may be stored, and a retry with the same Idempotency-Key
 * (answered 'dup' by the script, which rewrites its record so the new WAIT covers it)
 * returns the same vote id once a replica has it.
 */
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
  const weight = opts.weight ?? 1;
  if (!isVoteWeight(weight)) {
    // The roll validated every weight at import: another value is a caller's bug.
    throw new RangeError(`A vote weight must be an integer from 1 to ${MAX_VOTE_WEIGHT}, got ${weight}`);
  }
  if (weight !== 1 && election.ballot === 'secret') throw errors['weight_not_supported']!;
  const recorded = ballot.parse(election, body);
  const p = partitionOf(voter, election.partitions, election.partitionSalt);
  const tag = election.tags[p];
  if (!tag) throw new Error(`Election ${election.id} has no partition ${p}`);
  const k = partitionKeys(tag);
  // The script keeps the receipt, ballot id and nonce as one opaque token (vote-log.ts).
  const receipt = encodeReceiptToken(
    ballot.receipt?.(election, recorded) ?? makeReceipt(election.id, recorded),
  );
  const keys = [k.gate, k.eligible, k.voters, k.votes, k.validatorsWaiting, k.wake];
  const hash = idempotencyKey === undefined ? '' : requestHash(election.id, idempotencyKey, recorded);
  const args = [
    voter,
    recorded,
    receipt,
    idempotencyKey ?? '',
    clock.now(),
    election.restricted ? '1' : '0',
    hash,
    weight === 1 ? '' : String(weight), // weight 1: no field, the entry as before weights
  ];
  let r: EnqueueReply;
  let replicated: number | undefined;
  if (opts.waitReplicas > 0) {
    const waits = replicaWaitsOf(redis);
    const written = await writeOnMaster(redis, waits, keys, args);
    r = written.r;
    if (r.kind !== 'err') replicated = await confirmReplicated(waits, written.target, written.clientId, opts);
  } else {
    r = await runScript(redis, enqueueVoteScript, keys, args);
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
