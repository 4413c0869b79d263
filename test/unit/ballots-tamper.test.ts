import {
  type Ballot,
  type ElectionRecord,
  type RecordBallot,
  ballotMessage,
  decodePoint,
  defaultGroup as g,
  encodePoint,
  encodeScalar,
  encryptBallot,
  fromHex,
  prepareElection,
  seededRandomBytes,
  signMessage,
  toHex,
  verifyBallot,
  verifyRecord,
} from '../../shared/ballots';
import { proveDisjunctive } from '../../shared/ballots/disjunctive-proof';
import { computeTracker } from '../../shared/ballots/tracker';
import recordFixture from '../fixtures/qv-v1/election-2of3-record.json';
import secrets from '../fixtures/qv-v1/election-2of3-secrets.json';

// Every tampering of the brief is rejected with its own machine-readable reason: by the
// ballot verifier (what validators run) and by the record verifier (what auditors run).

const record = recordFixture as ElectionRecord;
const e = prepareElection(g, {
  manifest: record.manifest,
  electionHash: record.electionHash,
  jointKey: record.ceremony.jointKey,
});
const keyOf = (i: number) => fromHex(secrets.voterKeys[i], 32);
const random = seededRandomBytes('tamper-tests');
const fresh = (): Ballot => structuredClone(stripState(record.ballots[0]!));

function stripState(b: RecordBallot): Ballot {
  const { state: _s, reason: _r, spoiled: _o, ...ballot } = b;
  return ballot;
}

/** A cheating voter (or device) re-signs whatever it built: only the proofs can catch it. */
function resign(b: Ballot, secretKey: Uint8Array, hash = e.hash): Ballot {
  const hex = (x: string) => fromHex(x, 32);
  const tracker = computeTracker(
    hash,
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
    signature: toHex(signMessage(secretKey, ballotMessage(hash, tracker))),
  };
}

function tamperRecord(change: (r: ElectionRecord) => void): ElectionRecord {
  const r = structuredClone(record);
  change(r);
  return r;
}

