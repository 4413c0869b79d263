/**
 * Browser side of bench/ballot-browser.ts: what a voter's device and the auditor page
 * run, bundled by esbuild for the browser (noble, WebCrypto randomness). Exposes one
 * function on `globalThis` that the bench calls through playwright.
 */
import {
  type Manifest,
  createTrustee,
  defaultGroup as g,
  encryptBallot,
  finishCeremony,
  generateVoterKey,
  prepareElection,
  toHex,
  verifyBallot,
  verifyBallotBatch,
} from '../../shared/ballots';

async function run(n: number): Promise<{ encryptMs: number[]; verifyMs: number; batchMs: number }> {
  const manifest: Manifest = {
    electionId: 'browser-bench',
    options: [1, 2, 3, 4].map((i) => ({ id: `o${i}`, label: `Option ${i}` })),
    minSelections: 1,
    maxSelections: 1,
    trustees: [1, 2, 3].map((index) => ({ index, id: `t${index}` })),
    threshold: 2,
  };
  const random = (len: number) => globalThis.crypto.getRandomValues(new Uint8Array(len));
  const trustees = manifest.trustees.map((t) => createTrustee(g, manifest, t.index, random));
  const { ceremony, electionHash } = finishCeremony(
    g,
    manifest,
    trustees.map((t) => t.commitment),
    [],
  );
  const e = prepareElection(g, { manifest, electionHash: toHex(electionHash), jointKey: ceremony.jointKey });
  const encryptMs: number[] = [];
  const ballots = [];
  for (let i = 0; i < n + 1; i++) {
    const { secretKey } = generateVoterKey();
    const started = performance.now();
    const { ballot } = encryptBallot(
      e,
      [0, 1, 2, 3].map((j) => (j === i % 4 ? 1 : 0)),
      secretKey,
    );
    if (i > 0) encryptMs.push(performance.now() - started); // the first one warms the JIT up
    ballots.push(ballot);
  }
  let started = performance.now();
  for (const b of ballots) if (!verifyBallot(e, b).valid) throw new Error('invalid');
  const verifyMs = (performance.now() - started) / ballots.length;
  started = performance.now();
  if (!verifyBallotBatch(e, ballots).verdicts.every((v) => v.valid)) throw new Error('invalid');
  const batchMs = (performance.now() - started) / ballots.length;
  return { encryptMs, verifyMs, batchMs };
}

(globalThis as unknown as { qvBench: typeof run }).qvBench = run;
