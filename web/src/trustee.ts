/**
 * A trustee's device in the browser (docs/web.md "Trustees"): the same shared trustee
 * client the CLI runs (shared/secret/trustee-client.ts over shared/ballots: pure and
 * browser-safe), with the keys kept in this browser's localStorage and exported to or
 * imported from the CLI's key file format (shared/secret/key-files.ts). Nothing secret
 * leaves this device: the server gets commitments, proofs, sealed shares, a share in the
 * clear only to answer a complaint, and the decryption share with its proofs.
 */
import { ApiCallError, expectStatus } from '../../shared/secret/api-call';
import { parseTrusteeKeys, serializeTrusteeKeys } from '../../shared/secret/key-files';
import {
  type CeremonyProgress,
  type TrusteeKeys,
  advanceCeremony,
  decryptAndPost,
  newTrusteeKeys,
} from '../../shared/secret/trustee-client';
import type { CeremonyView } from '../../shared/secret/ceremony';
import type { Election, Session } from './api';
import { secretApi } from './secret';

export type { CeremonyProgress, ReceivedCheck, TrusteeKeys } from '../../shared/secret/trustee-client';
export type { CeremonyView } from '../../shared/secret/ceremony';

const keyStore = (s: Session, electionId: string) => `qv:trustee-keys:${s.sub}:${electionId}`;
const shareStore = (s: Session, electionId: string) => `qv:trustee-share:${s.sub}:${electionId}`;

/** This user's trustee index in `e`, or null when they are not one of its trustees. */
export function myTrusteeIndex(s: Session, e: Election): number | null {
  return e.trustees?.find((t) => t.id === s.sub)?.index ?? null;
}

/** The keys kept in this browser for this election (checked like an imported file), or null. */
export function loadTrusteeKeys(s: Session, e: Election): TrusteeKeys | null {
  const text = localStorage.getItem(keyStore(s, e.id));
  if (!text) return null;
  const index = myTrusteeIndex(s, e);
  return parseTrusteeKeys(text, { electionId: e.id, ...(index ? { trustee: index } : {}) });
}

/** New keys for this trustee, stored here before anything is published (like the CLI's file). */
export function createTrusteeKeys(s: Session, e: Election): TrusteeKeys {
  const index = myTrusteeIndex(s, e);
  if (!index) throw new Error('You are not a trustee of this election.');
  if (localStorage.getItem(keyStore(s, e.id)))
    throw new Error('This browser already holds keys for this election.');
  const keys = newTrusteeKeys(e, index);
  localStorage.setItem(keyStore(s, e.id), serializeTrusteeKeys(keys));
  return keys;
}

/**
 * Imports a key file (written by `npm run trustee` or downloaded from this page on
 * another device): refused, with the reason, unless it is a valid trustee key file of
 * this election and of this trustee.
 */
export function importTrusteeKeys(s: Session, e: Election, text: string): TrusteeKeys {
  const index = myTrusteeIndex(s, e);
  if (!index) throw new Error('You are not a trustee of this election.');
  let keys: TrusteeKeys;
  try {
    keys = parseTrusteeKeys(text, { electionId: e.id, trustee: index });
  } catch (err) {
    throw new Error(`This file cannot be used: ${(err as Error).message}.`);
  }
  localStorage.setItem(keyStore(s, e.id), serializeTrusteeKeys(keys));
  return keys;
}

/** The key file's text, the CLI's format, for download. */
export const trusteeKeyFile = (keys: TrusteeKeys): string => serializeTrusteeKeys(keys);

/** Removes the keys from this browser (after exporting them, or once the election is over). */
export function forgetTrusteeKeys(s: Session, e: Election): void {
  localStorage.removeItem(keyStore(s, e.id));
}

/** The public ceremony state. */
export async function ceremonyView(s: Session, electionId: string): Promise<CeremonyView> {
  try {
    const r = await secretApi(s)('GET', `/elections/${encodeURIComponent(electionId)}/ceremony`);
    return expectStatus(r, 'ceremony', 200).body as CeremonyView;
  } catch (err) {
    throw explain(err);
  }
}

/** One pass of this trustee's part of the ceremony (shared with the CLI). */
export async function ceremonyPass(s: Session, e: Election, keys: TrusteeKeys): Promise<CeremonyProgress> {
  try {
    return await advanceCeremony(secretApi(s), e, keys);
  } catch (err) {
    throw explain(err);
  }
}

/** What the server answered to this trustee's decryption share. */
export interface ShareOutcome {
  totals: number[] | null;
  waitingFor: number;
}

/**
 * Computes this trustee's decryption share of the final tally here (its secret share
 * `x_j` is combined from the shares it received and never leaves the browser) and posts
 * it with its proofs. A refusal is explained (which check failed, what to do).
 */
export async function submitDecryptionShare(
  s: Session,
  e: Election,
  keys: TrusteeKeys,
): Promise<ShareOutcome> {
  try {
    const r = await decryptAndPost(secretApi(s), e, keys);
    localStorage.setItem(shareStore(s, e.id), '1');
    return { totals: r.decryption?.totals ?? null, waitingFor: r.waitingFor };
  } catch (err) {
    if (err instanceof ApiCallError && err.code === 'already_shared')
      localStorage.setItem(shareStore(s, e.id), '1');
    throw explain(err);
  }
}

/** Whether this browser already submitted this trustee's share. */
export const shareSubmitted = (s: Session, electionId: string): boolean =>
  localStorage.getItem(shareStore(s, electionId)) === '1';

/** What each refusal means for the trustee, by the API's error code (docs/api.md). */
const REFUSALS: Record<string, (e: ApiCallError) => string> = {
  bad_decryption_proof: (e) =>
    `The server refused your decryption share: its proof of correct decryption does not verify${typeof e.details?.option === 'number' ? ` for option ${e.details.option}` : ''}. Nothing was stored. The share was altered on the way, or computed from other keys: check that you use this election's key file, then try again.`,
  wrong_share_key: () =>
    "The server refused your decryption share: it is not made with the key your ceremony commitments give you (these are not the keys you took part in the ceremony with). Nothing was stored; import this election's key file and try again.",
  tally_not_final: () =>
    'The tally is not final yet: the election must be closed and every ballot counted before trustees decrypt.',
  already_shared: () => 'You already submitted your decryption share; only the first one counts.',
  bad_commitment_proof: (e) =>
    `The server refused your commitments: the proof for coefficient ${e.details?.coefficient ?? '?'} does not verify. Your key file may be damaged.`,
  already_committed: () =>
    'Other commitments were already published for you: use the key file you began the ceremony with.',
  ceremony_phase: (e) => `The ceremony moved on: ${e.serverMessage}.`,
  shares_missing: (e) => `Not every trustee has dealt its share yet: ${e.serverMessage}.`,
  not_a_trustee: () => 'You are not a trustee of this election.',
  trustee_disqualified: (e) => `The server refused your decryption share. ${e.serverMessage}.`,
};

function explain(err: unknown): Error {
  if (err instanceof ApiCallError) {
    const fn = REFUSALS[err.code];
    return new Error(
      fn ? fn(err) : `${err.what}: ${err.serverMessage || `the server answered ${err.status}`}`,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
