/**
 * Vote weights (issue 17): a voter's roll entry may give their vote a weight, so one
 * ballot counts w times for each option it chooses (shareholders, delegates). The
 * limit is the roll's; the submit path writes no other, and validators reject any
 * other that reaches the vote log, so a tally can never grow by more than this per vote.
 */

/** The largest weight a vote may carry. */
export const MAX_VOTE_WEIGHT = 1000;

/** True for a weight a vote may carry: an integer from 1 to {@link MAX_VOTE_WEIGHT}. */
export function isVoteWeight(w: unknown): w is number {
  return typeof w === 'number' && Number.isInteger(w) && w >= 1 && w <= MAX_VOTE_WEIGHT;
}
