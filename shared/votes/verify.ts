import { entryHash, genesisHash } from './audit-chain';
import type { AuditEntry } from './read';

/**
 * Verifies an election's audit log without trusting the server: every hash link of
 * every partition, the totals recomputed from the entries against the published
 * results, and (optionally) that given receipts are in the log.
 */
export interface VerifyReport {
  ok: boolean;
  entries: number;
  counted: number;
  rejected: number;
  totals: Record<string, number>;
  problems: string[];
  receipts: Record<string, 'counted' | 'rejected' | 'missing'>;
}

export function verifyAudit(
  electionId: string,
  partitions: number,
  entries: AuditEntry[],
  published: { totals: Record<string, number>; finalized: number; rejected: number } | null,
  receipts: string[] = [],
): VerifyReport {
  const problems: string[] = [];
  const heads = new Map<number, string>();
  const totals: Record<string, number> = {};
  let counted = 0;
  let rejected = 0;
  const byReceipt = new Map<string, 'counted' | 'rejected'>();
  const seenVotes = new Set<string>();
  for (const e of entries) {
    if (e.partition < 0 || e.partition >= partitions) {
      problems.push(`entry ${e.id} names partition ${e.partition}, which does not exist`);
      continue;
    }
    const prev = heads.get(e.partition) ?? genesisHash(electionId, e.partition);
    if (e.prev !== prev)
      problems.push(`partition ${e.partition}: entry ${e.id} does not link to the previous hash`);
    const h = entryHash(prev, electionId, e.partition, e);
    if (h !== e.hash)
      problems.push(`partition ${e.partition}: entry ${e.id} hash does not match its content`);
    heads.set(e.partition, e.hash);
    const key = `${e.partition}:${e.vote}`;
    if (seenVotes.has(key)) problems.push(`vote ${e.voteId} appears twice in the audit log`);
    seenVotes.add(key);
    if (e.outcome === 'counted') {
      counted++;
      totals[e.option] = (totals[e.option] ?? 0) + 1;
    } else {
      rejected++;
    }
    byReceipt.set(e.receipt, e.outcome);
  }
  if (published) {
    for (const opt of new Set([...Object.keys(totals), ...Object.keys(published.totals)])) {
      const mine = totals[opt] ?? 0;
      const theirs = published.totals[opt] ?? 0;
      if (mine !== theirs) problems.push(`option ${opt}: audit log counts ${mine}, results say ${theirs}`);
    }
    if (published.finalized !== counted) {
      problems.push(`audit log has ${counted} counted votes, results say ${published.finalized} finalized`);
    }
    if (published.rejected !== rejected) {
      problems.push(`audit log has ${rejected} rejected votes, results say ${published.rejected}`);
    }
  }
  const receiptReport: VerifyReport['receipts'] = {};
  for (const r of receipts) {
    receiptReport[r] = byReceipt.get(r) ?? 'missing';
    if (!byReceipt.has(r)) problems.push(`receipt ${r} is not in the audit log`);
  }
  return {
    ok: problems.length === 0,
    entries: entries.length,
    counted,
    rejected,
    totals,
    problems,
    receipts: receiptReport,
  };
}
