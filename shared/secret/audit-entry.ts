import type { Ciphertext } from '../ballots/types';
import { AUDIT_ENCODING, encodeParts, u64 } from '../votes/audit-encoding';

/**
 * The audit entry of a secret ballot (docs/architecture.md "Secret ballots", "Audit
 * entries of secret ballots"): its own tag, so open ballots' entries keep their exact
 * bytes, and the hash covers the partition's running encrypted tally after the entry,
 * so the chain head commits to the tally as well as to every ballot. Pure (no
 * node:crypto), like audit-encoding.ts, for the browser verifier too.
 */

/** Tag of a secret ballot's entry hash. */
export const SECRET_ENTRY_TAG = `${AUDIT_ENCODING}/secret-entry`;

/** What a secret ballot's audit entry commits to, besides its chain position. */
export interface SecretAuditEntryContent {
  ballotId: string;
  /** The ballot's tracking code (hex); it commits to every ciphertext and proof. */
  tracker: string;
  /** The voter's Ed25519 key (hex) and signature (hex) over the tracker. */
  publicKey: string;
  signature: string;
  outcome: 'counted' | 'rejected';
  reason: string;
  /** The partition's running encrypted tally after this entry, option by option. */
  tally: Ciphertext[];
}

/**
 * `"qv/audit/v2/secret-entry", electionId, u64(p), u64(seq), prev, ballotId, tracker,
 * publicKey, signature, outcome, reason, u64(L), alpha_1, beta_1, …, alpha_L, beta_L`
 * (every value as its lowercase hex text, like the open entry's fields).
 */
export function secretEntryInput(
  prev: string,
  electionId: string,
  partition: number,
  seq: number,
  e: SecretAuditEntryContent,
): Uint8Array<ArrayBuffer> {
  return encodeParts([
    SECRET_ENTRY_TAG,
    electionId,
    u64(partition),
    u64(seq),
    prev,
    e.ballotId,
    e.tracker,
    e.publicKey,
    e.signature,
    e.outcome,
    e.reason,
    u64(e.tally.length),
    ...e.tally.flatMap((t) => [t.alpha, t.beta]),
  ]);
}

/**
 * A secret ballot's entry as `GET /elections/{id}/audit` publishes it (docs/api.md,
 * an extension of the open entry's shape): exactly what its hash covers
 * ({@link secretEntryInput}) besides the election id, so anyone can recompute the chain
 * from the page alone. No option: the ballot's choice is only in its ciphertexts.
 */
export interface SecretAuditEntry extends SecretAuditEntryContent {
  partition: number;
  /** Position in the partition's chain, 1-based. */
  seq: number;
  prev: string;
  hash: string;
  /** Admins only, not covered by the hash (as for open entries). */
  voteId?: string;
  finalizedAt?: string;
}
