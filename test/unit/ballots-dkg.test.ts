import {
  type Manifest,
  ceremonyContext,
  checkCommitmentEntry,
  checkShare,
  combineSecretShare,
  createTransportKey,
  createTrustee,
  decodeScalar,
  defaultGroup as g,
  encodePoint,
  encodeScalar,
  emptyTally,
  evaluateShare,
  finishCeremony,
  judgeComplaint,
  openShare,
  publicShareKey,
  sealShare,
  seededRandomBytes,
  toHex,
  verifyRecord,
} from '../../shared/ballots';

// The key ceremony (BALLOTS.md §3) and the share transport (docs/election-record.md A9).

const manifest: Manifest = {
  electionId: 'dkg-test',
  options: [{ id: 'x', label: 'X' }],
  minSelections: 1,
  maxSelections: 1,
  trustees: [1, 2, 3, 4].map((index) => ({ index, id: `t${index}` })),
  threshold: 3,
};
const random = seededRandomBytes('dkg-tests');
const trustees = manifest.trustees.map((t) => createTrustee(g, manifest, t.index, random));
const commitments = trustees.map((t) => t.commitment);

describe('Pedersen DKG with Feldman commitments', () => {
  test('every honest entry verifies and every share checks against its dealer only', () => {
    for (const t of trustees) expect(checkCommitmentEntry(g, manifest, t.commitment)).toBeNull();
    const s12 = evaluateShare(trustees[0]!.secret, 2);
    expect(checkShare(g, trustees[0]!.commitment, 2, s12)).toBe(true);
    expect(checkShare(g, trustees[0]!.commitment, 3, s12)).toBe(false);
    expect(checkShare(g, trustees[1]!.commitment, 2, s12)).toBe(false);
    expect(checkShare(g, trustees[0]!.commitment, 2, encodeScalar(decodeScalar(s12) + 1n))).toBe(false);
  });

  test('X_j computed from the record equals x_j·G of the share trustee j assembles', () => {
    const { ceremony } = finishCeremony(g, manifest, commitments, []);
    expect(ceremony.qualified).toEqual([1, 2, 3, 4]);
    for (const j of [1, 2, 3, 4]) {
      const x = combineSecretShare(trustees.map((t) => evaluateShare(t.secret, j)));
      expect(encodePoint(g, publicShareKey(g, commitments, j))).toBe(
        encodePoint(g, g.mulBase(decodeScalar(x))),
      );
    }
  });

  test('an upheld complaint disqualifies; fewer than k qualified trustees fail the ceremony', () => {
    const { ceremony } = finishCeremony(g, manifest, commitments, [{ from: 1, against: 2, upheld: true }]);
    expect(ceremony.qualified).toEqual([1, 3, 4]);
    const jointWithout2 = g.add(
      g.add(
        g.mulBase(decodeScalar(trustees[0]!.secret.coefficients[0]!)),
        g.mulBase(decodeScalar(trustees[2]!.secret.coefficients[0]!)),
      ),
      g.mulBase(decodeScalar(trustees[3]!.secret.coefficients[0]!)),
    );
    expect(ceremony.jointKey).toBe(encodePoint(g, jointWithout2));
    expect(() =>
      finishCeremony(g, manifest, commitments, [
        { from: 1, against: 2, upheld: true },
        { from: 1, against: 3, upheld: true },
      ]),
    ).toThrow(/ceremony failed/);
  });

  test('a proof of knowledge is bound to its coefficient slot and its election', () => {
    const swapped = structuredClone(trustees[0]!.commitment);
    swapped.proofs = [swapped.proofs[1]!, swapped.proofs[0]!, swapped.proofs[2]!];
    expect(checkCommitmentEntry(g, manifest, swapped)).toEqual({
      check: 'bad_commitment_proof',
      coefficient: 0,
    });
    expect(checkCommitmentEntry(g, { ...manifest, electionId: 'other' }, trustees[0]!.commitment)).toEqual({
      check: 'bad_commitment_proof',
      coefficient: 0,
    });
    const short = { ...trustees[0]!.commitment, coefficients: trustees[0]!.commitment.coefficients.slice(1) };
    expect(checkCommitmentEntry(g, manifest, short)).toMatchObject({ check: 'malformed' });
  });
});

