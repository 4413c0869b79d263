/**
 * Secret-ballot cryptography benchmark (issue 14): per 4-option single-choice ballot
 * (4 disjunctive proofs + a total proof + Ed25519), for @noble/curves and for
 * libsodium-wrappers-sumo 0.8.4:
 *   - encrypt + prove + sign (the voter's device),
 *   - verify one ballot at a time (the spec's recomputation),
 *   - batch verification (random 128-bit weights, one multi-scalar multiplication;
 *     noble only: libsodium has no MSM),
 *   - Ed25519 verification alone (noble, libsodium, node:crypto),
 *   - verification in worker_threads (all cores), each backend,
 *   - decrypting the tally of 100,000 ballots with 3-of-5 trustees.
 * Encryption uses noble's SHA-2 (what a browser runs); verification rows use node:crypto's
 * SHA-2 and, where said, node:crypto Ed25519 (what validators run). No Redis: pure CPU. Prints a table, writes bench/results/ballot-crypto.json.
 *
 *   node --import tsx bench/ballot-crypto.ts [--ballots 200] [--batch 100] [--workers 2]
 */
import sodium from 'libsodium-wrappers-sumo';
import {
  type Ballot,
  type ElectionKeys,
  type Group,
  type Manifest,
  combineSecretShare,
  computeDecryptionShare,
  createTrustee,
  decodePoint,
  decryptTotals,
  defaultGroup,
  encodePoint,
  encryptBallot,
  evaluateShare,
  finishCeremony,
  fromHex,
  nobleVerifySignature,
  prepareElection,
  seededRandomBytes,
  signMessage,
  toHex,
  verifyBallot,
  verifyBallotBatch,
} from '../shared/ballots';
import { createSodiumGroup } from '../shared/ballots/group-sodium';
import { createNodeSignatureVerifier } from '../shared/ballots-node/ed25519-verify';
import { installNodeHashes } from '../shared/ballots-node/native-hashes';
import { createVerifyPool } from '../shared/ballots-node/verify-pool';
import { benchOptions, machine, runBench, writeResult } from './common';

const opts = benchOptions('node --import tsx bench/ballot-crypto.ts', {
  ballots: { default: 200, rule: { int: true, min: 1 }, help: 'ballots encrypted and verified' },
  batch: { default: 100, rule: { int: true, min: 1 }, help: 'ballots per batch verification' },
  workers: { default: 2, rule: { int: true, min: 1 }, help: 'worker threads' },
});
const BALLOTS = opts.ballots;
const BATCH = opts.batch;
const WORKERS = opts.workers;

const manifest = (trustees: number, k: number): Manifest => ({
  electionId: 'bench-ballot-crypto',
  options: [1, 2, 3, 4].map((i) => ({ id: `option-${i}`, label: `Option ${i}` })),
  minSelections: 1,
  maxSelections: 1,
  trustees: Array.from({ length: trustees }, (_, i) => ({ index: i + 1, id: `trustee-${i + 1}` })),
  threshold: k,
});

/** Ops per second of `fn` run `n` times (one warm-up call first). */
function perSecond(n: number, fn: (i: number) => void): number {
  fn(0);
  const started = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return n / ((performance.now() - started) / 1000);
}

function ceremony<P>(g: Group<P>, m: Manifest) {
  const random = seededRandomBytes('bench');
  const trustees = m.trustees.map((t) => createTrustee(g, m, t.index, random));
  const { ceremony: c, electionHash } = finishCeremony(
    g,
    m,
    trustees.map((t) => t.commitment),
    [],
  );
  const shares = m.trustees.map((t) =>
    combineSecretShare(trustees.map((d) => evaluateShare(d.secret, t.index))),
  );
  const keys: ElectionKeys = { manifest: m, electionHash: toHex(electionHash), jointKey: c.jointKey };
  return { keys, shares, electionHash };
}

const sodiumSign = (seed: Uint8Array, msg: Uint8Array) =>
  sodium.crypto_sign_detached(msg, sodium.crypto_sign_seed_keypair(seed).privateKey);
