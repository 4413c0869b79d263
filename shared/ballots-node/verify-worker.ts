/**
 * The worker_threads entry of the verification pool (verify-pool.ts): verifies batches of
 * ballots off the main event loop. Node-only (node:crypto Ed25519 and SHA-2), group
 * backend chosen by the pool. Answers `{ id, verdicts }` for each request (verify-pool.ts
 * `VerifyRequest`): `ballots` as objects, or `recorded` ballots (JSON text + roll key).
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import {
  type Ballot,
  type BallotVerdict,
  type ElectionKeys,
  type Group,
  type PreparedElection,
  defaultGroup,
  prepareElection,
  verifyBallotBatch,
} from '../ballots';
import { reject } from '../ballots/ballot-verdict';
import { createSodiumGroup } from '../ballots/group-sodium';
import { createNodeSignatureVerifier } from './ed25519-verify';
import { installNodeHashes } from './native-hashes';
import type { VerifyRequest } from './verify-pool';

const { backend, batchSize, nice } = workerData as {
  backend: 'libsodium' | 'noble';
  batchSize: number;
  nice: number;
};

/** Parses recorded ballots; a text that is not a JSON object is `malformed` (as one at a time). */
function parseRecorded(texts: string[]): { ballots: Ballot[]; verdicts: (BallotVerdict | null)[] } {
  const ballots: Ballot[] = [];
  const verdicts: (BallotVerdict | null)[] = [];
  for (const text of texts) {
    let b: unknown;
    try {
      b = JSON.parse(text);
    } catch {
      b = null;
    }
    verdicts.push(b && typeof b === 'object' ? null : reject('malformed', 'the ballot is not a JSON object'));
    ballots.push(b as Ballot);
  }
  return { ballots, verdicts };
}

async function main(): Promise<void> {
  if (nice > 0) {
    try {
      // pid 0 = this thread on Linux (nice is per thread there): only verification yields.
      setPriority(0, nice);
    } catch {
      // Not allowed or not supported: verify at the process's priority.
    }
  }
  installNodeHashes();
  const group: Group<unknown> = backend === 'noble' ? defaultGroup : await createSodiumGroup();
  const verifySignature = createNodeSignatureVerifier();
  // One prepared election per election (a validator checks few elections at a time).
  const elections = new Map<string, PreparedElection<unknown>>();
  const prepared = (keys: ElectionKeys) => {
    const cacheKey = `${keys.electionHash}/${keys.jointKey}`;
    let e = elections.get(cacheKey);
    if (!e) {
      if (elections.size >= 64) elections.clear();
      e = prepareElection(group, keys);
      elections.set(cacheKey, e);
    }
    return e;
  };
  parentPort!.on('message', (req: VerifyRequest) => {
    try {
      const e = prepared(req.keys);
      const recorded = req.recorded;
      const parsed = recorded ? parseRecorded(recorded.map((r) => r.text)) : null;
      const all = parsed ? parsed.ballots : (req.ballots ?? []);
      // Only what parsed goes into the batch; `at` maps batch positions back.
      const at = all.map((_, i) => i).filter((i) => !parsed || parsed.verdicts[i] === null);
      const out: BallotVerdict[] = parsed
        ? parsed.verdicts.map((v) => v ?? reject('malformed', 'not verified'))
        : all.map(() => reject('malformed', 'not verified'));
      for (let i = 0; i < at.length; i += batchSize) {
        const part = at.slice(i, i + batchSize);
        const r = verifyBallotBatch(
          e,
          part.map((j) => all[j]!),
          recorded
            ? { verifySignature, isOnRollAt: (pk, k) => pk === recorded[part[k]!]!.rollKey }
            : { verifySignature },
        );
        r.verdicts.forEach((v, k) => {
          out[part[k]!] = v;
        });
      }
      parentPort!.postMessage({ id: req.id, verdicts: out });
    } catch (err) {
      parentPort!.postMessage({ id: req.id, error: (err as Error).message });
    }
  });
  parentPort!.postMessage({ ready: true });
}

void main();
