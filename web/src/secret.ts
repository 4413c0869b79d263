/**
 * Secret-ballot voting on this device (docs/architecture.md "Secret ballots"): the
 * voter's Ed25519 key, the ballot encrypted, proven and signed here by the shared voter
 * client (shared/secret/voter-client.ts over shared/ballots, pure and browser-safe), the
 * Benaloh challenge checked here too. The server only ever sees ciphertexts.
 */
import {
  checkOpening,
  defaultGroup,
  fromHex,
  generateVoterKey,
  prepareElection,
  toHex,
  voterPublicKey,
} from '../../shared/ballots';
import type { Ballot, BallotOpening, ElectionRecord } from '../../shared/ballots';
import { type ApiCall, fetchApi } from '../../shared/secret/api-call';
import { manifestOf } from '../../shared/secret/election-manifest';
import { parseVoterKey, serializeVoterKey } from '../../shared/secret/key-files';
import { castBallot, challengeBallot, makeBallot } from '../../shared/secret/voter-client';
import { API_BASE, type Election, type Session, request } from './api';

export type { Ballot, BallotOpening } from '../../shared/ballots';

/** The secret-ballot client calls, through the same-origin `/api` proxy, as this user. */
export const secretApi = (s: Session): ApiCall => fetchApi(API_BASE, s.token);

const keyStore = (s: Session, electionId: string) => `qv:voter-key:${s.sub}:${electionId}`;
const voteStore = (s: Session, electionId: string) => `qv:secret-vote:${s.sub}:${electionId}`;

/**
 * A fresh Ed25519 seed from WebCrypto (issue 14: the voter's key is made by the
 * browser's own implementation), exported once as JWK so the shared voter client can
 * sign with it (Ed25519 signatures are deterministic: the same key signs alike
 * anywhere). A browser without Ed25519 in WebCrypto falls back to a seed from
 * `crypto.getRandomValues` (the same CSPRNG), which is what an Ed25519 key is.
 */
async function newVoterSeed(): Promise<Uint8Array> {
  try {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const { d } = await crypto.subtle.exportKey('jwk', pair.privateKey);
    const seed = Uint8Array.from(atob((d ?? '').replace(/-/g, '+').replace(/_/g, '/')), (c) =>
      c.charCodeAt(0),
    );
    if (seed.length === 32) return seed;
  } catch {
    // No Ed25519 in this browser's WebCrypto: fall through.
  }
  return generateVoterKey().secretKey;
}

/**
 * The voter's Ed25519 secret key for this election, made on first use and kept in
 * localStorage (one key per election, so ballots of two elections are unlinkable). The
 * server ties the first key it sees to the voter: a ballot from another device must be
 * signed with the same key, which is why the voter can export it to a file and import
 * it there ({@link voterKeyFile}, {@link importVoterKey}).
 */
export async function voterKey(s: Session, electionId: string): Promise<Uint8Array> {
  const stored = localStorage.getItem(keyStore(s, electionId));
  if (stored && /^[0-9a-f]{64}$/.test(stored)) return fromHex(stored, 32);
  const secretKey = await newVoterSeed();
  localStorage.setItem(keyStore(s, electionId), toHex(secretKey));
  return secretKey;
}

/** Whether this device holds a voter key for the election. */
export const hasVoterKey = (s: Session, electionId: string): boolean =>
  localStorage.getItem(keyStore(s, electionId)) !== null;

/** The voter key file (the CLI's `--key-file` format), made now if this device has no key yet. */
export async function voterKeyFile(s: Session, electionId: string): Promise<string> {
  return serializeVoterKey(electionId, toHex(await voterKey(s, electionId)));
}

/**
 * Imports a voter key file (from `npm run voter` or another device): it must be a
 * voter key of this election, and this device must not have cast a ballot with
 * another key. Resolves with the key's public half (hex), which the voter can compare
 * with the voter roll.
 */
export function importVoterKey(s: Session, electionId: string, text: string): string {
  let seed: Uint8Array;
  try {
    seed = parseVoterKey(text, electionId);
  } catch (err) {
    throw new Error(`This file cannot be used: ${(err as Error).message}.`);
  }
  const current = localStorage.getItem(keyStore(s, electionId));
  if (loadSecretVote(s, electionId) && current !== toHex(seed))
    throw new Error('This device already cast a ballot with another key: importing one now changes nothing.');
  localStorage.setItem(keyStore(s, electionId), toHex(seed));
  return toHex(voterPublicKey(seed));
}

/** A cast secret ballot as this device remembers it (never the choice's plaintext only). */
export interface StoredSecretVote {
  voteId: string;
  tracker: string;
  /** 0/1 per option, so the voter can see what they chose on this device. */
  selections: number[];
}

export function loadSecretVote(s: Session, electionId: string): StoredSecretVote | null {
  try {
    return JSON.parse(localStorage.getItem(voteStore(s, electionId)) ?? 'null') as StoredSecretVote | null;
  } catch {
    return null;
  }
}

/** Encrypts, proves and signs the selections with this election's key (~20 ms). */
export async function encrypt(
  s: Session,
  election: Election,
  selections: number[],
): Promise<{ ballot: Ballot; opening: BallotOpening }> {
  return makeBallot(election, selections, await voterKey(s, election.id));
}

/** Casts the ballot (retrying 503s with one Idempotency-Key) and remembers it here. */
export async function cast(
  s: Session,
  election: Election,
  ballot: Ballot,
  selections: number[],
  idempotencyKey: string,
): Promise<StoredSecretVote> {
  const r = await castBallot(secretApi(s), election, ballot, idempotencyKey);
  const v = { voteId: r.voteId, tracker: r.tracker, selections };
  localStorage.setItem(voteStore(s, election.id), JSON.stringify(v));
  return v;
}

/**
 * Benaloh challenge: checks HERE that the ciphertexts encrypt exactly the plaintexts the
 * opening reveals (checkOpening), then publishes the ballot as spoiled. Resolves with the
 * revealed 0/1 per option, or throws naming the option that does not match.
 */
export async function challenge(
  s: Session,
  election: Election,
  ballot: Ballot,
  opening: BallotOpening,
): Promise<number[]> {
  const prepared = prepareElection(defaultGroup, {
    manifest: manifestOf(election),
    electionHash: election.electionHash!,
    jointKey: election.jointKey!,
  });
  const bad = checkOpening(prepared, ballot, opening);
  if (bad)
    throw new Error(`The device's ballot does not match the opening (option ${bad.option}): ${bad.message}`);
  await challengeBallot(secretApi(s), election, ballot, opening);
  return opening.plaintexts.map(Number);
}

/** The election record (qv/v1), read to find a tracking code in it. */
export const record = (s: Session, electionId: string) =>
  request<ElectionRecord>('GET', `/elections/${encodeURIComponent(electionId)}/record`, { token: s.token });

/** The decryption state the results of a secret election carry (docs/api.md). */
export interface DecryptionState {
  state: 'waiting' | 'published';
  shares: number;
  threshold: number;
  message: string;
}