describe('ballot verification rejects each tampering with its reason', () => {
  test('an honest ballot verifies', () => {
    expect(verifyBallot(e, fresh())).toEqual({ valid: true });
  });

  test('a flipped ciphertext (re-signed by the voter) fails that option proof', () => {
    const b = fresh();
    b.selections[1]!.beta = encodePoint(g, g.add(decodePoint(g, b.selections[1]!.beta), g.base));
    expect(verifyBallot(e, resign(b, keyOf(0)))).toMatchObject({
      valid: false,
      reason: 'bad_selection_proof',
      option: 2,
    });
  });

  test('a flipped ciphertext byte without re-signing is a bad tracker or malformed', () => {
    const b = fresh();
    const beta = fromHex(b.selections[0]!.beta, 32);
    beta[5]! ^= 1;
    b.selections[0]!.beta = toHex(beta);
    const v = verifyBallot(e, b);
    expect(v.valid).toBe(false);
    expect(['bad_tracker', 'malformed']).toContain(!v.valid && v.reason);
  });

  test('a selection encrypting 2 with a proof for the value 2 fails', () => {
    const b = fresh();
    const voterKey = fromHex(b.publicKey, 32);
    const r = 987654321n;
    const alpha = g.mulBase(r);
    const beta = g.add(g.mulBase(2n), g.mul(e.K, r));
    const statement = {
      tag: 'qv/v1/selection',
      electionHash: e.hash,
      voterKey,
      index: 1,
      K: e.K,
      alpha,
      beta,
      values: [0, 2],
    };
    const p = proveDisjunctive(g, statement, 2, r, random);
    b.selections[0] = {
      alpha: encodePoint(g, alpha),
      beta: encodePoint(g, beta),
      proof: { c: p.c.map(encodeScalar), v: p.v.map(encodeScalar) },
    };
    expect(verifyBallot(e, resign(b, keyOf(0)))).toMatchObject({
      valid: false,
      reason: 'bad_selection_proof',
      option: 1,
    });
  });

  test('proofs made for another election fail', () => {
    const other = prepareElection(g, {
      manifest: record.manifest,
      electionHash: '11'.repeat(32),
      jointKey: record.ceremony.jointKey,
    });
    const { ballot } = encryptBallot(other, [0, 1, 0], keyOf(0), random);
    expect(verifyBallot(e, resign(ballot, keyOf(0)))).toMatchObject({
      valid: false,
      reason: 'bad_selection_proof',
      option: 1,
    });
  });

  test("another voter's proofs (re-signed with their own key) fail", () => {
    // Made by the code under test (not the fixture), so that the test depends only on
    // the voter key being bound into the challenges.
    const b = encryptBallot(e, [0, 0, 1], keyOf(0), random).ballot;
    expect(verifyBallot(e, b)).toEqual({ valid: true });
    const thief = keyOf(2);
    b.publicKey = record.roll[2]!.publicKey;
    expect(verifyBallot(e, resign(b, thief))).toMatchObject({
      valid: false,
      reason: 'bad_selection_proof',
      option: 1,
    });
  });

  test('a bad signature fails', () => {
    const b = fresh();
    const sig = fromHex(b.signature, 64);
    sig[10]! ^= 0x40;
    b.signature = toHex(sig);
    expect(verifyBallot(e, b)).toMatchObject({ valid: false, reason: 'bad_signature' });
  });

  test('a signature by another key fails', () => {
    const b = fresh();
    const other = resign(b, keyOf(1));
    expect(verifyBallot(e, { ...b, signature: other.signature })).toMatchObject({
      valid: false,
      reason: 'bad_signature',
    });
  });

  test('a duplicate ballot and a key off the roll are rejected', () => {
    const b = fresh();
    expect(verifyBallot(e, b, { isDuplicate: (pk) => pk === b.publicKey })).toMatchObject({
      reason: 'duplicate_key',
    });
    expect(verifyBallot(e, b, { isOnRoll: () => false })).toMatchObject({ reason: 'not_on_roll' });
  });

  test('a wrong total proof fails as bad_total_proof', () => {
    const b = fresh();
    const c = fromHex(b.total.proof.c[0]!, 32);
    c[0]! ^= 1;
    b.total.proof.c[0] = toHex(c);
    expect(verifyBallot(e, resign(b, keyOf(0)))).toMatchObject({ valid: false, reason: 'bad_total_proof' });
  });

  test('non-canonical encodings are malformed', () => {
    const b = fresh();
    b.selections[2]!.alpha = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f';
    expect(verifyBallot(e, b)).toMatchObject({ valid: false, reason: 'malformed' });
    const s = fresh();
    s.selections[0]!.proof.v[0] = 'ff'.repeat(32);
    expect(verifyBallot(e, s)).toMatchObject({ valid: false, reason: 'malformed' });
  });
});

