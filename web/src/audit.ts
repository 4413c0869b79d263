import {
  type AuditEntryContent,
  entryInput,
  genesisInput,
  receiptInput,
  toHex,
} from '../../shared/votes/audit-encoding';
import type { AuditEntry, Results } from './api';

/**
 * Verifies an audit log in the browser, without trusting the server: the same hash
 * chain as the server and the CLI (docs/architecture.md "Audit log encoding",
 * qv/audit/v2), over the very bytes shared/votes/audit-encoding.ts builds for them,
 * hashed here with WebCrypto; each chain checked against the published chain heads; the
 * totals recounted and compared with the published results; receipts or ballot ids
 * carried by two entries flagged; receipts looked up. Mirrors shared/votes/verify.ts.
 */
async function sha256Hex(input: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', input)));
}

export function genesisHash(electionId: string, partition: number): Promise<string> {
  return sha256Hex(genesisInput(electionId, partition));
}

export function entryHash(
  prev: string,
  electionId: string,
  partition: number,
  seq: number,
  e: AuditEntryContent,
): Promise<string> {
  return sha256Hex(entryInput(prev, electionId, partition, seq, e));
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
  ok: boolean;
  head: string;
  /** The published head: whether the chain passes through it (null: none published). */
  publishedHead: boolean | null;
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
  published: Pick<Results, 'totals' | 'finalized' | 'rejected' | 'hidden' | 'chainHeads'> | null,
): Promise<VerifyReport> {
  const problems: string[] = [];
  const parts: PartitionReport[] = [];
  const hashAt = new Map<string, string>();
  for (let p = 0; p < partitions; p++) {
    parts.push({
      partition: p,
      entries: 0,
      ok: true,
      head: await genesisHash(electionId, p),
      publishedHead: null,
    });
  }
  const totals: Record<string, number> = {};
  const receipts = new Map<string, AuditEntry>();
  const ballots = new Set<string>();
  let counted = 0;
  let rejected = 0;
  for (const e of entries) {
    const part = parts[e.partition];
    const name = `partition ${e.partition} entry ${e.seq}`;
    if (!part) {
      problems.push(`${name} names partition ${e.partition}, which does not exist`);
      continue;
    }
    const seq = part.entries + 1;
    if (e.seq !== seq) {
      part.ok = false;
      problems.push(`${name}: sequence number ${e.seq} where ${seq} comes next`);
    }
    if (e.prev !== part.head) {
      part.ok = false;
      problems.push(`${name} does not link to the previous hash`);
    }
    if ((await entryHash(part.head, electionId, e.partition, seq, e)) !== e.hash) {
      part.ok = false;
      problems.push(`${name}: hash does not match its content`);
    }
    part.entries = seq;
    part.head = e.hash;
    hashAt.set(`${e.partition}:${seq}`, e.hash);
    if (receipts.has(e.receipt)) problems.push(`receipt ${e.receipt} is carried by two entries`);
    else receipts.set(e.receipt, e);
    if (ballots.has(e.ballotId)) problems.push(`ballot id ${e.ballotId} appears in two entries`);
    ballots.add(e.ballotId);
    if (e.outcome === 'counted') {
      counted++;
      totals[e.option] = (totals[e.option] ?? 0) + 1;
    } else rejected++;
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
    for (const part of published.chainHeads ? parts : []) {
      const head = published.chainHeads?.[String(part.partition)];
      const mine = !head
        ? undefined
        : head.entries === 0
          ? await genesisHash(electionId, part.partition)
          : hashAt.get(`${part.partition}:${head.entries}`);
      part.publishedHead = !!head && mine === head.hash;
      if (!part.publishedHead) {
        part.ok = false;
        problems.push(`partition ${part.partition}: the log does not pass through the published chain head`);
      }
    }
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
