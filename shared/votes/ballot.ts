import { createHash, randomBytes } from 'node:crypto';
import { ApiError, badRequest } from '../errors';
import type { Election } from '../elections/model';

/**
 * The ballot behind one interface: parse what a voter sends, record it (the text kept
 * in the vote log and the audit log), judge it (validators), and count it (the tally
 * key). A secret-ballot mode (encrypted choice + proof, homomorphic tally) is another
 * implementation of this interface; the pipeline does not change.
 */
export interface BallotScheme {
  readonly name: string;
  /** Parses a submission into the recorded ballot text; throws 400 errors. */
  parse(election: Election, body: unknown): string;
  /** Independent check by a validator; returns a rejection reason or null. */
  judge(election: Election, recorded: string): string | null;
  /** The tally bucket a counted ballot adds one to. */
  countKey(recorded: string): string;
}

/** Plain (open) ballots: the recorded text is the chosen option id. */
export const plainBallot: BallotScheme = {
  name: 'plain',
  parse(election, body) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest('Body must be a JSON object {optionId}');
    }
    const b = body as Record<string, unknown>;
    const extra = Object.keys(b).filter((k) => k !== 'optionId');
    if (extra.length) throw badRequest(`Unknown field(s): ${extra.join(', ')}`, { fields: extra });
    const optionId = b['optionId'];
    if (typeof optionId !== 'string' || optionId.length === 0 || optionId.length > 64) {
      throw badRequest('optionId must be a non-empty string', { field: 'optionId' });
    }
    if (!election.options.some((o) => o.id === optionId)) {
      throw new ApiError(400, 'invalid_option', `Option "${optionId}" is not on this ballot`);
    }
    return optionId;
  },
  judge(election, recorded) {
    return election.options.some((o) => o.id === recorded) ? null : 'invalid_option';
  },
  countKey: (recorded) => recorded,
};

/**
 * A receipt: a hash over the election, the ballot and a random nonce, which the voter
 * keeps and later finds in the audit log. The nonce makes every receipt unique.
 */
export function makeReceipt(electionId: string, recorded: string): string {
  const nonce = randomBytes(16).toString('hex');
  return createHash('sha256').update(`${electionId}|${recorded}|${nonce}`).digest('hex');
}
