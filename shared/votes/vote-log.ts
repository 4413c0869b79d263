/**
 * One entry of a partition's vote log (the stream the submit script appends to and
 * every committee member reads). It is packed into a single stream field,
 * `v = "<option>|<receipt>|<acceptedAt>|<voter>"`, because each field costs Redis and
 * the client an extra pair of RESP elements on every read, and every vote is read by
 * each validator and by the finalizer. Options are `[A-Za-z0-9_-]`, receipts hex and
 * times digits, so only the voter (last) may contain `|`.
 */
export interface VoteLogEntry {
  voter: string;
  option: string;
  receipt: string;
  /** Accepted-at time (ms) on the accepting function's clock. */
  at: number;
}

/** Decodes the fields of one XRANGE entry (`['v', packed]`). */
export function decodeVoteLogEntry(fields: string[]): VoteLogEntry {
  const packed = fields[0] === 'v' ? (fields[1] ?? '') : '';
  const a = packed.indexOf('|');
  const b = packed.indexOf('|', a + 1);
  const c = packed.indexOf('|', b + 1);
  if (a < 0 || b < 0 || c < 0) return { voter: '', option: '', receipt: '', at: 0 };
  return {
    option: packed.slice(0, a),
    receipt: packed.slice(a + 1, b),
    at: Number(packed.slice(b + 1, c)),
    voter: packed.slice(c + 1),
  };
}
