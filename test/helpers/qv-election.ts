import {
  type Ballot,
  type BallotOpening,
  type ElectionRecord,
  type Manifest,
  type RandomBytes,
  type RecordBallot,
  combineSecretShare,
  computeDecryptionShare,
  createTrustee,
  decryptTotals,
  defaultGroup as g,
  encryptBallot,
  evaluateShare,
  finishCeremony,
  prepareElection,
  reasonString,
  sumBallots,
  toHex,
  verifyBallot,
  voterPublicKey,
} from '../../shared/ballots';

/**
 * A whole qv/v1 election in memory, driven by injected randomness: what the test
 * vectors in test/fixtures/qv-v1/ are generated from and what the tests tamper with.
 */

/** One voter action: cast `selections`, or challenge (spoil) them, with voter `voter`'s key. */
export interface VoterAction {
  voter: number;
  selections: number[];
  challenge?: boolean;
  /** Use a key that is not on the roll. */
  offRoll?: boolean;
}

/** The outcome: the record plus every secret, so tests can recompute and tamper. */
export interface SimulatedElection {
  record: ElectionRecord;
  trusteeSecrets: { trustee: number; coefficients: string[]; share: string }[];
  voterKeys: string[];
  openings: BallotOpening[];
}

/** Runs ceremony, ballots, tally and decryption by `decrypting` trustees (first k used). */
export function simulateElection(
  manifest: Manifest,
  voters: number,
  actions: VoterAction[],
  decrypting: number[],
  random: RandomBytes,
): SimulatedElection {
  const n = manifest.trustees.length;
  const trustees = manifest.trustees.map((t) => createTrustee(g, manifest, t.index, random));
  const { ceremony, electionHash } = finishCeremony(
    g,
    manifest,
    trustees.map((t) => t.commitment),
    [],
  );
  const shares = manifest.trustees.map((t) =>
    combineSecretShare(
      trustees
        .filter((d) => ceremony.qualified.includes(d.secret.trustee))
        .map((d) => evaluateShare(d.secret, t.index)),
    ),
  );
  const hashHex = toHex(electionHash);
  const e = prepareElection(g, { manifest, electionHash: hashHex, jointKey: ceremony.jointKey });
  const voterKeys = Array.from({ length: voters }, () => random(32));
  const roll = voterKeys.map((k, i) => ({ alias: `voter-${i + 1}`, publicKey: toHex(voterPublicKey(k)) }));
  const rollSet = new Set(roll.map((r) => r.publicKey));
  const countedKeys = new Set<string>();
  const ballots: RecordBallot[] = [];
  const counted: Ballot[] = [];
  const openings: BallotOpening[] = [];
  for (const a of actions) {
    const key = a.offRoll ? random(32) : voterKeys[a.voter]!;
    const { ballot, opening } = encryptBallot(e, a.selections, key, random);
    openings.push(opening);
    if (a.challenge) {
      ballots.push({ ...ballot, state: 'spoiled', spoiled: opening });
      continue;
    }
    const verdict = verifyBallot(e, ballot, {
      isOnRoll: (pk) => rollSet.has(pk),
      isDuplicate: (pk) => countedKeys.has(pk),
    });
    if (verdict.valid) {
      countedKeys.add(ballot.publicKey);
      counted.push(ballot);
      ballots.push({ ...ballot, state: 'counted' });
    } else {
      ballots.push({ ...ballot, state: 'rejected', reason: reasonString(verdict) });
    }
  }
  const encrypted = sumBallots(g, manifest.options.length, counted);
  const decShares = decrypting.map((j) =>
    computeDecryptionShare(g, electionHash, encrypted, j, shares[j - 1]!, random),
  );
  const used = decrypting.slice(0, manifest.threshold);
  const decryption =
    decrypting.length >= manifest.threshold
      ? {
          shares: decShares,
          used,
          totals: decryptTotals(
            g,
            encrypted,
            counted.length,
            decShares.filter((s) => used.includes(s.trustee)),
          ),
        }
      : null;
  return {
    record: {
      version: 'qv/v1',
      manifest,
      electionHash: hashHex,
      ceremony,
      roll,
      ballots,
      tally: { encrypted, countedBallots: counted.length },
      decryption,
    },
    trusteeSecrets: trustees.map((t, i) => ({ ...t.secret, share: shares[i]! })).slice(0, n),
    voterKeys: voterKeys.map(toHex),
    openings,
  };
}

/** The fixed 2-of-3, 3-option, single-choice election of the committed vectors. */
export const vectorManifest: Manifest = {
  electionId: 'qv-v1-vector-election',
  title: 'Test vector election',
  options: [
    { id: 'red', label: 'Red' },
    { id: 'green', label: 'Green' },
    { id: 'blue', label: 'Blue' },
  ],
  minSelections: 1,
  maxSelections: 1,
  trustees: [
    { index: 1, id: 'trustee-a' },
    { index: 2, id: 'trustee-b' },
    { index: 3, id: 'trustee-c' },
  ],
  threshold: 2,
};

/** The vector election's voter actions: counted, challenged, duplicate, off-roll ballots. */
export const vectorActions: VoterAction[] = [
  { voter: 0, selections: [1, 0, 0] },
  { voter: 1, selections: [0, 1, 0], challenge: true },
  { voter: 1, selections: [0, 0, 1] },
  { voter: 2, selections: [1, 0, 0] },
  { voter: 0, selections: [0, 1, 0] },
  { voter: 3, selections: [0, 0, 1], offRoll: true },
];
