import { createHash } from 'node:crypto';

/**
 * The audit log's hash chain, per partition. Anyone can recompute it from the
 * published entries: each hash covers the previous hash and the entry's content, and
 * the first entry chains from a genesis hash derived from the election and partition.
 */
export interface AuditEntryContent {
  vote: string;
  receipt: string;
  option: string;
  outcome: 'counted' | 'rejected';
  reason: string;
  at: string;
}

export function genesisHash(electionId: string, partition: number): string {
  return createHash('sha256').update(`quorumvote|${electionId}|${partition}`).digest('hex');
}

export function entryHash(prev: string, electionId: string, partition: number, e: AuditEntryContent): string {
  return createHash('sha256')
    .update(
      `${prev}\n${electionId}|${partition}|${e.vote}|${e.receipt}|${e.option}|${e.outcome}|${e.reason}|${e.at}`,
    )
    .digest('hex');
}
