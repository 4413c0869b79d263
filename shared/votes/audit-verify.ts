import {
  type AuditEntryContent,
  type ChainHead,
  entryInput,
  genesisInput,
  receiptInput,
} from './audit-encoding';
import { choiceIds } from './ballot-choice';
import type { AuditEntry } from './read';

/**
 * The audit log verifier, one for every place that checks a log: `npm run verify` and
 * the server's tests (verify.ts, SHA-256 by node:crypto) and the web app's auditor page
 * (web/src/audit.ts, SHA-256 by WebCrypto). Pure: it imports only the hash-input
 * builder, and the hash function is a parameter, so the browser runs the very checks and
 * problem texts the CLI does.
 */

/** SHA-256 as lowercase hex over a hash input of audit-encoding.ts. */
export type Sha256Hex = (input: Uint8Array<ArrayBuffer>) => string;

/** The three audit hashes, computed with some SHA-256. */
export interface AuditHashes {
  genesis(electionId: string, partition: number): string;
  entry(prev: string, electionId: string, partition: number, seq: number, e: AuditEntryContent): string;
  receipt(electionId: string, ballotId: string, recorded: string, nonce: string): string;
}

/** The audit hashes over the inputs of audit-encoding.ts with `sha256Hex`. */
export function auditHashes(sha256Hex: Sha256Hex): AuditHashes {
  return {
    genesis: (electionId, partition) => sha256Hex(genesisInput(electionId, partition)),
    entry: (prev, electionId, partition, seq, e) =>
      sha256Hex(entryInput(prev, electionId, partition, seq, e)),
    receipt: (electionId, ballotId, recorded, nonce) =>
      sha256Hex(receiptInput(electionId, ballotId, recorded, nonce)),
  };
}

/** What a verification found; `ok` when `problems` is empty. */
export interface VerifyReport {
  ok: boolean;
  entries: number;
  counted: number;
  rejected: number;
  totals: Record<string, number>;
  /** Per partition: the head hash and entry count recomputed from the log. */
  heads: Record<string, ChainHead>;
  /** Partitions with a problem in their chain: a link, hash, sequence number or head. */
  broken: number[];
  problems: string[];
  receipts: Record<string, 'counted' | 'rejected' | 'missing'>;
}

/** What the results publish that the log is checked against. */
export interface PublishedResults {
  totals: Record<string, number>;
  /** Ballots counted (results since issue 17); checked when published. */
  ballots?: number;
  finalized: number;
  rejected: number;
  chainHeads?: Record<string, ChainHead>;
}

/** A receipt to look up: the bare receipt, or `{receipt, nonce}` to also check its binding. */
export type ReceiptCheck = string | { receipt: string; nonce: string };

/**
 * Verifies an election's audit log without trusting the server: every hash link and
 * sequence number of every partition, each partition's chain against its published
 * head (so a log rewritten consistently, every hash recomputed, is still caught), the
 * totals recomputed from the entries against the published results, that no receipt or
 * ballot id is carried by two entries, and (optionally) that given receipts are in the
 * log — and, with the voter's nonce, that the entry carrying a receipt is the one it
 * commits to. `hash` is node:crypto's SHA-256 (verify.ts) or digests computed beforehand
 * ({@link verifyAuditAsync}).
 */
