import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { type RollEntry, fromHex } from '../ballots';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ApiError, badRequest } from '../errors';
import { type Election, partitionOf } from '../elections/model';
import type { ElectionRecord } from '../elections/store';
import { partitionKeys, secretElectionKeys } from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';

/**
 * A secret election's voter roll (BALLOTS.md §4): each voter's Ed25519 public key,
 * registered by the voter (before voting, or with their first ballot), published with an
 * opaque alias. One key per voter and one voter per key, never changed once set: a
 * ballot signed by any other key is refused at intake (409 `voter_key_mismatch`) and
 * rejected by validators (`not_on_roll`).
 */

const registerScript = defineScript('registerVoterKey', {
  keys: 2,
  parse: (r) => {
    const a = reply.array('registerVoterKey', r, 2);
    return {
      kind: reply.oneOf('registerVoterKey', a[0], ['ok', 'same', 'mismatch', 'taken'] as const),
      entry: reply.string('registerVoterKey', a[1]),
    };
  },
});

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks a voter key's encoding (lowercase hex, a valid Ed25519 point); 400 otherwise. */
export function checkVoterKey(publicKey: unknown): string {
  if (typeof publicKey !== 'string' || !HEX64.test(publicKey)) {
    throw badRequest('publicKey must be 64 lowercase hex characters (Ed25519)', { field: 'publicKey' });
  }
  try {
    ed25519.Point.fromBytes(fromHex(publicKey, 32));
  } catch {
    throw badRequest('publicKey is not an Ed25519 public key', { field: 'publicKey' });
  }
  return publicKey;
}

/**
 * Registers `publicKey` for `voter` on `e`'s roll (idempotent for the same key).
 * 403 `not_eligible` off a restricted election's list; 409 `voter_key_mismatch` when the
 * voter has another key; 409 `key_in_use` when another voter registered this key.
 */
export async function registerVoterKey(
  redis: Cluster,
  e: ElectionRecord,
  voter: string,
  key: unknown,
): Promise<RollEntry & { registered: boolean }> {
  if (e.ballot !== 'secret') throw new ApiError(409, 'not_secret', 'This election has open ballots');
  if (e.status === 'closed') throw new ApiError(409, 'election_not_open', 'This election is closed');
  const publicKey = checkVoterKey(key);
  if (e.restricted) {
    const tag = e.tags[partitionOf(voter, e.partitions, e.partitionSalt)]!;
    if ((await redis.sismember(partitionKeys(tag).eligible, voter)) !== 1) {
      throw new ApiError(403, 'not_eligible', 'You are not on the voter list of this election');
    }
  }
  const keys = secretElectionKeys(e.id);
  const fresh: RollEntry = { alias: randomBytes(12).toString('hex'), publicKey };
  const r = await runScript(
    redis,
    registerScript,
    [keys.roll, keys.rollKeys],
    [voter, publicKey, JSON.stringify(fresh)],
  );
  if (r.kind === 'taken') throw new ApiError(409, 'key_in_use', 'This key is registered to another voter');
  if (r.kind === 'mismatch') {
    throw new ApiError(
      409,
      'voter_key_mismatch',
      'You registered another key for this election; sign your ballot with that key',
    );
  }
  return { ...(JSON.parse(r.entry) as RollEntry), registered: r.kind === 'ok' };
}

/** Each voter's roll key (hex) or null, in order (validators read it for every batch). */
export async function rollKeysOf(redis: Cluster, e: Election, voters: string[]): Promise<(string | null)[]> {
  if (voters.length === 0) return [];
  const raw = await redis.hmget(secretElectionKeys(e.id).roll, ...voters);
  return raw.map((r) => (r ? (JSON.parse(r) as RollEntry).publicKey : null));
}

/** The whole roll, ordered by public key (the record's `roll`). */
export async function readRoll(redis: Cluster, e: Election): Promise<RollEntry[]> {
  const all = await redis.hvals(secretElectionKeys(e.id).roll);
  return all.map((r) => JSON.parse(r) as RollEntry).sort((a, b) => (a.publicKey < b.publicKey ? -1 : 1));
}
