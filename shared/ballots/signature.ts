import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes } from './bytes';
import { lp } from './hash-input';
import { type RandomBytes, cryptoRandomBytes } from './random';
import { tags } from './tags';

/**
 * Voter signatures (BALLOTS.md §4): Ed25519 (RFC 8032) over
 * `lp("qv/v1/ballot") || lp(electionHash) || lp(tracker)`. noble's implementation runs
 * in browsers and Node; a server may inject a faster verifier (node:crypto) that
 * implements the same strict rule.
 */

/** Verifies an Ed25519 signature; injectable so validators can use a native one. */
export type SignatureVerifier = (
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
) => boolean;

/** The exact bytes a voter signs. */
export function ballotMessage(electionHash: Uint8Array, tracker: Uint8Array): Uint8Array {
  return concatBytes([lp(tags.ballot), lp(electionHash), lp(tracker)]);
}

/** A new voter key pair (32-byte seed, 32-byte public key). */
export function generateVoterKey(random: RandomBytes = cryptoRandomBytes): {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
} {
  const secretKey = random(32);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** The public key of a 32-byte Ed25519 seed. */
export function voterPublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

/** Ed25519 signature (deterministic, RFC 8032). */
export function signMessage(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

/**
 * The strict RFC 8032 / FIPS 186-5 rule (not ZIP-215): every validator and every
 * verifier must accept exactly the same signatures, and OpenSSL (node:crypto) is strict.
 */
export const nobleVerifySignature: SignatureVerifier = (signature, message, publicKey) => {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};
