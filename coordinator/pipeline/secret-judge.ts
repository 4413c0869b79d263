import { availableParallelism } from 'node:os';
import { type ElectionKeys, reasonString } from '../../shared/ballots';
import { type VerifyPool, createVerifyPool } from '../../shared/ballots-node/verify-pool';
import { ApiError } from '../../shared/errors';
import type { ElectionRecord } from '../../shared/elections/store';
import { manifestOf } from '../../shared/secret/election-manifest';
import type { Settings } from '../../shared/settings/schema';

/**
 * A validator's verdicts on the secret ballots of one partition batch, computed in
 * worker threads in batches (docs/architecture.md "How validators verify secret
 * ballots"): the event loop only hands the recorded texts over and reads the verdicts
 * back, so the coordinator's heartbeats, leases and clock sync never wait for a
 * multi-scalar multiplication. The verdicts are exactly those of `judgeSecretBallot`
 * one at a time: signature under the voter's roll key, tracker, every proof.
 */
export interface SecretBallotJudge {
  /** One reason (`code` or `code:option`) or null per ballot, in order. Rejects if not verified. */
  judge(
    e: ElectionRecord,
    ballots: { recorded: string; rollKey: string | null }[],
  ): Promise<(string | null)[]>;
  /** Starts the workers now (a secret election became active) so the first batch does not wait for them. */
  warm(): void;
  /** Stops the workers (a judge not used yet started none). */
  close(): Promise<void>;
}

/** The pool settings (shared/settings/schema.ts, docs/operations.md). */
export type SecretJudgeSettings = Pick<
  Settings,
  'VERIFY_WORKERS' | 'VERIFY_BATCH' | 'VERIFY_BACKEND' | 'VERIFY_NICE'
>;

/** Worker threads for `VERIFY_WORKERS` (0: one per core). */
export function verifyWorkers(s: Pick<Settings, 'VERIFY_WORKERS'>): number {
  return s.VERIFY_WORKERS > 0 ? s.VERIFY_WORKERS : availableParallelism();
}

/** What a worker needs of a secret election; 409 errors as intake gives them. */
export function electionKeysOf(e: ElectionRecord): ElectionKeys {
  const manifest = manifestOf(e);
  if (!e.jointKey || !e.electionHash) {
    throw new ApiError(409, 'ceremony_not_done', 'The key ceremony of this election is not done');
  }
  return { manifest, electionHash: e.electionHash, jointKey: e.jointKey };
}

/**
 * A judge over a verification pool started on first use (a coordinator that never sees
 * a secret ballot starts no thread). `makePool` is for tests.
 */
export function createSecretBallotJudge(
  s: SecretJudgeSettings,
  makePool: () => VerifyPool = () =>
    createVerifyPool({
      size: verifyWorkers(s),
      batchSize: s.VERIFY_BATCH,
      backend: s.VERIFY_BACKEND ?? 'libsodium',
      nice: s.VERIFY_NICE,
    }),
): SecretBallotJudge {
  let pool: VerifyPool | null = null;
  let closed = false;
  return {
    async judge(e, ballots) {
      if (ballots.length === 0) return [];
      if (closed) throw new Error('the secret ballot judge is closed');
      const keys = electionKeysOf(e);
      pool ??= makePool();
      const verdicts = await pool.verifyRecorded(
        keys,
        ballots.map((b) => ({ text: b.recorded, rollKey: b.rollKey })),
      );
      if (verdicts.length !== ballots.length) throw new Error('verification pool lost verdicts');
      return verdicts.map((v) => reasonString(v) ?? null);
    },
    warm() {
      if (!closed) pool ??= makePool();
    },
    async close() {
      closed = true;
      const p = pool;
      pool = null;
      await p?.close();
    },
  };
}
