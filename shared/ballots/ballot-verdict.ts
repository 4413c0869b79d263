/**
 * Machine-readable reasons a ballot is rejected (shown to the voter, written in the
 * record's `reason` as `code` or `code:option`).
 */
export type BallotReason =
  | 'malformed'
  | 'not_on_roll'
  | 'duplicate_key'
  | 'bad_tracker'
  | 'bad_signature'
  | 'bad_selection_proof'
  | 'bad_total_proof';

/** A ballot's verdict; `option` (1-based) names the selection whose proof failed. */
export type BallotVerdict =
  | { valid: true }
  | { valid: false; reason: BallotReason; option?: number; message: string };

/** The verdict of a rejected ballot as the record's `reason` string: `code` or `code:option`. */
export function reasonString(v: BallotVerdict): string | undefined {
  if (v.valid) return undefined;
  return v.option === undefined ? v.reason : `${v.reason}:${v.option}`;
}

/** Shorthand for a rejection. */
export function reject(reason: BallotReason, message: string, option?: number): BallotVerdict {
  return option === undefined ? { valid: false, reason, message } : { valid: false, reason, option, message };
}
