import type { AuditEntry } from './api';

/**
 * Verifies an audit log in the browser, without trusting the server: the same hash
 * chain as shared/votes/audit-chain.ts (docs/architecture.md "Audit log encoding",
 * qv/audit/v2: SHA-256 over length-prefixed parts behind a tag), recomputed with
 * WebCrypto; each chain checked against the published chain heads; the totals recounted
 * and compared with the published results; receipts or ballot ids carried by two
 * entries flagged; receipts looked up. Mirrors shared/votes/verify.ts.
 */
const enc = new TextEncoder();

type Part = string | Uint8Array;

/** `u64(n)`: 8 bytes big-endian. */
export function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** `lp(p1) || … || lp(pn)` with `lp(x) = u32be(len(x)) || x`; strings as UTF-8. */
export function encodeParts(parts: Part[]): Uint8Array<ArrayBuffer> {
  const bytes = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p));
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

export async function digest(parts: Part[]): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', encodeParts(parts));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function genesisHash(electionId: string, partition: number): Promise<string> {
  return digest(['qv/audit/v2/genesis', electionId, u64(partition)]);
}

export function entryHash(
  prev: string,
  electionId: string,
  partition: number,
  seq: number,
  e: Pick<AuditEntry, 'ballotId' | 'receipt' | 'option' | 'outcome' | 'reason'>,
): Promise<string> {
  return digest([
    'qv/audit/v2/entry',
    electionId,
    u64(partition),
    u64(seq),
    prev,
    e.ballotId,
    e.receipt,
    e.option,
    e.outcome,
    e.reason,
  ]);
}

/** The receipt a voter holding `nonce` expects for the entry's ballot id and option. */
export function receiptHash(
  electionId: string,
  ballotId: string,
  option: string,
  nonce: string,
): Promise<string> {
  return digest(['qv/audit/v2/receipt', electionId, ballotId, option, nonce]);
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
  published: {
    totals: Record<string, number>;
    finalized: number;
    rejected: number;
    hidden?: boolean;
    chainHeads?: Record<string, { hash: string; entries: number }>;
  } | null,
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
