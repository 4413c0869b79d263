import { digest } from './hash';
import { tags } from './tags';

/** One ciphertext and its proof, as raw bytes in the order the tracker hashes them. */
export interface TrackerSelection {
  alpha: Uint8Array;
  beta: Uint8Array;
  c: Uint8Array[];
  v: Uint8Array[];
}

/**
 * The tracking code (BALLOTS.md §4): `D("qv/v1/tracker", electionHash, P, α_1, β_1,
 * c…, v…, …, α_L, β_L, c…, v…, totalC…, totalV…)`. It commits to everything the voter
 * signs except the signature, and says nothing about the choice.
 */
export function computeTracker(
  electionHash: Uint8Array,
  voterKey: Uint8Array,
  selections: TrackerSelection[],
  total: { c: Uint8Array[]; v: Uint8Array[] },
): Uint8Array {
  const parts: Uint8Array[] = [electionHash, voterKey];
  for (const s of selections) parts.push(s.alpha, s.beta, ...s.c, ...s.v);
  parts.push(...total.c, ...total.v);
  return digest([tags.tracker, ...parts]);
}
