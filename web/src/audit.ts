import { receiptInput, toHex } from '../../shared/votes/audit-encoding';
import { type VerifyReport as CheckedLog, verifyAuditAsync } from '../../shared/votes/audit-verify';
import type { ChainHead } from '../../shared/votes/audit-encoding';
import type { AuditEntry, Results } from './api';

/**
 * Verifies an audit log in the browser, without trusting the server, with the very
 * verifier `npm run verify` runs (shared/votes/audit-verify.ts: every hash link and
 * sequence number, each chain against the published heads, the recount against the
 * published results, receipts or ballot ids carried by two entries), over the bytes
 * shared/votes/audit-encoding.ts builds, hashed here with WebCrypto.
 */
async function sha256Hex(input: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', input)));
}

/** The receipt a voter holding `nonce` expects for the entry's ballot id and option. */
export function receiptHash(
  electionId: string,
  ballotId: string,
  option: string,
  nonce: string,
): Promise<string> {
  return sha256Hex(receiptInput(electionId, ballotId, option, nonce));
}

export interface PartitionReport {
  partition: number;
  entries: number;
  /** No problem in this partition's chain (links, hashes, sequence numbers, published head). */
  ok: boolean;
}

/** The shared verifier's report, per partition for the table, and the entries by receipt for look-ups. */
export interface VerifyReport extends CheckedLog {
  partitions: PartitionReport[];
  byReceipt: Map<string, AuditEntry>;
}

export async function verifyAudit(
  electionId: string,
  partitions: number,
  entries: AuditEntry[],
  published: Pick<Results, 'totals' | 'finalized' | 'rejected' | 'hidden' | 'chainHeads'> | null,
  /** Heads recorded earlier (the election's `finalChainHeads`): the log must still extend them. */
  savedHeads: Record<string, ChainHead> | null = null,
): Promise<VerifyReport> {
  // Hidden totals (until close) hide the log too: nothing to check it against yet.
  const hidden = !published || published.hidden === true;
  const report = await verifyAuditAsync(
    sha256Hex,
    electionId,
    partitions,
    entries,
    hidden ? null : published,
    [],
    hidden ? null : savedHeads,
  );
  const byReceipt = new Map<string, AuditEntry>();
  for (const e of entries) if (!byReceipt.has(e.receipt)) byReceipt.set(e.receipt, e);
  return {
    ...report,
    partitions: Array.from({ length: partitions }, (_, p) => ({
      partition: p,
      entries: report.heads[String(p)]?.entries ?? 0,
      ok: !report.broken.includes(p),
    })),
    byReceipt,
  };
}
