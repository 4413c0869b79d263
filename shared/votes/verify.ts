import { entryHash, genesisHash, receiptHash } from './audit-chain';
import type { AuditEntry, ChainHead } from './read';

/**
 * Verifies an election's audit log without trusting the server: every hash link and
 * sequence number of every partition, each partition's chain against its published
 * head (so a log rewritten consistently, every hash recomputed, is still caught), the
 * totals recomputed from the entries against the published results, that no receipt or
 * ballot id is carried by two entries, and (optionally) that given receipts are in the
 * log — and, with the voter's nonce, that the entry carrying a receipt is the one it
 * commits to.
 */
export interface VerifyReport {
  ok: boolean;
  entries: number;
  counted: number;
  rejected: number;
  totals: Record<string, number>;
  /** Per partition: the head hash and entry count recomputed from the log. */
  heads: Record<string, ChainHead>;
  problems: string[];
  receipts: Record<string, 'counted' | 'rejected' | 'missing'>;
}

/** What the results publish that the log is checked against. */
export interface PublishedResults {
  totals: Record<string, number>;
  finalized: number;
  rejected: number;
  chainHeads?: Record<string, ChainHead>;
}

/** A receipt to look up: the bare receipt, or `{receipt, nonce}` to also check its binding. */
export type ReceiptCheck = string | { receipt: string; nonce: string };

export function verifyAudit(
  electionId: string,
  partitions: number,
  entries: AuditEntry[],
  published: PublishedResults | null,
  receipts: ReceiptCheck[] = [],
  /** Chain heads published earlier (e.g. a saved `/results`): the log must still extend them. */
  savedHeads: Record<string, ChainHead> | null = null,
): VerifyReport {
  const problems: string[] = [];
  const chains = new Map<number, { head: string; entries: number; hashAt: Map<number, string> }>();
  for (let p = 0; p < partitions; p++) {
    chains.set(p, { head: genesisHash(electionId, p), entries: 0, hashAt: new Map() });
  }
  const totals: Record<string, number> = {};
  let counted = 0;
  let rejected = 0;
  const byReceipt = new Map<string, AuditEntry[]>();
  const byBallot = new Map<string, number>();
  for (const e of entries) {
    const name = `partition ${e.partition} entry ${e.seq}`;
    const chain = chains.get(e.partition);
    if (!chain) {
      problems.push(`${name} names partition ${e.partition}, which does not exist`);
      continue;
    }
    if (e.seq !== chain.entries + 1) {
      problems.push(`${name}: sequence number ${e.seq} where ${chain.entries + 1} comes next`);
    }
    if (e.prev !== chain.head) problems.push(`${name} does not link to the previous hash`);
    if (entryHash(chain.head, electionId, e.partition, chain.entries + 1, e) !== e.hash) {
      problems.push(`${name}: hash does not match its content`);
    }
    chain.entries++;
    chain.head = e.hash;
    chain.hashAt.set(chain.entries, e.hash);
    byReceipt.set(e.receipt, [...(byReceipt.get(e.receipt) ?? []), e]);
    byBallot.set(e.ballotId, (byBallot.get(e.ballotId) ?? 0) + 1);
    if (e.outcome === 'counted') {
      counted++;
      totals[e.option] = (totals[e.option] ?? 0) + 1;
    } else {
      rejected++;
    }
  }
  // A receipt names one ballot: two entries with it are two ballots the one voter was
  // shown as theirs (or a ballot counted twice).
  for (const [receipt, carriers] of byReceipt) {
    if (carriers.length > 1) {
      problems.push(
        `receipt ${receipt} is carried by ${carriers.length} entries (${carriers.map((c) => `partition ${c.partition} entry ${c.seq}`).join(', ')})`,
      );
    }
  }
  for (const [ballotId, n] of byBallot) {
    if (n > 1) problems.push(`ballot id ${ballotId} appears in ${n} entries`);
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
    if (published.chainHeads) checkHeads(electionId, chains, published.chainHeads, 'published', problems);
  }
  if (savedHeads) checkHeads(electionId, chains, savedHeads, 'saved', problems);
  const receiptReport: VerifyReport['receipts'] = {};
  for (const check of receipts) {
    const r = typeof check === 'string' ? check : check.receipt;
    const carriers = byReceipt.get(r) ?? [];
    const e = carriers[0];
    receiptReport[r] = e ? e.outcome : 'missing';
    if (!e) problems.push(`receipt ${r} is not in the audit log`);
    else if (typeof check !== 'string' && receiptHash(electionId, e.ballotId, e.option, check.nonce) !== r) {
      problems.push(`receipt ${r} does not commit to the entry that carries it (ballot id or option differ)`);
    }
  }
  const heads: VerifyReport['heads'] = {};
  for (const [p, c] of chains) heads[String(p)] = { hash: c.head, entries: c.entries };
  return {
    ok: problems.length === 0,
    entries: entries.length,
    counted,
    rejected,
    totals,
    heads,
    problems,
    receipts: receiptReport,
  };
}

/**
 * Each partition's chain must pass through the published head at the published count:
 * the log may have grown since (still counting), but never differ from what was
 * published, nor have fewer entries.
 */
function checkHeads(
  electionId: string,
  chains: Map<number, { head: string; entries: number; hashAt: Map<number, string> }>,
  published: Record<string, ChainHead>,
  source: 'published' | 'saved',
  problems: string[],
): void {
  for (const [p, chain] of chains) {
    const head = published[String(p)];
    if (!head) {
      problems.push(`partition ${p}: no ${source} chain head`);
      continue;
    }
    if (head.entries > chain.entries) {
      problems.push(
        `partition ${p}: the ${source} chain head covers ${head.entries} entries, the audit log has ${chain.entries}`,
      );
      continue;
    }
    const mine = head.entries === 0 ? genesisHash(electionId, p) : chain.hashAt.get(head.entries);
    if (mine !== head.hash) {
      problems.push(
        `partition ${p}: entry ${head.entries} hashes to ${mine}, the ${source} chain head is ${head.hash}`,
      );
    }
  }
  for (const p of Object.keys(published)) {
    if (!chains.has(Number(p)))
      problems.push(`the ${source} chain heads name partition ${p}, which does not exist`);
  }
}
