import { ApiError } from '../errors';

/**
 * Election-bound tokens (claim `eid`): a token made from a voting credential or a join
 * code speaks for one roll entry or one joined device of ONE election, and must not
 * vote, read or subscribe in another. Tokens without `eid` (accounts) are not bound.
 * Pure, so every entry point (HTTP routes, WebSocket topics) applies the same rule.
 */

/** True when a token bound to `eid` (or to none) may act in `electionId`. */
export function mayActIn(eid: string | undefined, electionId: string): boolean {
  return eid === undefined || eid === electionId;
}

/** `403 wrong_election` unless {@link mayActIn}. */
export function assertElection(claims: { eid?: string | undefined }, electionId: string): void {
  if (!mayActIn(claims.eid, electionId)) {
    throw new ApiError(
      403,
      'wrong_election',
      "This token is valid for another election only; sign in with this election's voting link or code",
    );
  }
}
