/**
 * The JSON shapes of qv/v1 (BALLOTS.md §6, docs/election-record.md). Points, scalars
 * and hashes are lowercase hex strings; they are decoded (and rejected if non-canonical)
 * only where they are used.
 */

/** One option of the manifest; `id` enters the election hash. */
export interface ManifestOption {
  id: string;
  label: string;
}

/** A trustee of the manifest, with its index 1..n (the point its share is evaluated at). */
export interface ManifestTrustee {
  index: number;
  id: string;
}

/** The election manifest (§2). `title` and option labels are not hashed. */
export interface Manifest {
  electionId: string;
  title?: string;
  options: ManifestOption[];
  minSelections: number;
  maxSelections: number;
  trustees: ManifestTrustee[];
  threshold: number;
}

/** A Schnorr / Chaum–Pedersen proof published as challenge and response. */
export interface ChallengeResponse {
  c: string;
  v: string;
}

/** One trustee's published commitments `A_{i,0..k−1}` and proofs of knowledge (§3). */
export interface CommitmentEntry {
  trustee: number;
  coefficients: string[];
  proofs: ChallengeResponse[];
}

/**
 * A complaint of trustee `from` against `against` (§3): an upheld one disqualifies.
 * `revealedShare` is an ADDITION (docs/election-record.md A10): the accused's public
 * answer `s_{against→from}`, by which anyone judges the complaint.
 */
export interface Complaint {
  from: number;
  against: number;
  upheld: boolean;
  revealedShare?: string;
}

/** The ceremony's public outcome (§6). */
export interface Ceremony {
  commitments: CommitmentEntry[];
  complaints: Complaint[];
  qualified: number[];
  jointKey: string;
}

/**
 * A disjunctive proof (§4): one `c` and one `v` per allowed value, in ascending order.
 * `a`/`b` are an ADDITION (docs/election-record.md "Commitment hints"): the commitments
 * `a_j`, `b_j`, optional, which allow batch verification; they never change a verdict.
 */
export interface DisjunctiveProof {
  c: string[];
  v: string[];
  a?: string[];
  b?: string[];
}

/** One option's ciphertext and its 0-or-1 proof. */
export interface EncryptedSelection {
  alpha: string;
  beta: string;
  proof: DisjunctiveProof;
}

/** A cast ballot as a client submits it (§4; the record adds `state`, `reason`, `spoiled`). */
export interface Ballot {
  tracker: string;
  publicKey: string;
  signature: string;
  selections: EncryptedSelection[];
  total: { proof: DisjunctiveProof };
}

/** What the voter's device reveals when the voter challenges a ballot (Benaloh, §4). */
export interface BallotOpening {
  plaintexts: number[];
  nonces: string[];
}

/** The state the record gives each ballot. */
export type BallotState = 'counted' | 'rejected' | 'spoiled';

/** A ballot as the record lists it (§6). */
export interface RecordBallot extends Ballot {
  state: BallotState;
  reason?: string;
  spoiled?: BallotOpening;
}

/** A ciphertext `(α, β)` in JSON. */
export interface Ciphertext {
  alpha: string;
  beta: string;
}

/** The encrypted tally (§5). */
export interface EncryptedTally {
  encrypted: Ciphertext[];
  countedBallots: number;
}

/** One trustee's decryption share of every option's total, with proofs (§5). */
export interface DecryptionShare {
  trustee: number;
  shareKey: string;
  values: { share: string; proof: ChallengeResponse }[];
}

/** The decryption (§6): shares, the `k` trustees used, and the totals. */
export interface Decryption {
  shares: DecryptionShare[];
  used: number[];
  totals: number[];
}

/** A voter roll entry: the Ed25519 public key a ballot must verify under. */
export interface RollEntry {
  alias: string;
  publicKey: string;
}

/** The whole election record (§6). */
export interface ElectionRecord {
  version: 'qv/v1';
  manifest: Manifest;
  electionHash: string;
  ceremony: Ceremony;
  roll: RollEntry[];
  ballots: RecordBallot[];
  tally: EncryptedTally;
  decryption: Decryption | null;
}
