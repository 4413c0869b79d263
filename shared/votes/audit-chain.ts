import { createHash } from 'node:crypto';

/**
 * The audit log's hash chain, per partition, in the canonical encoding of
 * docs/architecture.md "Audit log encoding" (qv/audit/v2). Anyone can recompute it from
 * the published entries: each hash covers the previous hash and the entry's content,
 * and the first entry chains from a genesis hash derived from the election and
 * partition. Every hash input is a list of length-prefixed parts behind a
 * domain-separation tag, so no two different lists encode to the same bytes (a `|` in
 * an option or reason can no longer shift one field into the next).
 */

/** The version of the encoding; every tag starts with it. */
export const AUDIT_ENCODING = 'qv/audit/v2';

/** Domain-separation tags, one per kind of hash (never reused for another kind). */
export const auditTags = {
  genesis: `${AUDIT_ENCODING}/genesis`,
  entry: `${AUDIT_ENCODING}/entry`,
  receipt: `${AUDIT_ENCODING}/receipt`,
} as const;

/** A part of a hash input: a string (its UTF-8 bytes) or raw bytes (e.g. `u64`). */
export type HashPart = string | Uint8Array;

/** `u64(n)`: 8 bytes, big-endian (partition numbers, sequence numbers). */
export function u64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`u64 needs a non-negative integer, got ${n}`);
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** `lp(x) = u32be(len(x)) || x`: the length prefix that makes the encoding injective. */
export function lp(part: HashPart): Buffer {
  const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** The exact bytes hashed for `parts` (`lp(p1) || … || lp(pn)`); exported for the test vectors. */
export function encodeParts(parts: HashPart[]): Buffer {
  return Buffer.concat(parts.map(lp));
}

/** `D(p1, …, pn) = SHA-256(lp(p1) || … || lp(pn))` as lowercase hex; `p1` is always a tag. */
export function digest(parts: HashPart[]): string {
  return createHash('sha256').update(encodeParts(parts)).digest('hex');
}

/** A partition's published chain head: the hash of its last audit entry, and how many there are. */
export interface ChainHead {
  hash: string;
  entries: number;
}

/** What an audit entry commits to, besides its chain position. */
export interface AuditEntryContent {
  /** Random public ballot id: names the entry without naming the voter or the time. */
  ballotId: string;
  receipt: string;
  option: string;
  outcome: 'counted' | 'rejected';
  reason: string;
}

/** The hash a partition's chain starts from: `D("qv/audit/v2/genesis", electionId, u64(p))`. */
export function genesisHash(electionId: string, partition: number): string {
  return digest([auditTags.genesis, electionId, u64(partition)]);
}

/**
 * The hash of the `seq`-th entry (1-based) of partition `partition`:
 * `D("qv/audit/v2/entry", electionId, u64(p), u64(seq), prev, ballotId, receipt, option,
 * outcome, reason)`. The sequence number makes a dropped or reordered entry visible
 * even where the published head was not compared.
 */
export function entryHash(
  prev: string,
  electionId: string,
  partition: number,
  seq: number,
  e: AuditEntryContent,
): string {
  return digest([
    auditTags.entry,
    electionId,
    u64(partition),
    u64(seq),
    prev,
    e.ballotId,
    e.receipt,
    e.option,
    e.outcome,
    e.reason,
  ]);
}

/**
 * A receipt: `D("qv/audit/v2/receipt", electionId, ballotId, recorded, nonce)`. It
 * commits to the public ballot id of the one entry that may carry it and to the ballot,
 * so a voter holding the nonce can check that the entry with their receipt is theirs,
 * and the 128-bit secret nonce keeps the choice out of reach of anyone without it.
 */
export function receiptHash(electionId: string, ballotId: string, recorded: string, nonce: string): string {
  return digest([auditTags.receipt, electionId, ballotId, recorded, nonce]);
}
