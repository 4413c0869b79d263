import { EncodingError, fromHex } from './bytes';
import { digest } from './hash';
import { u64 } from './hash-input';
import { tags } from './tags';
import type { CommitmentEntry, Manifest } from './types';

/**
 * The manifest's rules, the ceremony context and the election hash (BALLOTS.md §2).
 * Every ballot and decryption proof is bound to the election hash, so a proof made for
 * one election (or for the same election with other trustees' keys) fails in another.
 */

/**
 * Checks the manifest's shape: what the hashes and proofs rely on (indices 1..n in
 * order, 1 ≤ k ≤ n, 0 ≤ min ≤ max ≤ L, distinct option ids). Throws `EncodingError`.
 */
export function validateManifest(m: Manifest): void {
  const fail = (msg: string): never => {
    throw new EncodingError(`manifest: ${msg}`);
  };
  if (typeof m !== 'object' || m === null) fail('not an object');
  if (typeof m.electionId !== 'string' || m.electionId.length === 0) fail('electionId');
  if (!Array.isArray(m.options) || m.options.length === 0) fail('options');
  const ids = new Set<string>();
  for (const o of m.options) {
    if (typeof o?.id !== 'string' || typeof o.label !== 'string') fail('option id/label');
    if (ids.has(o.id)) fail(`duplicate option id ${o.id}`);
    ids.add(o.id);
  }
  const L = m.options.length;
  const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!isCount(m.minSelections) || !isCount(m.maxSelections)) fail('min/maxSelections');
  if (m.minSelections > m.maxSelections || m.maxSelections > L) fail('0 ≤ min ≤ max ≤ L');
  if (!Array.isArray(m.trustees) || m.trustees.length === 0) fail('trustees');
  m.trustees.forEach((t, i) => {
    if (t?.index !== i + 1 || typeof t.id !== 'string') fail('trustee indices must be 1..n in order');
  });
  if (!Number.isSafeInteger(m.threshold) || m.threshold < 1 || m.threshold > m.trustees.length) {
    fail('1 ≤ threshold ≤ n');
  }
}

/** `ctx = D("qv/v1/ceremony", electionId, u64(k), u64(n))`: binds the ceremony proofs. */
export function ceremonyContext(m: Manifest): Uint8Array {
  return digest([tags.ceremony, m.electionId, u64(m.threshold), u64(m.trustees.length)]);
}

/**
 * `electionHash = D("qv/v1/manifest", electionId, u64(k), u64(n), u64(L), id_1..id_L,
 * u64(min), u64(max), K, A_{i,m} of every qualified trustee in index order)`.
 * `qualifiedCommitments` must be the qualified trustees' entries in index order.
 */
export function electionHash(
  m: Manifest,
  jointKey: string,
  qualifiedCommitments: CommitmentEntry[],
): Uint8Array {
  const commitments: Uint8Array[] = [];
  for (const entry of qualifiedCommitments) {
    for (const a of entry.coefficients) commitments.push(fromHex(a, 32));
  }
  return digest([
    tags.manifest,
    m.electionId,
    u64(m.threshold),
    u64(m.trustees.length),
    u64(m.options.length),
    ...m.options.map((o) => o.id),
    u64(m.minSelections),
    u64(m.maxSelections),
    fromHex(jointKey, 32),
    ...commitments,
  ]);
}
