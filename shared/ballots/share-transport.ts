import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { EncodingError, concatBytes, fromHex, toHex } from './bytes';
import { decodePublicKey, decodeScalar, encodePoint, encodeScalar } from './codec';
import type { Group } from './group';
import { lp, u64 } from './hash-input';
import { type RandomBytes, cryptoRandomBytes, randomScalar } from './random';
import { tags } from './tags';

/**
 * The confidential, authenticated channel for DKG shares (docs/election-record.md A9):
 * static–static ristretto255 Diffie–Hellman, HKDF-SHA-256, AES-256-GCM (WebCrypto, in
 * browsers and Node). The server relays ciphertexts and learns nothing; only the two
 * trustees can compute the key, and the AAD binds sender, recipient and ceremony.
 */

/** WebCrypto's key type, named without the DOM lib (it exists in browsers and Node). */
type AesKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

/** A trustee's transport key pair (`e_i`, `E_i = e_i·G`), hex. */
export interface TransportKeyPair {
  secretKey: string;
  publicKey: string;
}

/** One encrypted share as relayed by the server. */
export interface SealedShare {
  from: number;
  to: number;
  nonce: string;
  ciphertext: string;
}

/** A fresh transport key pair. */
export function createTransportKey<P>(
  g: Group<P>,
  random: RandomBytes = cryptoRandomBytes,
): TransportKeyPair {
  const e = randomScalar(random);
  return { secretKey: encodeScalar(e), publicKey: encodePoint(g, g.mulBase(e)) };
}

function channelInfo(from: number, to: number, Efrom: Uint8Array, Eto: Uint8Array): Uint8Array {
  return concatBytes([lp(tags.shareTransport), lp(u64(from)), lp(u64(to)), lp(Efrom), lp(Eto)]);
}

async function channelKey<P>(
  g: Group<P>,
  ctx: Uint8Array,
  mySecret: string,
  theirPublic: string,
  info: Uint8Array,
): Promise<AesKey> {
  const Z = g.mul(decodePublicKey(g, theirPublic), decodeScalar(mySecret));
  if (g.isIdentity(Z)) throw new EncodingError('degenerate shared secret');
  const raw = hkdf(sha256, g.encode(Z), ctx, info, 32);
  return globalThis.crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
}

/** Trustee `from` seals `share` (hex scalar) for trustee `to`. */
export async function sealShare<P>(
  g: Group<P>,
  ctx: Uint8Array,
  from: { index: number; keys: TransportKeyPair },
  to: { index: number; publicKey: string },
  share: string,
  random: RandomBytes = cryptoRandomBytes,
): Promise<SealedShare> {
  const info = channelInfo(from.index, to.index, fromHex(from.keys.publicKey, 32), fromHex(to.publicKey, 32));
  const key = await channelKey(g, ctx, from.keys.secretKey, to.publicKey, info);
  const nonce = random(12) as Uint8Array<ArrayBuffer>;
  const plaintext = fromHex(share, 32) as Uint8Array<ArrayBuffer>;
  const sealed = await globalThis.crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: info as Uint8Array<ArrayBuffer> },
    key,
    plaintext,
  );
  return { from: from.index, to: to.index, nonce: toHex(nonce), ciphertext: toHex(new Uint8Array(sealed)) };
}

/**
 * Trustee `to` opens a sealed share from `from` (whose transport public key it knows
 * from the ceremony). Throws if it was altered, redirected or not from `from`.
 */
export async function openShare<P>(
  g: Group<P>,
  ctx: Uint8Array,
  to: { index: number; keys: TransportKeyPair },
  from: { index: number; publicKey: string },
  sealed: SealedShare,
): Promise<string> {
  if (sealed.from !== from.index || sealed.to !== to.index)
    throw new EncodingError('share addressed to someone else');
  const info = channelInfo(from.index, to.index, fromHex(from.publicKey, 32), fromHex(to.keys.publicKey, 32));
  const key = await channelKey(g, ctx, to.keys.secretKey, from.publicKey, info);
  const body = fromHex(sealed.ciphertext, 48) as Uint8Array<ArrayBuffer>;
  let plain: ArrayBuffer;
  try {
    plain = await globalThis.crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: fromHex(sealed.nonce, 12) as Uint8Array<ArrayBuffer>,
        additionalData: info as Uint8Array<ArrayBuffer>,
      },
      key,
      body,
    );
  } catch {
    throw new EncodingError('the sealed share does not authenticate');
  }
  const share = toHex(new Uint8Array(plain));
  decodeScalar(share);
  return share;
}
