/**
 * The bytes every audit hash is computed over, in the canonical encoding of
 * docs/architecture.md "Audit log encoding" (qv/audit/v2). Pure: no `node:crypto`, no
 * `Buffer`, only `TextEncoder` and `DataView`, so the browser verifier (web/src/audit.ts,
 * WebCrypto) and the server and CLI (audit-chain.ts, node:crypto) hash the very same
 * input built by the very same code and cannot drift apart. Each hash is SHA-256 over
 * one of the `*Input` byte strings below.
 *
 * Every hash input is a list of length-prefixed parts behind a domain-separation tag,
 * so no two different lists encode to the same bytes (a `|` in an option or reason
 * cannot shift one field into the next).
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
  /**
   * The vote's weight when it is not 1 (absent = 1). Only a weighted vote's entry has it,
   * so every entry of an unweighted election hashes exactly as before weights existed.
   */
  weight?: number;
}

const utf8 = new TextEncoder();

/** `u64(n)`: 8 bytes, big-endian (partition numbers, sequence numbers). */
export function u64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`u64 needs a non-negative integer, got ${n}`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/**
 * The exact bytes hashed for `parts`: `lp(p1) || … || lp(pn)` with
 * `lp(x) = u32be(len(x)) || x`, the length prefix that makes the encoding injective.
 * Backed by a plain `ArrayBuffer`, as WebCrypto's `digest` requires.
 */
export function encodeParts(parts: HashPart[]): Uint8Array<ArrayBuffer> {
  const bytes = parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : p));
  const out = new Uint8Array(new ArrayBuffer(bytes.reduce((n, b) => n + 4 + b.length, 0)));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const b of bytes) {
    view.setUint32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** Input of the hash a partition's chain starts from: `"qv/audit/v2/genesis", electionId, u64(p)`. */
export function genesisInput(electionId: string, partition: number): Uint8Array<ArrayBuffer> {
  return encodeParts([auditTags.genesis, electionId, u64(partition)]);
}

/**
 * Input of the hash of the `seq`-th entry (1-based) of partition `partition`:
 * `"qv/audit/v2/entry", electionId, u64(p), u64(seq), prev, ballotId, receipt, option,
 * outcome, reason`, then `"weight", u64(weight)` only when the entry has a weight other
 * than 1. The sequence number makes a dropped or reordered entry visible even where the
 * published head was not compared. Optional fields come as (name, value) pairs after
 * `reason`, each only when it differs from its default: the length prefixes keep lists
 * of different lengths apart, the names keep one optional field from passing for another.
 */
export function entryInput(
  prev: string,
  electionId: string,
  partition: number,
  seq: number,
  e: AuditEntryContent,
): Uint8Array<ArrayBuffer> {
  return encodeParts([
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
    ...(e.weight !== undefined && e.weight !== 1 ? ['weight', u64(e.weight)] : []),
  ]);
}

/**
 * Input of a receipt: `"qv/audit/v2/receipt", electionId, ballotId, recorded, nonce`. It
 * commits to the public ballot id of the one entry that may carry it and to the ballot,
 * so a voter holding the nonce can check that the entry with their receipt is theirs,
 * and the 128-bit secret nonce keeps the choice out of reach of anyone without it.
 */
export function receiptInput(
  electionId: string,
  ballotId: string,
  recorded: string,
  nonce: string,
): Uint8Array<ArrayBuffer> {
  return encodeParts([auditTags.receipt, electionId, ballotId, recorded, nonce]);
}

/** Lowercase hex of a digest, the form every audit hash is published in. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
