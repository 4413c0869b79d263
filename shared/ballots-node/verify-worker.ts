/**
 * The worker_threads entry of the verification pool (verify-pool.ts): verifies batches of
 * ballots off the main event loop. Node-only (node:crypto Ed25519 and SHA-2), group
 * backend chosen by the pool. Answers `{ id, verdicts }` for each `{ id, keys, ballots }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  type Ballot,
  type ElectionKeys,
  type Group,
  type PreparedElection,
  defaultGroup,
  prepareElection,
  verifyBallotBatch,
} from '../ballots';
import { createSodiumGroup } from '../ballots/group-sodium';
import { createNodeSignatureVerifier } from './ed25519-verify';
import { installNodeHashes } from './native-hashes';

/** What the pool sends. */
export interface VerifyRequest {
  id: number;
  keys: ElectionKeys;
  ballots: Ballot[];
}

const { backend, batchSize } = workerData as { backend: 'libsodium' | 'noble'; batchSize: number };

async function main(): Promise<void> {
  installNodeHashes();
  const group: Group<unknown> = backend === 'noble' ? defaultGroup : await createSodiumGroup();
  const verifySignature = createNodeSignatureVerifier();
  // One prepared election per election (a validator checks few elections at a time).
  const elections = new Map<string, PreparedElection<unknown>>();
  parentPort!.on('message', (req: VerifyRequest) => {
    try {
      const cacheKey = `${req.keys.electionHash}/${req.keys.jointKey}`;
      let e = elections.get(cacheKey);
      if (!e) {
        if (elections.size >= 64) elections.clear();
        e = prepareElection(group, req.keys);
        elections.set(cacheKey, e);
      }
      const verdicts = [];
      for (let i = 0; i < req.ballots.length; i += batchSize) {
        verdicts.push(
          ...verifyBallotBatch(e, req.ballots.slice(i, i + batchSize), { verifySignature }).verdicts,
        );
      }
      parentPort!.postMessage({ id: req.id, verdicts });
    } catch (err) {
      parentPort!.postMessage({ id: req.id, error: (err as Error).message });
    }
  });
  parentPort!.postMessage({ ready: true });
}

void main();
