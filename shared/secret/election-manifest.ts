import { type Manifest, type PreparedElection, defaultGroup, prepareElection } from '../ballots';
import type { NoblePoint } from '../ballots';
import { ApiError } from '../errors';
import type { Election } from '../elections/model';

/**
 * The qv/v1 manifest (BALLOTS.md §2) of a secret election, and its prepared form for
 * checking ballots. One function each, so intake, validators, the tally and the record
 * all derive exactly the same manifest from the stored election.
 */

/** A secret election's manifest; 409 `not_secret` for an open election. */
export function manifestOf(e: Election): Manifest {
  if (e.ballot !== 'secret' || !e.trustees || e.threshold === undefined) {
    throw new ApiError(
      409,
      'not_secret',
      'This election has open ballots; this applies to secret ballots only',
    );
  }
  return {
    electionId: e.id,
    title: e.title,
    options: e.options.map((o) => ({ id: o.id, label: o.label })),
    minSelections: e.minSelections ?? 1,
    maxSelections: e.maxSelections ?? 1,
    trustees: e.trustees.map((t) => ({ index: t.index, id: t.id })),
    threshold: e.threshold,
  };
}

const prepared = new Map<string, PreparedElection<NoblePoint>>();

/**
 * The election decoded once per process (key: id + election hash, which changes only
 * if the ceremony is somehow redone), or 409 `ceremony_not_done` before the ceremony.
 */
export function preparedElectionOf(e: Election): PreparedElection<NoblePoint> {
  const manifest = manifestOf(e);
  if (!e.jointKey || !e.electionHash) {
    throw new ApiError(409, 'ceremony_not_done', 'The key ceremony of this election is not done');
  }
  const key = `${e.id}|${e.electionHash}`;
  let p = prepared.get(key);
  if (!p) {
    p = prepareElection(defaultGroup, { manifest, electionHash: e.electionHash, jointKey: e.jointKey });
    prepared.set(key, p);
    if (prepared.size > 200) prepared.delete(prepared.keys().next().value as string);
  }
  return p;
}
