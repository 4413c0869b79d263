import { EncodingError, decodeScalar, defaultGroup, encodePoint, fromHex } from '../ballots';
import type { TrusteeKeys } from './trustee-client';

/**
 * The key files a trustee or a voter carries between devices and tools: the CLI writes
 * them (mode 0600), the web app downloads and imports them, in one format, so a trustee
 * can start the ceremony in a browser and decrypt with `npm run trustee` (or the other
 * way round). Parsing checks everything a file can be checked for on its own — its
 * kind, its election, and for a trustee that the secrets match the public values it
 * carries — and fails with a sentence a person can act on.
 */

/** A voter's Ed25519 seed for one election (`npm run voter --key-file`, the web app's export). */
export interface VoterKeyFile {
  electionId: string;
  secretKey: string;
}

/** A key file that cannot be used, with why (the message is shown to the user as is). */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

const HEX64 = /^[0-9a-f]{64}$/;

function parseObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyFileError('this is not a key file (it is not JSON)');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new KeyFileError('this is not a key file (not a JSON object)');
  return parsed as Record<string, unknown>;
}

const isTrusteeShape = (o: Record<string, unknown>) => 'polynomial' in o || 'transport' in o;
const isVoterShape = (o: Record<string, unknown>) => 'secretKey' in o && !isTrusteeShape(o);

function checkElection(o: Record<string, unknown>, electionId: string | undefined, what: string): string {
  const id = o['electionId'];
  if (typeof id !== 'string' || !id) throw new KeyFileError(`this is not a ${what} file (no electionId)`);
  if (electionId !== undefined && id !== electionId)
    throw new KeyFileError(`it holds the keys of election ${id}, not of election ${electionId}`);
  return id;
}

/** The file's text for a trustee's keys (what the CLI writes and the web app downloads). */
export function serializeTrusteeKeys(keys: TrusteeKeys): string {
  return JSON.stringify(keys, null, 2);
}

/**
 * Reads a trustee key file. With `electionId` / `trustee`, they must match. The
 * polynomial must be the one behind the file's commitments (`a_m·G = A_m`) and the
 * transport secret behind its public key, so a damaged or hand-edited file is refused
 * here rather than producing shares the others will complain about.
 */
export function parseTrusteeKeys(
  text: string,
  expected: { electionId?: string; trustee?: number } = {},
): TrusteeKeys {
  const o = parseObject(text);
  if (isVoterShape(o)) throw new KeyFileError('this is a voter key file, not a trustee key file');
  checkElection(o, expected.electionId, 'trustee key');
  const keys = o as unknown as TrusteeKeys;
  const g = defaultGroup;
  try {
    const coefficients = keys.polynomial?.coefficients;
    const commitments = keys.commitment?.coefficients;
    if (!Number.isInteger(keys.trustee) || keys.trustee < 1) throw new Error('no trustee index');
    if (!Array.isArray(coefficients) || !Array.isArray(commitments) || !Array.isArray(keys.commitment.proofs))
      throw new Error('no polynomial or commitments');
    if (keys.polynomial.trustee !== keys.trustee || keys.commitment.trustee !== keys.trustee)
      throw new Error('the trustee indices inside disagree');
    if (coefficients.length === 0 || coefficients.length !== commitments.length)
      throw new Error('polynomial and commitments differ in length');
    coefficients.forEach((a, m) => {
      if (encodePoint(g, g.mulBase(decodeScalar(a))) !== commitments[m])
        throw new Error(`coefficient ${m} does not match its commitment`);
    });
    const t = keys.transport;
    if (typeof t?.secretKey !== 'string' || typeof t.publicKey !== 'string')
      throw new Error('no transport key');
    if (encodePoint(g, g.mulBase(decodeScalar(t.secretKey))) !== t.publicKey)
      throw new Error('the transport key pair does not match');
  } catch (err) {
    const why =
      err instanceof EncodingError ? `a value is not canonical: ${err.message}` : (err as Error).message;
    throw new KeyFileError(`this trustee key file is damaged or not one (${why})`);
  }
  if (expected.trustee !== undefined && keys.trustee !== expected.trustee)
    throw new KeyFileError(
      `it holds the keys of trustee ${keys.trustee}; you are trustee ${expected.trustee}`,
    );
  return {
    electionId: keys.electionId,
    trustee: keys.trustee,
    polynomial: keys.polynomial,
    commitment: keys.commitment,
    transport: keys.transport,
  };
}

/** The file's text for a voter's key (what `npm run voter` writes and the web app downloads). */
export function serializeVoterKey(electionId: string, secretKey: string): string {
  return JSON.stringify({ electionId, secretKey } satisfies VoterKeyFile, null, 2);
}

/** Reads a voter key file; with `electionId`, it must be that election's. Resolves with the 32-byte seed. */
export function parseVoterKey(text: string, electionId?: string): Uint8Array {
  const o = parseObject(text);
  if (isTrusteeShape(o)) throw new KeyFileError('this is a trustee key file, not a voter key file');
  checkElection(o, electionId, 'voter key');
  const sk = o['secretKey'];
  if (typeof sk !== 'string' || !HEX64.test(sk))
    throw new KeyFileError('this voter key file is damaged (secretKey must be 64 lowercase hex characters)');
  return fromHex(sk, 32);
}
