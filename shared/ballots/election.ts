import { fromHex } from './bytes';
import { decodePublicKey } from './codec';
import type { Group } from './group';
import { validateManifest } from './manifest';
import type { Manifest } from './types';

/** What a ballot is made and checked against: the manifest and the ceremony's outcome. */
export interface ElectionKeys {
  manifest: Manifest;
  /** `electionHash` as hex (§2). */
  electionHash: string;
  /** `K` as hex (§3). */
  jointKey: string;
}

/**
 * An election decoded once (manifest checked, K decoded, hash as bytes), so that
 * validators checking thousands of ballots do not re-decode it for each.
 */
export interface PreparedElection<P> {
  group: Group<P>;
  manifest: Manifest;
  hash: Uint8Array;
  K: P;
  /** The total proof's allowed values `{min, …, max}`. */
  totalValues: number[];
}

/** Decodes and checks an election's public values; throws `EncodingError` if malformed. */
export function prepareElection<P>(group: Group<P>, keys: ElectionKeys): PreparedElection<P> {
  validateManifest(keys.manifest);
  const totalValues: number[] = [];
  for (let t = keys.manifest.minSelections; t <= keys.manifest.maxSelections; t++) totalValues.push(t);
  return {
    group,
    manifest: keys.manifest,
    hash: fromHex(keys.electionHash, 32),
    K: group.fixedBase(decodePublicKey(group, keys.jointKey)),
    totalValues,
  };
}