describe('complaints (election-record A10)', () => {
  const dealer = trustees[0]!;
  const honestShare = evaluateShare(dealer.secret, 2);
  const wrongShare = encodeScalar(decodeScalar(honestShare) + 1n);

  test('a dealer that answers with the right share clears itself; a wrong or no answer upholds', () => {
    expect(
      judgeComplaint(g, dealer.commitment, {
        from: 2,
        against: 1,
        upheld: false,
        revealedShare: honestShare,
      }),
    ).toBe(false);
    expect(
      judgeComplaint(g, dealer.commitment, { from: 2, against: 1, upheld: true, revealedShare: wrongShare }),
    ).toBe(true);
    expect(judgeComplaint(g, dealer.commitment, { from: 2, against: 1, upheld: true })).toBe(true);
  });

  test('the record verifier names a complaint judged wrongly', () => {
    const complaints = [{ from: 2, against: 1, upheld: true, revealedShare: honestShare }];
    const { ceremony, electionHash } = finishCeremony(g, manifest, commitments, complaints);
    const record = {
      version: 'qv/v1' as const,
      manifest,
      electionHash: toHex(electionHash),
      ceremony,
      roll: [],
      ballots: [],
      tally: { encrypted: emptyTally(g, 1), countedBallots: 0 },
      decryption: null,
    };
    expect(verifyRecord(record, { group: g }).failures).toContainEqual(
      expect.objectContaining({ check: 'complaint', trustee: 1 }),
    );
    const fair = [{ from: 2, against: 1, upheld: false, revealedShare: honestShare }];
    const ok = finishCeremony(g, manifest, commitments, fair);
    expect(
      verifyRecord({ ...record, ceremony: ok.ceremony, electionHash: toHex(ok.electionHash) }, { group: g }),
    ).toEqual({ ok: true, failures: [] });
  }, 30_000);
});

describe('share transport (X25519-style DH on ristretto255 + HKDF + AES-GCM)', () => {
  const ctx = ceremonyContext(manifest);
  const k1 = createTransportKey(g, random);
  const k2 = createTransportKey(g, random);
  const k3 = createTransportKey(g, random);

  test('the recipient opens exactly what the sender sealed', async () => {
    const share = evaluateShare(trustees[0]!.secret, 2);
    const sealed = await sealShare(
      g,
      ctx,
      { index: 1, keys: k1 },
      { index: 2, publicKey: k2.publicKey },
      share,
      random,
    );
    expect(sealed.ciphertext).not.toContain(share);
    await expect(
      openShare(g, ctx, { index: 2, keys: k2 }, { index: 1, publicKey: k1.publicKey }, sealed),
    ).resolves.toBe(share);
  });

  test('an altered, redirected or impersonated share does not open', async () => {
    const share = evaluateShare(trustees[0]!.secret, 2);
    const sealed = await sealShare(
      g,
      ctx,
      { index: 1, keys: k1 },
      { index: 2, publicKey: k2.publicKey },
      share,
      random,
    );
    const flipped = {
      ...sealed,
      ciphertext: `${sealed.ciphertext.slice(0, -1)}${sealed.ciphertext.endsWith('0') ? '1' : '0'}`,
    };
    await expect(
      openShare(g, ctx, { index: 2, keys: k2 }, { index: 1, publicKey: k1.publicKey }, flipped),
    ).rejects.toThrow();
    // Trustee 3 cannot read it, even relabelled as addressed to 3.
    await expect(
      openShare(g, ctx, { index: 3, keys: k3 }, { index: 1, publicKey: k1.publicKey }, { ...sealed, to: 3 }),
    ).rejects.toThrow();
    // Trustee 2 does not accept it as coming from trustee 3.
    await expect(
      openShare(
        g,
        ctx,
        { index: 2, keys: k2 },
        { index: 3, publicKey: k3.publicKey },
        { ...sealed, from: 3 },
      ),
    ).rejects.toThrow();
    // Nor in another ceremony.
    await expect(
      openShare(
        g,
        ceremonyContext({ ...manifest, electionId: 'x' }),
        { index: 2, keys: k2 },
        { index: 1, publicKey: k1.publicKey },
        sealed,
      ),
    ).rejects.toThrow();
  });
});
