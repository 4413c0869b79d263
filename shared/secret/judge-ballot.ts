import { createPublicKey, verify } from 'node:crypto';
import { type Ballot, type NoblePoint, type PreparedElection, reasonString, verifyBallot } from '../ballots';
import type { SignatureVerifier } from '../ballots';

/**
 * A validator's verdict on one secret ballot (BALLOTS.md §4, docs/election-record.md
 * A5): the signature under the voter's roll key, every proof, and the transcript binding
 * (electionHash and P inside every challenge). The one function the pipeline calls, so
 * batch or worker-thread verification can replace it without touching the pipeline.
 * One counted ballot per key follows from one key per voter (the roll) and one counted
 * vote per voter (the vote log): the validator's voter check covers it.
 */

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** Ed25519 by OpenSSL (strict RFC 8032, ~9,000 verifies/s on a cached key vs noble's few hundred). */
export const nodeVerifySignature: SignatureVerifier = (signature, message, publicKey) => {
  try {
    const key = createPublicKey({
      key: Buffer.concat([SPKI_ED25519, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
};

/** Null when the ballot counts; otherwise the reason (`code` or `code:option`). */
export function judgeSecretBallot(
  e: PreparedElection<NoblePoint>,
  ballot: Ballot,
  rollKey: string | null,
): string | null {
  const verdict = verifyBallot(e, ballot, {
    isOnRoll: (pk) => rollKey !== null && pk === rollKey,
    verifySignature: nodeVerifySignature,
  });
  return reasonString(verdict) ?? null;
}
