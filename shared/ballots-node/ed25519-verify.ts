import { type KeyObject, createPublicKey, verify } from 'node:crypto';
import type { SignatureVerifier } from '../ballots';

/**
 * A Node-only Ed25519 verifier for validators (OpenSSL through node:crypto, about 20×
 * faster than pure JS here, see docs/benchmarks.md). Kept out of shared/ballots/, which
 * must also run in browsers.
 *
 * It first applies the byte-level rules of strict RFC 8032 that the reference verifier
 * (noble, zip215: false) applies, so that both reject the same non-canonical encodings:
 * `S < L`, and `R`, `A` with a y-coordinate below p.
 */

const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function le(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function canonicalY(enc: Uint8Array): boolean {
  const y = Uint8Array.from(enc);
  y[31]! &= 0x7f;
  return le(y) < P;
}

/** A verifier that caches one KeyObject per voter key (at most `maxKeys`, oldest dropped). */
export function createNodeSignatureVerifier(maxKeys = 200_000): SignatureVerifier {
  const keys = new Map<string, KeyObject>();
  return (signature, message, publicKey) => {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    if (le(signature.subarray(32)) >= L || !canonicalY(signature.subarray(0, 32)) || !canonicalY(publicKey)) {
      return false;
    }
    const id = Buffer.from(publicKey).toString('hex');
    let key = keys.get(id);
    if (!key) {
      try {
        key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
      } catch {
        return false;
      }
      if (keys.size >= maxKeys) keys.delete(keys.keys().next().value!);
      keys.set(id, key);
    }
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}