const sodiumVerify = (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) => {
  try {
    return sodium.crypto_sign_verify_detached(sig, msg, pk);
  } catch {
    return false;
  }
};

/** Ballots per second through the worker-thread verification pool (shared/ballots-node). */
async function inWorkers(
  keys: ElectionKeys,
  ballots: Ballot[],
  backend: 'noble' | 'libsodium',
): Promise<number> {
  const pool = createVerifyPool({ size: WORKERS, backend, batchSize: BATCH });
  try {
    await pool.verify(keys, ballots.slice(0, WORKERS * 10)); // start-up and JIT warm-up
    const started = performance.now();
    const verdicts = await pool.verify(keys, ballots);
    const ms = performance.now() - started;
    const valid = verdicts.filter((v) => v.valid).length;
    if (valid !== ballots.length) throw new Error(`workers found ${valid}/${ballots.length} valid`);
    return ballots.length / (ms / 1000);
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  await sodium.ready;
  const sg = await createSodiumGroup();
  const ng = defaultGroup;
  const { keys, shares, electionHash } = ceremony(ng, manifest(3, 2));
  const en = prepareElection(ng, keys);
  const es = prepareElection(sg, keys);
  const random = seededRandomBytes('bench-ballots');
  const voters = Array.from({ length: BALLOTS }, () => random(32));
  const sel = (i: number) => [0, 1, 2, 3].map((j) => (j === i % 4 ? 1 : 0));

  const rows: { figure: string; value: number; unit: string }[] = [];
  const row = (figure: string, value: number, unit = 'ballots/s') => {
    rows.push({ figure, value: Math.round(value * 10) / 10, unit });
    console.log(`${figure.padEnd(70)} ${rows.at(-1)!.value} ${unit}`);
  };

  // The corpus: encrypted with libsodium (faster), identical bytes-format for both.
  const ballots: Ballot[] = [];
  row(
    'libsodium: encrypt + prove + sign (libsodium Ed25519)',
    perSecond(BALLOTS, (i) => {
      const b = encryptBallot(es, sel(i), voters[i]!, random, sodiumSign).ballot;
      if (ballots.length < BALLOTS) ballots.push(b);
    }),
  );
  const nEnc = Math.min(BALLOTS, 30);
  row(
    'noble: encrypt + prove + sign (noble Ed25519)',
    perSecond(nEnc, (i) => encryptBallot(en, sel(i), voters[i]!, random, signMessage)),
  );

  // Validators run in Node: from here on, SHA-2 from node:crypto (same outputs).
  installNodeHashes();
  const nodeVerify = createNodeSignatureVerifier();
  const nSingle = Math.min(BALLOTS, 40);
  row(
    'noble: verify one at a time (noble Ed25519)',
    perSecond(nSingle, (i) => verifyBallot(en, ballots[i]!)),
  );
  row(
    'noble: verify one at a time (node:crypto Ed25519)',
    perSecond(nSingle, (i) => verifyBallot(en, ballots[i]!, { verifySignature: nodeVerify })),
  );
  row(
    'libsodium: verify one at a time (libsodium Ed25519)',
    perSecond(BALLOTS, (i) => verifyBallot(es, ballots[i]!, { verifySignature: sodiumVerify })),
  );
  row(
    'noble: batch verify, 10 per batch (node:crypto Ed25519)',
    perSecond(Math.floor(BALLOTS / 10), (i) => {
      verifyBallotBatch(en, ballots.slice(i * 10, i * 10 + 10), { verifySignature: nodeVerify });
    }) * 10,
  );
  row(
    `noble: batch verify, ${BATCH} per batch (noble Ed25519)`,
    perSecond(1, () =>
      verifyBallotBatch(en, ballots.slice(0, BATCH), { verifySignature: nobleVerifySignature }),
    ) * BATCH,
  );

  // The three contenders for validators, alternated over 3 rounds and the best of each
  // kept: the machine's load moves between rounds, alternation spreads it fairly.
  const batches = (e: typeof en | typeof es, size: number) => () => {
    for (let i = 0; i < BALLOTS; i += size) {
      const r = verifyBallotBatch(e as typeof en, ballots.slice(i, i + size), {
        verifySignature: nodeVerify,
      });
      if (r.fellBack) throw new Error('an honest batch failed');
    }
  };
  const contenders: [string, () => void][] = [
    [
      'libsodium: verify one at a time (node:crypto Ed25519)',
      () => {
        for (const b of ballots) verifyBallot(es, b, { verifySignature: nodeVerify });
      },
    ],
    [`libsodium: batch verify, ${BATCH} per batch (node:crypto Ed25519)`, batches(es, BATCH)],
    [`noble: batch verify, ${BATCH} per batch (node:crypto Ed25519)`, batches(en, BATCH)],
  ];
  const best = contenders.map(() => 0);
  for (let round = 0; round < 3; round++) {
    contenders.forEach(([, run], i) => {
      const started = performance.now();
      run();
      best[i] = Math.max(best[i]!, BALLOTS / ((performance.now() - started) / 1000));
    });
  }
  contenders.forEach(([name], i) => {
    row(`${name}, best of 3`, best[i]!);
  });

  // Signatures alone.
  const msg = new Uint8Array(100);
  const sig = signMessage(voters[0]!, msg);
  const pk = fromHex(ballots[0]!.publicKey, 32);
  const pk0 = toHex(pk);
  if (pk0 !== ballots[0]!.publicKey) throw new Error('key mismatch');
  const sig0 = signMessage(voters[0]!, msg);
  const pkOf0 = fromHex(toHex(sodium.crypto_sign_seed_keypair(voters[0]!).publicKey), 32);
  row(
    'Ed25519 verify: noble (strict)',
    perSecond(200, () => nobleVerifySignature(sig0, msg, pkOf0)),
    'verifies/s',
  );
  row(
    'Ed25519 verify: libsodium',
    perSecond(2000, () => sodiumVerify(sig, msg, pkOf0)),
    'verifies/s',
  );
  row(
    'Ed25519 verify: node:crypto, cached KeyObject',
    perSecond(5000, () => nodeVerify(sig, msg, pkOf0)),
    'verifies/s',
  );

  // All cores: workers doing batch verification.
  const many = Array.from({ length: 4 }, () => ballots).flat();
  for (const backend of ['noble', 'libsodium'] as const) {
    row(`${backend}: batch verify in ${WORKERS} worker_threads (pool)`, await inWorkers(keys, many, backend));
  }

  // Tally decryption at scale: 100,000 ballots, 3-of-5 (the sum is made directly: the
  // cost measured is the decryption, not the additions).
  const big = ceremony(ng, manifest(5, 3));
  const K = decodePoint(ng, big.keys.jointKey);
  const counts = [40_000, 30_000, 20_000, 10_000];
  const encrypted = counts.map((t, i) => {
    const r = BigInt(1000 + i);
    return {
      alpha: encodePoint(ng, ng.mulBase(r)),
      beta: encodePoint(ng, ng.add(ng.mulBase(BigInt(t)), ng.mul(K, r))),
    };
  });
  const bigHash = fromHex(big.keys.electionHash, 32);
  const decShares = [1, 3, 5].map((j) =>
    computeDecryptionShare(ng, bigHash, encrypted, j, big.shares[j - 1]!, random),
  );
  const started = performance.now();
  const totals = decryptTotals(ng, encrypted, 100_000, decShares);
  const decryptMs = performance.now() - started;
  if (JSON.stringify(totals) !== JSON.stringify(counts)) throw new Error(`decrypted ${totals}`);
  row('decrypt 100,000-ballot tally, 3-of-5, after the last share (Lagrange + BSGS)', decryptMs, 'ms');
  void shares;
  void electionHash;

  writeResult('ballot-crypto', {
    machine: machine(),
    ballots: BALLOTS,
    batch: BATCH,
    workers: WORKERS,
    rows,
  });
}

runBench(main);
