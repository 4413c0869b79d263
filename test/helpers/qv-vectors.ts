import {
  type HashPart,
  Q,
  defaultGroup as g,
  digestHex,
  encodeParts,
  encodePoint,
  encodeScalar,
  hashToScalar,
  seededRandomBytes,
  toHex,
  u64,
} from '../../shared/ballots';
import { type SimulatedElection, simulateElection, vectorActions, vectorManifest } from './qv-election';

/**
 * The committed qv/v1 test vectors (test/fixtures/qv-v1/), regenerated from fixed seeds.
 * `npm`-less: `node --import tsx scripts/gen-qv-vectors.ts` writes them; the unit tests
 * check that the code still produces exactly these bytes.
 */

/** A hash input part in JSON: text (UTF-8) or hex bytes. */
export type VectorPart = { utf8: string } | { hex: string };

function toPart(p: VectorPart): HashPart {
  return 'utf8' in p ? p.utf8 : Uint8Array.from(Buffer.from(p.hex, 'hex'));
}

const hashInputs: VectorPart[][] = [
  [{ utf8: 'qv/v1/ceremony' }],
  [{ utf8: 'qv/v1/ceremony' }, { utf8: 'election-1' }, { hex: toHex(u64(2)) }, { hex: toHex(u64(3)) }],
  [{ utf8: 'qv/v1/pok' }, { utf8: '' }, { hex: '' }, { utf8: 'ünïcødé' }],
  [{ utf8: 'qv/v1/total' }, { hex: encodePoint(g, g.base) }, { hex: encodeScalar(Q - 1n) }],
];

/** `H`, `D` and the exact encoded bytes for fixed inputs. */
export function hashVectors(): { parts: VectorPart[]; encoded: string; H: string; D: string }[] {
  return hashInputs.map((parts) => {
    const p = parts.map(toPart);
    return { parts, encoded: toHex(encodeParts(p)), H: encodeScalar(hashToScalar(p)), D: digestHex(p) };
  });
}

/** Group vectors: multiples of G (RFC 9496 A.1 gives the first ones), and scalar encodings. */
export function groupVectors(): { multiplesOfG: string[]; scalars: { value: string; hex: string }[] } {
  const multiplesOfG: string[] = [];
  let p = g.identity;
  for (let i = 0; i < 4; i++) {
    multiplesOfG.push(encodePoint(g, p));
    p = g.add(p, g.base);
  }
  return {
    multiplesOfG,
    scalars: [0n, 1n, 256n, Q - 1n].map((s) => ({ value: s.toString(), hex: encodeScalar(s) })),
  };
}

/** The seed of the 2-of-3 election vector. */
export const ELECTION_SEED = 'election-2of3';

/** The 2-of-3 trustees, 3 options election; trustees 1, 3, 2 decrypt (1 and 3 are used). */
export function electionVector(): SimulatedElection {
  return simulateElection(vectorManifest, 4, vectorActions, [1, 3, 2], seededRandomBytes(ELECTION_SEED));
}
