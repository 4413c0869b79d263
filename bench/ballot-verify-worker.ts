/**
 * worker_threads half of bench/ballot-crypto.ts: verifies the ballots it is sent with
 * the configured backend (noble or libsodium, batch or one at a time; node:crypto
 * Ed25519 and SHA-2) and answers with how many were valid.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  type Ballot,
  type ElectionKeys,
  type Group,
  defaultGroup,
  prepareElection,
  verifyBallot,
  verifyBallotBatch,
} from '../shared/ballots';
import { createSodiumGroup } from '../shared/ballots/group-sodium';
import { createNodeSignatureVerifier } from '../shared/ballots-node/ed25519-verify';
import { installNodeHashes } from '../shared/ballots-node/native-hashes';

const { keys, batch, backend, mode } = workerData as {
  keys: ElectionKeys;
  batch: number;
  backend: 'noble' | 'libsodium';
  mode: 'batch' | 'single';
};

async function main(): Promise<void> {
  installNodeHashes();
  const group: Group<unknown> = backend === 'noble' ? defaultGroup : await createSodiumGroup();
  const e = prepareElection(group, keys);
  const verifySignature = createNodeSignatureVerifier();
  parentPort!.on('message', (ballots: Ballot[]) => {
    let valid = 0;
    if (mode === 'single') {
      for (const b of ballots) if (verifyBallot(e, b, { verifySignature }).valid) valid++;
    } else {
      for (let i = 0; i < ballots.length; i += batch) {
        const r = verifyBallotBatch(e, ballots.slice(i, i + batch), { verifySignature });
        valid += r.verdicts.filter((v) => v.valid).length;
      }
    }
    parentPort!.postMessage({ valid });
  });
  parentPort!.postMessage({ ready: true });
}

void main();
