import type { Cluster } from 'ioredis';
import {
  type Ballot,
  type Decryption,
  type ElectionRecord as QvRecord,
  RECORD_VERSION,
  type RecordBallot,
} from '../ballots';
import type { ElectionRecord } from '../elections/store';
import { partitionKeys } from '../redis/keys';
import { CeremonyStore } from './ceremony';
import { manifestOf } from './election-manifest';
import { readSpoiled } from './spoiled';
import { readDecryption, readEncryptedTally, readShares } from './tally';
import { readRoll } from './voter-roll';

/**
 * The qv/v1 election record of BALLOTS.md §6 (docs/election-record.md), built from what
 * the stack stores: manifest, ceremony, roll, every ballot (spoiled ones first, then
 * each partition's audit chain in order: the finalization order), the encrypted tally
 * and the decryption. Additions, documented there: `excluded` lists ballots refused for
 * a reason that is not about the ballot itself (after close, not eligible), so the
 * verifier's `state` rule (counted ⇔ valid and first for its key) holds for `ballots`.
 */

/** A ballot refused by election rules rather than by its cryptography (an addition). */
export interface ExcludedBallot {
  tracker: string;
  publicKey: string;
  reason: string;
}

/** The record plus quorumvote's additions. */
export interface SecretElectionRecord extends QvRecord {
  excluded: ExcludedBallot[];
}

/** The reasons of docs/election-record.md A5: a verifier recomputes these itself. */
const CRYPTO_REASONS =
  /^(malformed|not_on_roll|duplicate_key|bad_tracker|bad_signature|bad_selection_proof(:\d+)?|bad_total_proof)$/;

function fieldsOf(raw: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) o[raw[i]!] = raw[i + 1]!;
  return o;
}

/** Every finalized secret ballot of partition `p`, in chain order. */
async function partitionBallots(redis: Cluster, tag: string): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  let start = '-';
  for (;;) {
    const rows = await redis.xrange(partitionKeys(tag).audit, start, '+', 'COUNT', 1000);
    for (const [, raw] of rows) out.push(fieldsOf(raw));
    if (rows.length < 1000) return out;
    start = `(${rows[rows.length - 1]![0]}`;
  }
}

/** Builds the whole record of a secret election. */
export async function buildRecord(redis: Cluster, e: ElectionRecord): Promise<SecretElectionRecord> {
  const manifest = manifestOf(e);
  const [outcome, roll, spoiled, tally, shares, decryption, partitions] = await Promise.all([
    new CeremonyStore(redis).outcome(e),
    readRoll(redis, e),
    readSpoiled(redis, e),
    readEncryptedTally(redis, e),
    readShares(redis, e),
    readDecryption(redis, e),
    Promise.all(e.tags.map((t) => partitionBallots(redis, t))),
  ]);
  const ballots: RecordBallot[] = spoiled.map((s) => ({ ...s.ballot, state: 'spoiled', spoiled: s.opening }));
  const excluded: ExcludedBallot[] = [];
  for (const entries of partitions) {
    for (const f of entries) {
      if (f['cast'] === undefined) continue;
      let ballot: Ballot;
      try {
        ballot = JSON.parse(f['cast']) as Ballot;
      } catch {
        continue;
      }
      const reason = f['reason'] ?? '';
      if (f['outcome'] === 'counted') ballots.push({ ...ballot, state: 'counted' });
      else if (CRYPTO_REASONS.test(reason)) ballots.push({ ...ballot, state: 'rejected', reason });
      else excluded.push({ tracker: ballot.tracker, publicKey: ballot.publicKey, reason });
    }
  }
  const decrypted: Decryption | null = decryption
    ? { shares, used: decryption.used, totals: decryption.totals }
    : null;
  return {
    version: RECORD_VERSION,
    manifest,
    electionHash: e.electionHash ?? '',
    ceremony: {
      commitments: outcome.commitments,
      complaints: outcome.complaints,
      qualified: outcome.qualified,
      jointKey: e.jointKey ?? '',
    },
    roll,
    ballots,
    tally,
    decryption: decrypted,
    excluded,
  };
}

/** The same record as NDJSON lines (§6), in the order manifest, ceremony, roll, ballot…, tally, decryption. */
export function recordLines(r: SecretElectionRecord): string {
  const lines: unknown[] = [
    { type: 'manifest', version: r.version, electionHash: r.electionHash, ...r.manifest },
    { type: 'ceremony', ...r.ceremony },
    { type: 'roll', entries: r.roll },
    ...r.ballots.map((b) => ({ type: 'ballot', ...b })),
    ...r.excluded.map((x) => ({ type: 'excluded', ...x })),
    { type: 'tally', ...r.tally },
    r.decryption ? { type: 'decryption', ...r.decryption } : { type: 'decryption', pending: true },
  ];
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}
