import {
  type Ballot,
  type ElectionRecord,
  type RecordBallot,
  ballotMessage,
  defaultGroup as g,
  encodePoint,
  encodeScalar,
  fromHex,
  nobleVerifySignature,
  prepareElection,
  randomScalar,
  seededRandomBytes,
  signMessage,
  toHex,
  setHashFunctions,
  verifyBallot,
  verifyBallotBatch,
} from '../../shared/ballots';
import { nodeHashes } from '../../shared/ballots-node/native-hashes';
import { createNodeSignatureVerifier } from '../../shared/ballots-node/ed25519-verify';
import { disjunctiveChallenge } from '../../shared/ballots/disjunctive-proof';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { computeTracker } from '../../shared/ballots/tracker';
import recordFixture from '../fixtures/qv-v1/election-2of3-record.json';
import hashFixture from '../fixtures/qv-v1/hash-vectors.json';
import secrets from '../fixtures/qv-v1/election-2of3-secrets.json';
import { hashVectors } from '../helpers/qv-vectors';

// Batch verification (docs/election-record.md A4) must give exactly the per-ballot
// verdicts: one combined equation for honest batches, and a fallback that finds and
// names the bad ballot when the combination fails.

const record = recordFixture as ElectionRecord;
const e = prepareElection(g, {
  manifest: record.manifest,
  electionHash: record.electionHash,
  jointKey: record.ceremony.jointKey,
});
const random = seededRandomBytes('batch-tests');
const strip = ({ state: _s, reason: _r, spoiled: _o, ...b }: RecordBallot): Ballot => structuredClone(b);
// The three counted ballots of the fixture (by voters 0, 1 and 2) and voter 1's spoiled one.
const honest = [0, 2, 3, 1].map((i) => strip(record.ballots[i]!));
const voterKey = (i: number) => fromHex(secrets.voterKeys[i]!, 32);

function resign(b: Ballot, secretKey: Uint8Array): Ballot {
  const hex = (x: string) => fromHex(x, 32);
  const tracker = computeTracker(
    e.hash,
    fromHex(b.publicKey, 32),
    b.selections.map((s) => ({
      alpha: hex(s.alpha),
      beta: hex(s.beta),
      c: s.proof.c.map(hex),
      v: s.proof.v.map(hex),
    })),
    { c: b.total.proof.c.map(hex), v: b.total.proof.v.map(hex) },
  );
  return {
    ...b,
    tracker: toHex(tracker),
    signature: toHex(signMessage(secretKey, ballotMessage(e.hash, tracker))),
  };
}

/**
 * A forged 0-or-1 proof for option `index` whose hints DO hash to its challenges but
 * whose equations are false: only the group equations (batched or not) can catch it.
 */
function forgeSelection(b: Ballot, index: number, secretKey: Uint8Array): Ballot {
  const out = structuredClone(b);
  const s = out.selections[index - 1]!;
  const hints = [0, 1].map(() => ({
    a: g.mulBase(randomScalar(random)),
    b: g.mulBase(randomScalar(random)),
  }));
  const c = disjunctiveChallenge(
    g,
    {
      tag: 'qv/v1/selection',
      electionHash: e.hash,
      voterKey: fromHex(b.publicKey, 32),
      index,
      K: e.K,
      alpha: g.decode(fromHex(s.alpha, 32)),
      beta: g.decode(fromHex(s.beta, 32)),
      values: [0, 1],
    },
    hints.map((h) => ({ a: g.encode(h.a), b: g.encode(h.b) })),
  );
  const c0 = randomScalar(random);
  const q = 2n ** 252n + 27742317777372353535851937790883648493n;
  s.proof = {
    c: [encodeScalar(c0), encodeScalar((((c - c0) % q) + q) % q)],
    v: [encodeScalar(randomScalar(random)), encodeScalar(randomScalar(random))],
    a: hints.map((h) => encodePoint(g, h.a)),
    b: hints.map((h) => encodePoint(g, h.b)),
  };
  return resign(out, secretKey);
}

