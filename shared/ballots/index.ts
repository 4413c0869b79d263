/**
 * qv/v1 secret-ballot cryptography (BALLOTS.md, docs/election-record.md): pure,
 * runtime-agnostic (Node and browser), randomness injected. The group is behind
 * `Group<P>`; `defaultGroup` is the backend chosen by docs/benchmarks.md.
 */
import { nobleGroup } from './group-noble';

export type { Group } from './group';
export { nobleGroup, type NoblePoint } from './group-noble';

/** The backend everything uses unless told otherwise (see docs/benchmarks.md). */
export const defaultGroup = nobleGroup;

export { EncodingError, fromHex, toHex, utf8 } from './bytes';
export { type HashPart, encodeParts, lp, u64 } from './hash-input';
export { type HashFunctions, digest, digestHex, hashToScalar, setHashFunctions } from './hash';
export { Q, lagrangeAtZero, scalarFromBytes, scalarToBytes } from './scalar';
export { type RandomBytes, cryptoRandomBytes, randomScalar, seededRandomBytes } from './random';
export { decodePoint, decodePublicKey, decodeScalar, encodePoint, encodeScalar } from './codec';
export { tags, RECORD_VERSION } from './tags';
export type * from './types';

export { ceremonyContext, electionHash, validateManifest } from './manifest';
export {
  type CommitmentFault,
  type TrusteeSecret,
  checkCommitmentEntry,
  checkShare,
  combineSecretShare,
  createTrustee,
  evaluateShare,
  finishCeremony,
  jointKeyOf,
  judgeComplaint,
  publicShareKey,
  qualifiedTrustees,
} from './dkg';

export { type ElectionKeys, type PreparedElection, prepareElection } from './election';
export {
  type SignatureVerifier,
  ballotMessage,
  generateVoterKey,
  nobleVerifySignature,
  signMessage,
  voterPublicKey,
} from './signature';
export { encryptBallot } from './ballot-encrypt';
export { type BallotReason, type BallotVerdict, reasonString } from './ballot-verdict';
export { type BallotCheckOptions, verifyBallot } from './ballot-verify';
export { checkOpening } from './spoil';

export { addBallotToTally, emptyTally, sumBallots } from './tally';
export { boundedDiscreteLog } from './discrete-log';
export {
  type RefusedShare,
  type ShareFault,
  assembleDecryption,
  checkDecryptionShare,
  combineShares,
  computeDecryptionShare,
  decryptTotals,
} from './decryption';
export {
  type RecordFailure,
  type RecordVerdict,
  type RecordVerifyOptions,
  verifyRecord,
} from './record-verify';
export {
  type SealedShare,
  type TransportKeyPair,
  createTransportKey,
  openShare,
  sealShare,
} from './share-transport';
export { type BatchOptions, type BatchResult, verifyBallotBatch } from './batch-verify';
