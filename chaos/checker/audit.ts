/**
 * The audit invariants, judged with the project's own verifier (shared/votes/verify.ts,
 * what `npm run verify` runs): every hash chain intact, results equal to a recount of
 * the log, closed elections drained, and no trace of a fenced owner's write (a vote
 * finalized twice, a position written twice).
 */
import { verifyAudit } from '../../shared/votes/verify';
import type { FinalElection, FinalState } from '../final-state';
import type { InvariantResult, Violation } from './types';

function chainProblems(e: FinalElection): string[] {
  // Without the results the verifier checks links, hashes, sequence numbers and duplicates only.
  const alone = verifyAudit(e.electionId, e.partitions, e.audit, null, [], e.finalChainHeads ?? null);
  const withHeads = e.results?.chainHeads
    ? verifyAudit(
        e.electionId,
        e.partitions,
        e.audit,
        { totals: {}, finalized: 0, rejected: 0, chainHeads: e.results.chainHeads },
        [],
        null,
      ).problems.filter((p) => /chain head/.test(p))
    : [];
  return [...alone.problems, ...withHeads];
}

function recountProblems(e: FinalElection): string[] {
  if (!e.results) return [];
  const r = e.results;
  const report = verifyAudit(e.electionId, e.partitions, e.audit, {
    totals: r.totals,
    finalized: r.finalized,
    rejected: r.rejected,
  });
  return report.problems.filter((p) =>
    /^option |counted votes, results say|rejected votes, results say/.test(p),
  );
}

/** Every partition's hash chain links, hashes and ends at the published heads. */
export function checkChains(final: FinalState): InvariantResult {
  const violations: Violation[] = [];
  for (const e of Object.values(final.elections)) {
    for (const p of chainProblems(e))
      violations.push({ electionId: e.electionId, message: `election ${e.electionId}: ${p}` });
  }
  return {
    name: 'hash-chains-intact',
    description: 'every partition’s audit chain verifies (links, hashes, sequence numbers, published heads)',
    valid: violations.length === 0,
    violations,
  };
}

/** The published results equal a recount of the audit log. */
export function checkRecount(final: FinalState): InvariantResult {
  const violations: Violation[] = [];
  for (const e of Object.values(final.elections)) {
    if (!e.results) {
      violations.push({
        electionId: e.electionId,
        message: `election ${e.electionId}: results could not be read (${e.errors.join('; ')})`,
      });
      continue;
    }
    for (const p of recountProblems(e))
      violations.push({ electionId: e.electionId, message: `election ${e.electionId}: ${p}` });
  }
  return {
    name: 'results-equal-recount',
    description: 'the published results equal a recount of the audit log',
    valid: violations.length === 0,
    violations,
  };
}

/** A closed election's result became final: every pending vote was decided. */
export function checkDrained(final: FinalState): InvariantResult {
  const violations: Violation[] = [];
  for (const e of Object.values(final.elections)) {
    if (e.status !== 'closed' || !e.results || e.results.final) continue;
    violations.push({
      electionId: e.electionId,
      message: `election ${e.electionId} is closed but its result never became final (${e.results.pending} votes still pending)`,
    });
  }
  return {
    name: 'closed-elections-drained',
    description: 'every closed election’s result becomes final: no vote stays pending',
    valid: violations.length === 0,
    violations,
  };
}

/**
 * What a write by a fenced (stale) owner would leave behind if the fence failed: a vote
 * finalized twice, or two entries at one position of a partition's chain.
 */
export function checkFencedWrites(final: FinalState): InvariantResult {
  const violations: Violation[] = [];
  for (const e of Object.values(final.elections)) {
    const atSeq = new Map<string, number>();
    const vote = new Map<string, number>();
    for (const a of e.audit) {
      const k = `${a.partition}:${a.seq}`;
      atSeq.set(k, (atSeq.get(k) ?? 0) + 1);
      if (a.voteId) vote.set(a.voteId, (vote.get(a.voteId) ?? 0) + 1);
    }
    for (const [k, n] of atSeq) {
      if (n < 2) continue;
      const [p, seq] = k.split(':');
      violations.push({
        electionId: e.electionId,
        message: `election ${e.electionId} partition ${p}: ${n} entries at position ${seq} (two owners finalized it)`,
      });
    }
    for (const [voteId, n] of vote) {
      if (n < 2) continue;
      violations.push({
        electionId: e.electionId,
        voteId,
        message: `election ${e.electionId}: vote ${voteId} finalized ${n} times (a stale owner’s write took effect)`,
      });
    }
  }
  return {
    name: 'no-fenced-write',
    description:
      'no write by a fenced owner took effect: each vote finalized once, each chain position written once',
    valid: violations.length === 0,
    violations,
  };
}
