import type { BallotReceipt } from './ballot';

/**
 * One entry of a partition's vote log (the stream the submit script appends to and
 * every committee member reads). It is packed into a single stream field,
 * `v = "<option>|<receipt token>|<acceptedAt>|<voter>"`, because each field costs Redis
 * and the client an extra pair of RESP elements on every read, and every vote is read by
 * each validator and by the finalizer. Options are `[A-Za-z0-9_-]`, receipt tokens hex
 * and dots, and times digits, so only the voter (last) may contain `|`.
 *
 * The receipt token is `<receipt>.<ballotId>.<nonce>` (see `encodeReceiptToken`): the
 * submit script stores and returns it as one opaque string, so the public ballot id and
 * the voter's nonce travel with the vote (and come back on an idempotent retry) without
 * the script knowing about them. A token from before ballot ids is a bare receipt.
 *
 * A weighted vote (a voter whose roll entry gives them weight w ≠ 1) carries a second
 * field `w = "<w>"`; a weight-1 vote has none, so its entry is byte-identical to one
 * from before weights and costs nothing more to read.
 */
export interface VoteLogEntry extends BallotReceipt {
  voter: string;
  option: string;
  /** Accepted-at time (ms) on the accepting function's clock. */
  at: number;
  /**
   * The vote's weight: 1 without a `w` field; 0 when the field is not a decimal integer
   * of at most 7 digits (only an entry written past the submit path can be: validators
   * reject it as `invalid_weight`).
   */
  weight: number;
}

/** The stream field of a vote's weight, present only when the weight is not 1. */
export const WEIGHT_FIELD = 'w';

/** Reads a stored weight: 1 when absent, 0 when not a plain decimal of at most 7 digits. */
export function parseStoredWeight(text: string | undefined): number {
  if (text === undefined) return 1;
  return /^[1-9][0-9]{0,6}$/.test(text) ? Number(text) : 0;
}

/** The one string the submit script keeps for a ballot's receipt: `<receipt>.<ballotId>.<nonce>`. */
export function encodeReceiptToken(r: BallotReceipt): string {
  return `${r.receipt}.${r.ballotId}.${r.nonce}`;
}

/** The inverse of `encodeReceiptToken`; a bare (old) receipt has no ballot id or nonce. */
export function decodeReceiptToken(token: string): BallotReceipt {
  const [receipt = '', ballotId = '', nonce = ''] = token.split('.');
  return { receipt, ballotId, nonce };
}

/** Decodes the fields of one XRANGE entry (`['v', packed]`, then `['w', weight]` when weighted). */
export function decodeVoteLogEntry(fields: string[]): VoteLogEntry {
  const packed = fields[0] === 'v' ? (fields[1] ?? '') : '';
  const weight = parseStoredWeight(fields[2] === WEIGHT_FIELD ? (fields[3] ?? '') : undefined);
  const a = packed.indexOf('|');
  const b = packed.indexOf('|', a + 1);
  const c = packed.indexOf('|', b + 1);
  if (a < 0 || b < 0 || c < 0)
    return { voter: '', option: '', receipt: '', ballotId: '', nonce: '', at: 0, weight };
  return {
    option: packed.slice(0, a),
    ...decodeReceiptToken(packed.slice(a + 1, b)),
    at: Number(packed.slice(b + 1, c)),
    voter: packed.slice(c + 1),
    weight,
  };
}
