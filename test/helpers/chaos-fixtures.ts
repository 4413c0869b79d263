import { genesisHash, entryHash } from '../../shared/votes/audit-chain';
import type { AuditEntry } from '../../shared/votes/read';
import type { FinalElection, FinalState } from '../../chaos/final-state';
import type { Op, OpType } from '../../chaos/history';

/**
 * Hand-made chaos histories and final states for the checker's tests: a history is
 * written op by op with explicit times, and the audit log is built with the project's
 * real hash chain so that only the fault a test plants is wrong.
 */
export class HistoryBuilder {
  readonly ops: Op[] = [];
  private readonly open = new Map<string, Op>();

  private push(process: string, type: OpType, f: string, value: unknown, time: number, error?: string): Op {
    const op: Op = {
      index: this.ops.length,
      process,
      type,
      f,
      ...(value === undefined ? {} : { value }),
      time,
      wall: 1_700_000_000_000 + time,
      ...(error ? { error } : {}),
    };
    this.ops.push(op);
    return op;
  }

  invoke(process: string, f: string, value: unknown, time: number): this {
    this.open.set(process, this.push(process, 'invoke', f, value, time));
    return this;
  }

  complete(
    process: string,
    type: Exclude<OpType, 'invoke'>,
    time: number,
    value?: unknown,
    error?: string,
  ): this {
    const inv = this.open.get(process);
    if (!inv) throw new Error(`no open op for ${process}`);
    this.open.delete(process);
    this.push(process, type, inv.f, value ?? inv.value, time, error);
    return this;
  }

  /** invoke + complete in one go. */
  op(
    process: string,
    f: string,
    value: unknown,
    start: number,
    end: number,
    type: Exclude<OpType, 'invoke'>,
    result?: unknown,
    error?: string,
  ): this {
    return this.invoke(process, f, value, start).complete(process, type, end, result, error);
  }

  nemesis(f: string, value: unknown, time: number): this {
    this.push('nemesis', 'info', f, value, time);
    return this;
  }
}

/** A decided vote as the audit log should hold it. */
export interface LoggedVote {
  voteId: string;
  option: string;
  outcome?: 'counted' | 'rejected';
  reason?: string;
  partition?: number;
  /** Run time (ms) it was finalized at. */
  at?: number;
}

/** The audit log of `votes`, hash-chained per partition with the real chain functions. */
export function auditLog(electionId: string, votes: readonly LoggedVote[]): AuditEntry[] {
  const heads = new Map<number, { hash: string; seq: number }>();
  return votes.map((v, i) => {
    const p = v.partition ?? 0;
    const h = heads.get(p) ?? { hash: genesisHash(electionId, p), seq: 0 };
    const content = {
      ballotId: `b${i}`,
      receipt: i.toString(16).padStart(64, '0'),
      option: v.option,
      outcome: v.outcome ?? ('counted' as const),
      reason: v.reason ?? '',
    };
    const seq = h.seq + 1;
    const hash = entryHash(h.hash, electionId, p, seq, content);
    heads.set(p, { hash, seq });
    return {
      partition: p,
      seq,
      ...content,
      prev: h.hash,
      hash,
      voteId: v.voteId,
      finalizedAt: new Date(1_700_000_000_000 + (v.at ?? 1000 * (i + 1))).toISOString(),
    };
  });
}

/** A closed, drained election whose results agree with its log. */
export function finalElection(
  electionId: string,
  votes: readonly LoggedVote[],
  partitions = 1,
): FinalElection {
  const audit = auditLog(electionId, votes);
  const totals: Record<string, number> = {};
  for (const e of audit) if (e.outcome === 'counted') totals[e.option] = (totals[e.option] ?? 0) + 1;
  const chainHeads: Record<string, { hash: string; entries: number }> = {};
  for (let p = 0; p < partitions; p++) {
    const last = audit.filter((e) => e.partition === p).at(-1);
    chainHeads[String(p)] = { hash: last?.hash ?? genesisHash(electionId, p), entries: last?.seq ?? 0 };
  }
  return {
    electionId,
    status: 'closed',
    closedAt: new Date(1_700_000_000_000).toISOString(),
    partitions,
    results: {
      status: 'closed',
      totals,
      finalized: audit.filter((e) => e.outcome === 'counted').length,
      pending: 0,
      rejected: audit.filter((e) => e.outcome === 'rejected').length,
      final: true,
      chainHeads,
    },
    audit,
    stable: true,
    errors: [],
  };
}

export function finalState(...elections: FinalElection[]): FinalState {
  return { readAt: 0, elections: Object.fromEntries(elections.map((e) => [e.electionId, e])), votes: {} };
}