export function verifyAuditWith(
  hash: AuditHashes,
  electionId: string,
  partitions: number,
  entries: AuditEntry[],
  published: PublishedResults | null,
  receipts: ReceiptCheck[] = [],
  /** Chain heads published earlier (e.g. a saved `/results`): the log must still extend them. */
  savedHeads: Record<string, ChainHead> | null = null,
): VerifyReport {
  const problems: string[] = [];
  const broken = new Set<number>();
  const chains = new Map<number, { head: string; entries: number; hashAt: Map<number, string> }>();
  for (let p = 0; p < partitions; p++) {
    chains.set(p, { head: hash.genesis(electionId, p), entries: 0, hashAt: new Map() });
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
    const before = problems.length;
    // A weight is a whole number (absent = 1); anything else can be neither hashed nor counted.
    const weight = e.weight ?? 1;
    const weighable = Number.isSafeInteger(weight) && weight >= 0;
    if (!weighable) problems.push(`${name}: weight ${JSON.stringify(e.weight)} is not a whole number`);
    if (e.seq !== chain.entries + 1) {
      problems.push(`${name}: sequence number ${e.seq} where ${chain.entries + 1} comes next`);
    }
    if (e.prev !== chain.head) problems.push(`${name} does not link to the previous hash`);
    if (weighable && hash.entry(chain.head, electionId, e.partition, chain.entries + 1, e) !== e.hash) {
      problems.push(`${name}: hash does not match its content`);
    }
    if (problems.length > before) broken.add(e.partition);
    chain.entries++;
    chain.head = e.hash;
    chain.hashAt.set(chain.entries, e.hash);
    byReceipt.set(e.receipt, [...(byReceipt.get(e.receipt) ?? []), e]);
    byBallot.set(e.ballotId, (byBallot.get(e.ballotId) ?? 0) + 1);
    if (e.outcome === 'counted') {
      counted++;
      // Each option the ballot chose gains its weight (ballot-choice.ts: ids joined by ",").
      if (weighable)
        for (const option of choiceIds(e.option)) totals[option] = (totals[option] ?? 0) + weight;
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
    if (published.ballots !== undefined && published.ballots !== counted) {
      problems.push(`audit log has ${counted} counted ballots, results say ${published.ballots}`);
    }
    if (published.finalized !== counted) {
      problems.push(`audit log has ${counted} counted votes, results say ${published.finalized} finalized`);
    }
    if (published.rejected !== rejected) {
      problems.push(`audit log has ${rejected} rejected votes, results say ${published.rejected}`);
    }
    if (published.chainHeads)
      checkHeads(hash, electionId, chains, published.chainHeads, 'published', problems, broken);
  }
  if (savedHeads) checkHeads(hash, electionId, chains, savedHeads, 'saved', problems, broken);
  const receiptReport: VerifyReport['receipts'] = {};
  for (const check of receipts) {
    const r = typeof check === 'string' ? check : check.receipt;
    const carriers = byReceipt.get(r) ?? [];
    const e = carriers[0];
    receiptReport[r] = e ? e.outcome : 'missing';
    if (!e) problems.push(`receipt ${r} is not in the audit log`);
    else if (typeof check !== 'string' && hash.receipt(electionId, e.ballotId, e.option, check.nonce) !== r) {
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
    broken: [...broken].sort((a, b) => a - b),
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
  hash: AuditHashes,
  electionId: string,
  chains: Map<number, { head: string; entries: number; hashAt: Map<number, string> }>,
  published: Record<string, ChainHead>,
  source: 'published' | 'saved',
  problems: string[],
  broken: Set<number>,
): void {
  for (const [p, chain] of chains) {
    const head = published[String(p)];
    if (!head) {
      problems.push(`partition ${p}: no ${source} chain head`);
      broken.add(p);
      continue;
    }
    if (head.entries > chain.entries) {
      problems.push(
        `partition ${p}: the ${source} chain head covers ${head.entries} entries, the audit log has ${chain.entries}`,
      );
      broken.add(p);
      continue;
    }
    const mine = head.entries === 0 ? hash.genesis(electionId, p) : chain.hashAt.get(head.entries);
    if (mine !== head.hash) {
      broken.add(p);
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

/**
 * {@link verifyAuditWith} with an asynchronous SHA-256 (WebCrypto in the browser): the
 * checks run with the digests known so far, every input they asked for and did not get
 * is hashed, and they run again until none is missing (three runs: a chain's genesis
 * hash is the input of its entry 1, nothing deeper depends on a computed hash). Its
 * report is the one `verifyAuditWith` gives with a synchronous SHA-256. Digests are
 * remembered by the JSON of the arguments they were computed from (exactly what
 * determines the input), so a later run neither rebuilds nor re-encodes an input.
 */
export async function verifyAuditAsync(
  sha256Hex: (input: Uint8Array<ArrayBuffer>) => Promise<string>,
  electionId: string,
  partitions: number,
  entries: AuditEntry[],
  published: PublishedResults | null,
  receipts: ReceiptCheck[] = [],
  savedHeads: Record<string, ChainHead> | null = null,
): Promise<VerifyReport> {
  const digests = new Map<string, string>();
  let missing: [string, Uint8Array<ArrayBuffer>][] = [];
  const known = (key: string, input: () => Uint8Array<ArrayBuffer>): string => {
    const digest = digests.get(key);
    if (digest === undefined) missing.push([key, input()]);
    return digest ?? '';
  };
  const hashes: AuditHashes = {
    genesis: (id, p) => known(JSON.stringify(['g', id, p]), () => genesisInput(id, p)),
    entry: (prev, id, p, seq, e) =>
      known(
        JSON.stringify([
          'e',
          prev,
          id,
          p,
          seq,
          e.ballotId,
          e.receipt,
          e.option,
          e.outcome,
          e.reason,
          e.weight ?? 1,
        ]),
        () => entryInput(prev, id, p, seq, e),
      ),
    receipt: (id, ballotId, recorded, nonce) =>
      known(JSON.stringify(['r', id, ballotId, recorded, nonce]), () =>
        receiptInput(id, ballotId, recorded, nonce),
      ),
  };
  for (;;) {
    missing = [];
    const report = verifyAuditWith(hashes, electionId, partitions, entries, published, receipts, savedHeads);
    if (missing.length === 0) return report;
    await Promise.all(
      missing.map(async ([key, input]) => {
        digests.set(key, await sha256Hex(input));
      }),
    );
  }
}
