import { createHmac, randomBytes } from 'node:crypto';
import { ApiError } from '../errors';
import { voteIdPattern } from '../ids';
import type { ChainHead } from '../votes/audit-chain';
import type { NewSecretConfig, SecretElectionFields } from './secret-config';

/**
 * Elections: the record, validation of what admins send, and how an election's votes
 * are split into partitions whose hash tags spread evenly over the cluster's slots.
 */
export type ElectionStatus = 'draft' | 'open' | 'closed';

/**
 * Who may vote: `roll` (the default) is the voter accounts the election admits (all of
 * them, or its voter list); `code` is whoever joins with the election's join code
 * (`POST /join`), each joined device one anonymous identity.
 */
export type ElectionAccess = 'roll' | 'code';

export interface ElectionOption {
  id: string;
  label: string;
}

/**
 * An election. A secret-ballot election (docs/architecture.md "Secret ballots") also
 * carries the {@link SecretElectionFields}; an open one has none of them.
 */
export interface Election extends Partial<SecretElectionFields> {
  id: string;
  title: string;
  options: ElectionOption[];
  status: ElectionStatus;
  opensAt: string | null;
  closesAt: string | null;
  createdAt: string;
  /** True when only the listed voters may vote. */
  restricted: boolean;
  /**
   * Who may vote. Every record read from Redis has it (`roll` for records made before
   * access existed); optional in the type so that elections built in memory (tests,
   * tools) need not name it: absent means `roll`.
   */
  access?: ElectionAccess;
  /** Number of partitions of this election's votes. */
  partitions: number;
  /** Hide totals until close (default false: live totals). */
  hideTotalsUntilClosed: boolean;
  /**
   * How many options a ballot may choose ("choose up to m", issue 17): 1 (single choice)
   * unless the election was made with more. A secret ballot's is its `maxSelections`.
   * Every election read from the store has it; absent only on records built by hand
   * (tests), which count as 1.
   */
  maxChoices?: number;
  closedAt: string | null;
  /**
   * Once the result is final: every partition's audit chain head, recorded with the
   * election itself, so the final log stays checkable against it (docs/architecture.md
   * "Chain heads"). Absent until then.
   */
  finalChainHeads?: Record<string, ChainHead>;
}

/** What POST /elections accepts, after validation (new-election.ts). */
export interface NewElection {
  title: string;
  options: ElectionOption[];
  opensAt: string | null;
  closesAt: string | null;
  voters: string[] | null;
  hideTotalsUntilClosed: boolean;
  /** Up to how many options an open ballot may choose (1 ≤ m ≤ options); absent = 1. */
  maxChoices?: number;
  /** Secret-ballot settings; null or absent for an open election. */
  secret?: NewSecretConfig | null;
  /** Who may vote (default `roll`). */
  access?: ElectionAccess;
}

/** How far past `closesAt` a clock must be before submit refuses on its own. */
export const PAST_CLOSE_GRACE_MS = 2000;

/**
 * True when `now` is clearly past `closesAt` (by more than {@link PAST_CLOSE_GRACE_MS}).
 * Submit uses it as extra safety only: the leader closes the gates at `closesAt` by
 * synchronized time and the gate decides intake; this keeps a late close (a leader
 * failover) from taking votes long after the advertised end. It never rejects a vote
 * that was already taken.
 */
export function clearlyPastClose(closesAt: string | null, now: number): boolean {
  return closesAt !== null && now > Date.parse(closesAt) + PAST_CLOSE_GRACE_MS;
}

const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** A short random id of [a-z0-9] (no separators, so vote ids parse unambiguously). */
export function newElectionId(): string {
  const bytes = randomBytes(12);
  let s = 'el';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

/**
 * The partition of a voter. With a salt (every election made now has one): the first
 * 4 bytes of HMAC-SHA256(salt, voterId), big-endian, mod `partitions`. The salt is a
 * per-election secret kept in the election record and never published, so knowing a
 * user id no longer tells anyone which partition (which audit chain) holds their
 * ballot. Without one (an election made before salts), the old public FNV-1a hash, so
 * such an election keeps sending each voter to the partition that holds their vote.
 */
export function partitionOf(voterId: string, partitions: number, salt: string): number {
  if (salt) {
    return (
      createHmac('sha256', Buffer.from(salt, 'hex')).update(voterId, 'utf8').digest().readUInt32BE(0) %
      partitions
    );
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < voterId.length; i++) {
    h ^= voterId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** A new per-election partition salt: 256 random bits, hex. */
export function newPartitionSalt(): string {
  return randomBytes(32).toString('hex');
}

/** A vote id carries its election, partition and stream id, so any lookup goes straight to its slot. */
export function makeVoteId(electionId: string, p: number, streamId: string): string {
  return `${electionId}.${p}.${streamId}`;
}

export function parseVoteId(voteId: string): { electionId: string; p: number; streamId: string } {
  const m = voteIdPattern.exec(voteId);
  if (!m) throw new ApiError(404, 'not_found', 'Vote not found');
  return { electionId: m[1]!, p: Number(m[2]), streamId: m[3]! };
}