describe('batch verification', () => {
  test('an honest batch verifies as one combined equation', () => {
    const r = verifyBallotBatch(e, honest, { random });
    expect(r).toEqual({
      verdicts: honest.map(() => ({ valid: true })),
      batched: honest.length,
      fellBack: false,
    });
  });

  test('a forged proof whose hints hash correctly fails the batch, and the fallback names it', () => {
    const forged = forgeSelection(honest[1]!, 2, voterKey(1));
    expect(verifyBallot(e, forged)).toMatchObject({ valid: false, reason: 'bad_selection_proof', option: 2 });
    const batch = [honest[0]!, forged, honest[2]!];
    const r = verifyBallotBatch(e, batch, { random });
    expect(r.fellBack).toBe(true);
    expect(r.verdicts).toEqual([
      { valid: true },
      expect.objectContaining({ valid: false, reason: 'bad_selection_proof', option: 2 }),
      { valid: true },
    ]);
  });

  test('missing or wrong hints never change a verdict', () => {
    const noHints = structuredClone(honest[0]!);
    for (const s of noHints.selections) {
      delete s.proof.a;
      delete s.proof.b;
    }
    const wrongHint = structuredClone(honest[1]!);
    wrongHint.selections[0]!.proof.a![0] = wrongHint.selections[1]!.proof.a![0]!;
    const r = verifyBallotBatch(e, [noHints, wrongHint, honest[2]!], { random });
    expect(r.verdicts).toEqual([{ valid: true }, { valid: true }, { valid: true }]);
    expect(r.batched).toBe(1);
  });

  test('cheap rejections come first, with the same reasons as one at a time', () => {
    const badSig = structuredClone(honest[0]!);
    badSig.signature = `${badSig.signature.slice(0, -2)}00`;
    const offRoll = strip(record.ballots[5]!);
    const batch = [badSig, offRoll, honest[1]!];
    const roll = new Set(record.roll.map((x) => x.publicKey));
    const opts = { isOnRoll: (pk: string) => roll.has(pk), random };
    const r = verifyBallotBatch(e, batch, opts);
    expect(r.verdicts).toEqual(batch.map((b) => verifyBallot(e, b, opts)));
    expect(r.verdicts.map((v) => !v.valid && v.reason)).toEqual(['bad_signature', 'not_on_roll', false]);
  });
});

describe('server-side native implementations give the same results', () => {
  test('node:crypto Ed25519 accepts and rejects exactly what noble (strict) does', () => {
    const verify = createNodeSignatureVerifier();
    const msg = new TextEncoder().encode('qv/v1 signature test');
    const sk = voterKey(0);
    const pk = fromHex(record.roll[0]!.publicKey, 32);
    const sig = signMessage(sk, msg);
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const sPlusL = Uint8Array.from(sig);
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += L;
    for (let i = 32; i < 64; i++) {
      sPlusL[i] = Number(s & 0xffn);
      s >>= 8n;
    }
    const flipped = Uint8Array.from(sig);
    flipped[3]! ^= 1;
    const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
      [sig, msg, pk],
      [sPlusL, msg, pk],
      [flipped, msg, pk],
      [sig, msg, fromHex(record.roll[1]!.publicKey, 32)],
      [sig, new Uint8Array(3), pk],
      [sig, msg, new Uint8Array(32).fill(0xff)],
    ];
    const noble = cases.map(([a, b, c]) => nobleVerifySignature(a, b, c));
    expect(noble).toEqual([true, false, false, false, false, false]);
    expect(cases.map(([a, b, c]) => verify(a, b, c))).toEqual(noble);
  });

  test('node:crypto SHA-2 reproduces the H and D vectors', () => {
    try {
      setHashFunctions(nodeHashes);
      expect(hashVectors()).toEqual(hashFixture);
    } finally {
      setHashFunctions({ sha256, sha512 });
    }
  });
});
