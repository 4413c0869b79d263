import { sha256Hex } from './audit-chain';
import type { ChainHead } from './audit-encoding';
import {
  auditHashes,
  type PublishedResults,
  type ReceiptCheck,
  type VerifyReport,
  verifyAuditWith,
} from './audit-verify';
import type { AuditEntry } from './read';

export type { PublishedResults, ReceiptCheck, VerifyReport } from './audit-verify';

const nodeHashes = auditHashes(sha256Hex);

/**
 * Verifies an election's audit log (audit-verify.ts) with node:crypto's SHA-256: what
 * `npm run verify` and the tests run; the browser runs the same checks with WebCrypto.
 */
export function verifyAudit(
  electionId: string,
  partitions: number,
  entries: AuditEntry[],
  published: PublishedResults | null,
  receipts: ReceiptCheck[] = [],
  /** Chain heads published earlier (e.g. a saved `/results`): the log must still extend them. */
  savedHeads: Record<string, ChainHead> | null = null,
): VerifyReport {
  return verifyAuditWith(nodeHashes, electionId, partitions, entries, published, receipts, savedHeads);
}
