import type { Election } from '../elections/model';
import { type BallotScheme, plainBallot } from '../votes/ballot';
import { secretBallot } from './secret-ballot';

/** The scheme of an election's ballots: secret ballots for `ballot: "secret"`, else open ones. */
export function ballotSchemeOf(e: Election): BallotScheme {
  return e.ballot === 'secret' ? secretBallot : plainBallot;
}

/**
 * One scheme for the pipeline that answers for every election by its own mode, so
 * validators and finalizers need no second code path: open elections reach
 * `plainBallot` exactly as before. (Intake picks the scheme itself: {@link ballotSchemeOf}.)
 */
export const electionBallots: BallotScheme = {
  name: 'by-election',
  parse: (e, body) => ballotSchemeOf(e).parse(e, body),
  judge: (e, recorded, context) => ballotSchemeOf(e).judge(e, recorded, context),
  countKey: (recorded) => plainBallot.countKey(recorded),
};
