import { createHash } from 'node:crypto';
import {
  type Ballot,
  type Ciphertext,
  type Group,
  decodePoint,
  defaultGroup,
  emptyTally,
  encodePoint,
} from '../../shared/ballots';
import type { ElectionRecord } from '../../shared/elections/store';
import { type SecretAuditEntryContent, secretEntryInput } from '../../shared/secret/audit-entry';

/**
 * The secret-ballot half of a finalize batch (docs/architecture.md "Secret ballots"):
 * the owner adds each counted ballot's ciphertexts to the partition's running
 * encrypted tally in JS (Lua cannot add points), and chains every entry's hash over the
 * tally after it. The fenced script then writes the entries and compare-and-sets the
 * tally from `previous` to the result, so a batch computed from a stale tally is refused.
 */

/** One decided vote of the batch, as the finalizer has it. */
export interface SecretOutcome {
  sid: string;
  ballotId: string;
  /** The vote log's recorded text: the ballot's canonical JSON. */
  recorded: string;
  outcome: 'counted' | 'rejected';
  reason: string;
}

/** The script's per-entry arguments, the new head and the new running tally (JSON). */
export interface SecretBatchPlan {
  args: string[];
  head: string;
  tally: string;
}

function parseBallot(recorded: string): Ballot | null {
  try {
    const b = JSON.parse(recorded) as Ballot;
    return b && typeof b === 'object' ? b : null;
  } catch {
    return null;
  }
}

/** The hash of a secret entry: SHA-256 of {@link secretEntryInput}. */
export function secretEntryHash(
  prev: string,
  electionId: string,
  partition: number,
  seq: number,
  e: SecretAuditEntryContent,
): string {
  return createHash('sha256')
    .update(secretEntryInput(prev, electionId, partition, seq, e))
    .digest('hex');
}

/**
 * Plans a batch: `previous` is the partition's stored running tally ('' = none yet),
 * `firstSeq` the first entry's sequence number, `firstPrev` its previous hash.
 *
 * Every entry's hash covers the running tally after it (the record format), so each
 * counted ballot costs 2L point additions and the new tally's 2L encodings. `g` decides
 * what that costs: the finalizer passes libsodium's group, whose points ARE their
 * canonical encodings (one WASM call per addition, no square root in JS); the default,
 * noble, decodes and re-encodes in pure JS (~3.6 ms per 4-option ballot on this machine,
 * docs/benchmarks.md). Both give the same bytes: ristretto255 encodings are canonical.
 */
export function planSecretBatch<P>(
  e: ElectionRecord,
  p: number,
  firstSeq: number,
  firstPrev: string,
  previous: string,
  outcomes: SecretOutcome[],
  g: Group<P> = defaultGroup as unknown as Group<P>,
): SecretBatchPlan {
  const L = e.options.length;
  const start: Ciphertext[] = previous ? (JSON.parse(previous) as Ciphertext[]) : emptyTally(g, L);
  const alpha = start.map((t) => decodePoint(g, t.alpha));
  const beta = start.map((t) => decodePoint(g, t.beta));
  let tally = start;
  let tallyText = previous || JSON.stringify(start);
  let prev = firstPrev;
  const args: string[] = [];
  for (const [i, o] of outcomes.entries()) {
    const ballot = parseBallot(o.recorded);
    if (o.outcome === 'counted' && ballot) {
      for (let l = 0; l < L; l++) {
        alpha[l] = g.add(alpha[l]!, decodePoint(g, ballot.selections[l]!.alpha));
        beta[l] = g.add(beta[l]!, decodePoint(g, ballot.selections[l]!.beta));
      }
      tally = alpha.map((a, l) => ({ alpha: encodePoint(g, a), beta: encodePoint(g, beta[l]!) }));
      tallyText = JSON.stringify(tally);
    }
    const content: SecretAuditEntryContent = {
      ballotId: o.ballotId,
      tracker: typeof ballot?.tracker === 'string' ? ballot.tracker : '',
      publicKey: typeof ballot?.publicKey === 'string' ? ballot.publicKey : '',
      signature: typeof ballot?.signature === 'string' ? ballot.signature : '',
      outcome: o.outcome,
      reason: o.reason,
      tally,
    };
    const hash = secretEntryHash(prev, e.id, p, firstSeq + i, content);
    args.push(
      o.sid,
      o.outcome,
      content.tracker,
      o.reason,
      hash,
      o.ballotId,
      o.recorded,
      tallyText,
      content.publicKey,
    );
    prev = hash;
  }
  return { args, head: prev, tally: tallyText };
}