describe('record verification names every altered entry', () => {
  const failuresOf = (r: ElectionRecord) => verifyRecord(r, { group: g }).failures;

  test('a counted duplicate ballot is named by tracker', () => {
    const r = tamperRecord((x) => {
      x.ballots[4]!.state = 'counted';
      delete x.ballots[4]!.reason;
    });
    expect(failuresOf(r)).toContainEqual(
      expect.objectContaining({ check: 'ballot_state', ballot: 4, tracker: record.ballots[4]!.tracker }),
    );
  });

  test('an altered stored ballot is named and its ciphertexts no longer add up', () => {
    const r = tamperRecord((x) => {
      x.ballots[0]!.selections[0]!.alpha = x.ballots[2]!.selections[0]!.alpha;
    });
    const f = failuresOf(r);
    expect(f).toContainEqual(expect.objectContaining({ check: 'ballot_state', ballot: 0 }));
    expect(f).toContainEqual(expect.objectContaining({ check: 'tally' }));
  });

  test("a voter's own forged ballot marked counted is named with its option", () => {
    const b = fresh();
    b.selections[1]!.beta = encodePoint(g, g.add(decodePoint(g, b.selections[1]!.beta), g.base));
    const forged = resign(b, keyOf(0));
    const r = tamperRecord((x) => {
      x.ballots[0] = { ...forged, state: 'counted' };
    });
    expect(failuresOf(r)).toContainEqual(
      expect.objectContaining({ check: 'ballot_state', ballot: 0, tracker: forged.tracker, option: 2 }),
    );
  });

  test('an altered tally is named by option', () => {
    const r = tamperRecord((x) => {
      const t = x.tally.encrypted;
      [t[0]!.beta, t[1]!.beta] = [t[1]!.beta, t[0]!.beta];
    });
    const f = failuresOf(r);
    expect(f).toContainEqual(expect.objectContaining({ check: 'tally', option: 1 }));
    expect(f).toContainEqual(expect.objectContaining({ check: 'tally', option: 2 }));
  });

  test('an altered decryption share is named by trustee and option', () => {
    const r = tamperRecord((x) => {
      const v = x.decryption!.shares[0]!.values[1]!;
      v.share = encodePoint(g, g.add(decodePoint(g, v.share), g.base));
    });
    const f = failuresOf(r);
    expect(f).toContainEqual(
      expect.objectContaining({ check: 'bad_decryption_proof', trustee: 1, option: 2 }),
    );
    expect(f).toContainEqual(expect.objectContaining({ check: 'decryption_used' }));
  });

  test('an altered published total is named by option', () => {
    const r = tamperRecord((x) => {
      x.decryption!.totals = [1, 1, 1];
    });
    const f = failuresOf(r);
    expect(f).toContainEqual(expect.objectContaining({ check: 'total', option: 1 }));
    expect(f).toContainEqual(expect.objectContaining({ check: 'total', option: 2 }));
    expect(f).not.toContainEqual(expect.objectContaining({ check: 'total', option: 3 }));
  });

  test('a wrong commitment proof names the trustee', () => {
    const r = tamperRecord((x) => {
      x.ceremony.commitments[1]!.proofs[1]!.v = x.ceremony.commitments[1]!.proofs[0]!.v;
    });
    const f = failuresOf(r);
    expect(f).toContainEqual(expect.objectContaining({ check: 'commitment_proof', trustee: 2 }));
    expect(f).toContainEqual(expect.objectContaining({ check: 'qualified' }));
  });

  test('a commitment proof copied from another trustee fails (bound to the index)', () => {
    const r = tamperRecord((x) => {
      x.ceremony.commitments[2]!.coefficients = x.ceremony.commitments[0]!.coefficients;
      x.ceremony.commitments[2]!.proofs = x.ceremony.commitments[0]!.proofs;
    });
    expect(failuresOf(r)).toContainEqual(expect.objectContaining({ check: 'commitment_proof', trustee: 3 }));
  });

  test('a non-canonical encoding in the record is named', () => {
    const r = tamperRecord((x) => {
      x.ballots[3]!.selections[1]!.beta = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f';
    });
    expect(failuresOf(r)).toContainEqual(
      expect.objectContaining({
        check: 'ballot_state',
        ballot: 3,
        message: expect.stringContaining('malformed'),
      }),
    );
  });

  test('an altered spoiled opening is named', () => {
    const r = tamperRecord((x) => {
      x.ballots[1]!.spoiled!.plaintexts = [1, 0, 0];
    });
    expect(failuresOf(r)).toContainEqual(
      expect.objectContaining({ check: 'spoiled_opening', ballot: 1, option: 1 }),
    );
  });

  test('an altered election hash or joint key is found', () => {
    expect(
      failuresOf(
        tamperRecord((x) => {
          x.electionHash = '00'.repeat(32);
        }),
      ),
    ).toContainEqual(expect.objectContaining({ check: 'election_hash' }));
    const K2 = encodePoint(g, g.add(decodePoint(g, record.ceremony.jointKey), g.base));
    expect(
      failuresOf(
        tamperRecord((x) => {
          x.ceremony.jointKey = K2;
        }),
      ),
    ).toContainEqual(expect.objectContaining({ check: 'joint_key' }));
  });
});
