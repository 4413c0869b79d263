import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from './bytes';
import { u64 } from './hash-input';
import { bytesToNumberLE, mod } from './scalar';

/**
 * Randomness is injected (CONVENTIONS 3) so that test vectors are reproducible; the
 * default is the platform CSPRNG (WebCrypto in browsers and Node ≥ 20).
 */
export type RandomBytes = (length: number) => Uint8Array;

/** The platform CSPRNG: `globalThis.crypto.getRandomValues` (browser and Node). */
export const cryptoRandomBytes: RandomBytes = (length) => {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let at = 0; at < length; at += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)));
  }
  return out;
};

/** A uniform scalar: 64 random bytes reduced mod q (BALLOTS.md §1; bias < 2^-259). */
export function randomScalar(random: RandomBytes = cryptoRandomBytes): bigint {
  return mod(bytesToNumberLE(random(64)));
}

/**
 * A DETERMINISTIC byte stream from a seed, for test vectors only: SHA-512 in counter
 * mode. Never use it for real ballots or keys (anyone knowing the seed knows the nonces).
 */
export function seededRandomBytes(seed: string): RandomBytes {
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  const seedBytes = utf8(`qv/v1/test-vectors/${seed}`);
  return (length) => {
    while (pool.length < length) {
      pool = concatBytes([pool, sha512(concatBytes([seedBytes, u64(counter++)]))]);
    }
    const out = pool.slice(0, length);
    pool = pool.slice(length);
    return out;
  };
}
