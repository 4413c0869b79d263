import type { AuditEntry } from './api';

/**
 * Verifies an audit log in the browser, without trusting the server: the same hash
 * chain as shared/votes/audit-chain.ts (SHA-256 over UTF-8, hex), recomputed with
 * WebCrypto, the totals recounted from the entries and compared with the published
 * results, and receipts looked up. Mirrors shared/votes/verify.ts.
 */
const enc = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', enc.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function genesisHash(electionId: string, partition: number): Promise<string> {
  return sha256Hex(`quorumvote|${electionId}|${partition}`);
}

export function entryHash(
  prev: string,
  electionId: string,
  partition: number,
  e: AuditEntry,
): Promise<string> {
  return sha256Hex(
    `${prev}\n${electionId}|${partition}|${e.vote}|${e.receipt}|${e.option}|${e.outcome}|${e.reason}|${e.at}`,
  );
}

export interface PartitionReport {
  partition: number;
  entries: number;
  ok: boolean;
  head: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  counted: number;
  rejected: number;
  totals: Record<string, number>;
  partitions: PartitionReport[];
  problems: string[];
  receipts: Map<string, AuditEntry>;
}

export async function verifyAudit(
  electionId: string,
  partitions: number,
  entries: AuditEntry[],
  published: { totals: Record<string, number>; finalized: number; rejected: number; hidden?: boolean } | null,
): Promise<VerifyReport> {
  const problems: string[] = [];
  const heads = new Map<number, string>();
  const parts: PartitionReport[] = [];
  for (let p = 0; p < partitions; p++) {
    parts.push({ partition: p, entries: 0, ok: true, head: await genesisHash(electionId, p) });
    heads.set(p, parts[p]!.head);
  }
  const totals: Record<string, number> = {};
  const receipts = new Map<string, AuditEntry>();
  const seen = new Set<string>();
  let counted = 0;
  let rejected = 0;
  for (const e of entries) {
    const part = parts[e.partition];
    if (!part) {
      problems.push(`entry ${e.id} names partition ${e.partition}, which does not exist`);
      continue;
    }
    const prev = heads.get(e.partition)!;
    part.entries++;
    if (e.prev !== prev) {
      part.ok = false;
      problems.push(`partition ${e.partition}: entry ${e.id} does not link to the previous hash`);
    }
    const h = await entryHash(prev, electionId, e.partition, e);
    if (h !== e.hash) {
      part.ok = false;
      problems.push(`partition ${e.partition}: entry ${e.id} hash does not match its content`);
    }
    heads.set(e.partition, e.hash);
    part.head = e.hash;
    const key = `${e.partition}:${e.vote}`;
    if (seen.has(key)) problems.push(`vote ${e.voteId} appears twice in the audit log`);
    seen.add(key);
    if (e.outcome === 'counted') {
      counted++;
      totals[e.option] = (totals[e.option] ?? 0) + 1;
    } else rejected++;
    receipts.set(e.receipt, e);
  }
  if (published && !published.hidden) {
    for (const opt of new Set([...Object.keys(totals), ...Object.keys(published.totals)])) {
      const mine = totals[opt] ?? 0;
      const theirs = published.totals[opt] ?? 0;
      if (mine !== theirs) problems.push(`option ${opt}: audit log counts ${mine}, results say ${theirs}`);
    }
    if (published.finalized !== counted)
      problems.push(`audit log has ${counted} counted votes, results say ${published.finalized} finalized`);
    if (published.rejected !== rejected)
      problems.push(`audit log has ${rejected} rejected votes, results say ${published.rejected}`);
  }
  return {
    ok: problems.length === 0,
    entries: entries.length,
    counted,
    rejected,
    totals,
    partitions: parts,
    problems,
    receipts,
  };
}
