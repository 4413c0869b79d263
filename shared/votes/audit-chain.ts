import { createHash } from 'node:crypto';
import { type AuditEntryContent, entryInput, genesisInput, receiptInput } from './audit-encoding';

/**
 * The audit log's hash chain, per partition (docs/architecture.md "Audit log encoding",
 * qv/audit/v2), on the server and in the CLI verifier: SHA-256 with node:crypto over the
 * inputs of audit-encoding.ts, which the browser verifier hashes with WebCrypto. Anyone
 * can recompute it from the published entries: each hash covers the previous hash and
 * the entry's content, and the first entry chains from a genesis hash derived from the
 * election and partition.
 */
export {
  AUDIT_ENCODING,
  type AuditEntryContent,
  auditTags,
  type ChainHead,
  encodeParts,
  type HashPart,
  u64,
} from './audit-encoding';

/** SHA-256 as lowercase hex, with node:crypto. */
export const sha256Hex = (input: Uint8Array): string => createHash('sha256').update(input).digest('hex');

/** The hash a partition's chain starts from: `D("qv/audit/v2/genesis", electionId, u64(p))`. */
export function genesisHash(electionId: string, partition: number): string {
  return sha256Hex(genesisInput(electionId, partition));
}

/** The hash of the `seq`-th entry (1-based) of partition `partition` (see `entryInput`). */
export function entryHash(
  prev: string,
  electionId: string,
  partition: number,
  seq: number,
  e: AuditEntryContent,
): string {
  return sha256Hex(entryInput(prev, electionId, partition, seq, e));
}

/** A receipt: `D("qv/audit/v2/receipt", electionId, ballotId, recorded, nonce)` (see `receiptInput`). */
export function receiptHash(electionId: string, ballotId: string, recorded: string, nonce: string): string {
  return sha256Hex(receiptInput(electionId, ballotId, recorded, nonce));
}
