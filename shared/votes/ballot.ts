import { randomBytes } from 'node:crypto';
import { ApiError } from '../errors';
import type { Election } from '../elections/model';
import { receiptHash } from './audit-chain';
import { type ChoiceProblem, choiceProblem, encodeChoice, judgeChoice } from './ballot-choice';
import { parseChoiceRequest } from './vote-request';

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
  judge(election: Election, recorded: string, context?: JudgeContext): string | null;
  /** The tally bucket a counted ballot adds one to. */
  countKey(recorded: string): string;
  /**
   * The receipt of a new ballot; default {@link makeReceipt}. A secret ballot's receipt
   * is its tracking code, which reveals nothing about the choice.
   */
  receipt?(election: Election, recorded: string): BallotReceipt;
}

/**
 * `scheme` with its parsing already done: `parse` returns `recorded`. For an intake
 * that validated the body before enqueueing (a secret ballot is decoded and its tracker
 * recomputed once, not twice, on the hot path).
 */
export function withParsed(scheme: BallotScheme, recorded: string): BallotScheme {
  return { ...scheme, parse: () => recorded };
}

/** What a validator knows about a ballot besides its text (secret ballots need the roll key). */
export interface JudgeContext {
  voter: string;
  /** The voter's key on the election's roll (hex), null when none; secret ballots only. */
  rollKey?: string | null;
}

/** What the submit path answers for each {@link ChoiceProblem} (nothing is stored). */
function refuseChoice(problem: { code: ChoiceProblem; optionId?: string }, maxChoices: number): ApiError {
  switch (problem.code) {
    case 'invalid_option':
      return new ApiError(400, 'invalid_option', `Option "${problem.optionId}" is not on this ballot`);
    case 'duplicate_option':
      return new ApiError(400, 'duplicate_option', `Option "${problem.optionId}" is chosen more than once`, {
        field: 'optionIds',
      });
    case 'too_many_choices':
      return new ApiError(
        400,
        'too_many_choices',
        maxChoices === 1
          ? 'This election allows only one choice'
          : `This election allows at most ${maxChoices} choices`,
        { field: 'optionIds', maxChoices },
      );
    default:
      return new ApiError(400, 'invalid_request', 'Choose at least one option', { field: 'optionIds' });
  }
}

/**
 * Plain (open) ballots: the recorded text is the chosen option id, or for a "choose up
 * to m" ballot (`maxChoices` > 1) the chosen ids in ballot order joined by ","
 * (ballot-choice.ts). Submit and validators apply the same rule: distinct ids on the
 * ballot, at most `maxChoices` of them; validators also refuse a text in another order.
 */
export const plainBallot: BallotScheme = {
  name: 'plain',
  parse(election, body) {
    const ids = parseChoiceRequest(body);
    const maxChoices = election.maxChoices ?? 1;
    const problem = choiceProblem(ids, election.options, maxChoices);
    if (problem) throw refuseChoice(problem, maxChoices);
    return encodeChoice(ids, election.options);
  },
  judge(election, recorded) {
    return judgeChoice(recorded, election.options, election.maxChoices ?? 1);
  },
  countKey: (recorded) => recorded,
};

/** What a voter gets for one ballot: its public id, its receipt and the receipt's secret nonce. */
export interface BallotReceipt {
  /** 128 random bits (hex): the ballot's public name in the audit log, unlinkable to the voter. */
  ballotId: string;
  /** `receiptHash(election, ballotId, recorded, nonce)`: committed to the entry that carries it. */
  receipt: string;
  /** 128 random bits (hex), only ever shown to the voter: with it they recompute the receipt. */
  nonce: string;
}

/**
 * A receipt for a new ballot, bound to a fresh random public ballot id (see
 * audit-chain.ts `receiptHash`). Random rather than derived from the vote id, so the
 * public log carries neither the voter's partition key nor the time of the vote.
 */
export function makeReceipt(electionId: string, recorded: string): BallotReceipt {
  const ballotId = randomBytes(16).toString('hex');
  const nonce = randomBytes(16).toString('hex');
  return { ballotId, nonce, receipt: receiptHash(electionId, ballotId, recorded, nonce) };
}
