/**
 * Secret-ballot pipeline benchmark (issue 14, "Performance goals"): finalized secret
 * ballots per second with 3 coordinators (majority 2), 4-option single-choice ballots,
 * every signature and proof verified by each validator (worker threads, batches), the
 * running encrypted tally added and chained by the finalizer. The ballots are generated
 * before the clock starts (encrypt + prove + sign is the voters' work, not the
 * pipeline's) and injected straight into the queue, with the election still a draft;
 * opening it starts the clock. The open-ballot rate is measured the same way in the same
 * run, for the ratio. Prints a table, writes bench/results/secret-pipeline.json, with
 * the machine's load average (the cores are shared), and the finalizer's per-ballot
 * planning cost (running tally + chained entry hash) with each group.
 *
 *   node --import tsx bench/secret-pipeline.ts [--ballots 2000] [--open-votes 20000]
 *        [--coordinators 3]
 *
 * Starts and stops its own Redis Cluster and coordinators on free ports.
 */
import { loadavg } from 'node:os';
import sodium from 'libsodium-wrappers-sumo';
import type { Cluster } from 'ioredis';
import { startCoordinator } from '../local/stack';
import { freePort } from '../local/ports';
import type { ManagedProcess } from '../local/processes';
import {
  type Ballot,
  createTrustee,
  defaultGroup,
  encryptBallot,
  finishCeremony,
  prepareElection,
  seededRandomBytes,
  toHex,
} from '../shared/ballots';
import { planSecretBatch } from '../coordinator/pipeline/secret-batch';
import { createSodiumGroup } from '../shared/ballots/group-sodium';
import { systemClock } from '../shared/clock';
import { parseSeeds } from '../shared/config';
import { type ElectionRecord, ElectionStore } from '../shared/elections/store';
import { createRedisCluster } from '../shared/redis/client';
import { electionKeys, partitionKeys } from '../shared/redis/keys';
import { manifestOf } from '../shared/secret/election-manifest';
import { canonicalBallot, secretBallot } from '../shared/secret/secret-ballot';
import { registerVoterKey } from '../shared/secret/voter-roll';
import { loadSettings } from '../shared/settings/load';
import { type BallotScheme, plainBallot, withParsed } from '../shared/votes/ballot';
import { submitVote } from '../shared/votes/submit';
import { benchOptions, benchRedis, machine, runBench, sleep, writeResult } from './common';

const settings = loadSettings();
const opts = benchOptions('node --import tsx bench/secret-pipeline.ts', {
  ballots: { default: 2000, rule: { int: true, min: 1 }, help: 'secret ballots finalized' },
  'open-votes': { default: 20000, rule: { int: true, min: 1 }, help: 'open ballots of the anchor run' },
  coordinators: {
    default: 3,
    rule: { int: true, min: 1 },
    help: 'coordinators (majority of them must agree)',
  },
});
const OPTIONS = [1, 2, 3, 4].map((i) => ({ id: `option-${i}`, label: `Option ${i}` }));

/** Sums a stats field over every partition of `e`. */
async function statsSum(redis: Cluster, e: ElectionRecord, field: string): Promise<number> {
  const values = await Promise.all(e.tags.map((t) => redis.hget(partitionKeys(t).stats, field)));
  return values.reduce((a, v) => a + Number(v ?? 0), 0);
}

/**
 * Injects `bodies` (voter, body, scheme) into the draft election `e` straight into the
 * queue, then opens it and waits until all are finalized: the rate from open to the
 * last finalization, and how many were counted and rejected.
 */
async function run(
  redis: Cluster,
  inject: Cluster,
  store: ElectionStore,
  e: ElectionRecord,
  votes: { voter: string; body: unknown; scheme: BallotScheme }[],
): Promise<{ perSecond: number; seconds: number; counted: number; rejected: number; load: number[] }> {
  await Promise.all(e.tags.map((t) => redis.set(partitionKeys(t).gate, 'open')));
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < votes.length) {
        const v = votes[next++]!;
        await submitVote(inject, systemClock, v.scheme, e, v.voter, v.body, undefined, {
          waitReplicas: 0,
          waitTimeoutMs: 0,
        });
      }
    }),
  );
  const started = performance.now();
  await store.open(e.id);
  const deadline = Date.now() + 30 * 60_000;
  let counted = 0;
  let rejected = 0;
  for (;;) {
    [counted, rejected] = await Promise.all([
      statsSum(redis, e, 'finalized'),
      statsSum(redis, e, 'rejected'),
    ]);
    if (counted + rejected >= votes.length || Date.now() > deadline) break;
    await sleep(50);
  }
  const seconds = (performance.now() - started) / 1000;
  const load = loadavg().map((l) => Math.round(l * 10) / 10);
  await store.close(e.id).catch(() => {}); // retired by the leader, as an administrator would
  return { perSecond: (counted + rejected) / seconds, seconds, counted, rejected, load };
}

/** A secret election with its ceremony done in process (3 trustees, 2 needed). */
async function secretElection(redis: Cluster, store: ElectionStore): Promise<ElectionRecord> {
  const draft = await store.create({
    title: 'bench secret ballots',
    options: OPTIONS,
    opensAt: null,
    closesAt: null,
    voters: null,
    hideTotalsUntilClosed: false,
    secret: {
      trustees: [1, 2, 3].map((index) => ({ index, id: `trustee-${index}` })),
      threshold: 2,
      minSelections: 1,
      maxSelections: 1,
    },
  });
  const manifest = manifestOf(draft);
  const random = seededRandomBytes(`bench-${draft.id}`);
  const trustees = manifest.trustees.map((t) => createTrustee(defaultGroup, manifest, t.index, random));
  const done = finishCeremony(
    defaultGroup,
    manifest,
    trustees.map((t) => t.commitment),
    [],
  );
  await redis.hset(electionKeys(draft.id).meta, {
    ceremony: 'done',
    qualified: JSON.stringify(done.ceremony.qualified),
    complaints: '[]',
    jointKey: done.ceremony.jointKey,
    electionHash: toHex(done.electionHash),
  });
  return (await store.get(draft.id))!;
}

async function main(): Promise<void> {
  const cluster = await benchRedis(3);
  const procs: ManagedProcess[] = [];
  const redis = createRedisCluster(parseSeeds(cluster.seeds));
  const inject = createRedisCluster(parseSeeds(cluster.seeds), { enableAutoPipelining: true });
  try {
    const members = Array.from({ length: opts.coordinators }, (_, i) => `s${i + 1}`);
    for (const id of members) {
      procs.push(
        await startCoordinator({
          nodeId: id,
          adminPort: await freePort(),
          redisSeeds: cluster.seeds,
          members,
          env: {
            LOG_LEVEL: settings.BENCH_VERBOSE ? 'debug' : 'warn',
            ...(settings.PROFILE_DIR ? { CPU_PROFILE: `${settings.PROFILE_DIR}/${id}.cpuprofile` } : {}),
          },
          nodeArgs: (settings.COORDINATOR_NODE_ARGS ?? '').split(' ').filter(Boolean),
          onLine: (node, line) => console.error(`[${node}] ${line}`),
        }),
      );
    }
    await sleep(2500); // leader, ownership and clock sync settle
    const store = new ElectionStore(redis, systemClock, settings.PARTITIONS);

    // The anchor: open ballots, the same way, in the same run.
    const openElection = await store.create({
      title: 'bench open ballots',
      options: OPTIONS,
      opensAt: null,
      closesAt: null,
      voters: null,
      hideTotalsUntilClosed: false,
    });
    const open = await run(
      redis,
      inject,
      store,
      openElection,
      Array.from({ length: opts['open-votes'] }, (_, i) => ({
        voter: `open-${i}`,
        body: { optionId: OPTIONS[i % 4]!.id },
        scheme: plainBallot,
      })),
    );
    console.log(
      `open ballots: ${open.perSecond.toFixed(0)}/s (${open.counted} in ${open.seconds.toFixed(1)} s)`,
    );

    // Secret ballots, generated before the clock starts.
    const e = await secretElection(redis, store);
    await sodium.ready;
    const es = prepareElection(await createSodiumGroup(), {
      manifest: manifestOf(e),
      electionHash: e.electionHash!,
      jointKey: e.jointKey!,
    });
    const sign = (seed: Uint8Array, msg: Uint8Array) =>
      sodium.crypto_sign_detached(msg, sodium.crypto_sign_seed_keypair(seed).privateKey);
    const random = seededRandomBytes(`ballots-${e.id}`);
    const genStarted = performance.now();
    const ballots: Ballot[] = [];
    for (let i = 0; i < opts.ballots; i++) {
      const choice = [0, 1, 2, 3].map((j) => (j === i % 4 ? 1 : 0));
      ballots.push(canonicalBallot(encryptBallot(es, choice, random(32), random, sign).ballot));
    }
    const genSeconds = (performance.now() - genStarted) / 1000;
    console.log(`generated ${ballots.length} ballots in ${genSeconds.toFixed(1)} s (not measured)`);
    // The finalizer's per-ballot work (running tally + chained entry hash), both groups,
    // in this process: what moving the tally additions to libsodium saved.
    const planMs = async (g: Parameters<typeof planSecretBatch>[6]) => {
      const outcomes = ballots.map((b, i) => ({
        sid: `1-${i}`,
        ballotId: i.toString(16).padStart(32, '0'),
        recorded: JSON.stringify(b),
        outcome: 'counted' as const,
        reason: '',
      }));
      planSecretBatch(e, 0, 1, 'genesis', '', outcomes.slice(0, 20), g); // warm-up
      const t = performance.now();
      planSecretBatch(e, 0, 1, 'genesis', '', outcomes, g);
      return (performance.now() - t) / outcomes.length;
    };
    const finalizeMs = { noble: await planMs(defaultGroup), libsodium: await planMs(es.group) };
    console.log(
      `finalize planning per ballot: noble ${finalizeMs.noble.toFixed(2)} ms, libsodium ${finalizeMs.libsodium.toFixed(2)} ms`,
    );
    const votes = await Promise.all(
      ballots.map(async (ballot, i) => {
        const voter = `secret-${i}`;
        await registerVoterKey(inject, e, voter, ballot.publicKey);
        const recorded = JSON.stringify(ballot);
        return { voter, body: { ballot }, scheme: withParsed(secretBallot, recorded) };
      }),
    );
    const loadBefore = loadavg().map((l) => Math.round(l * 10) / 10);
    const secret = await run(redis, inject, store, e, votes);
    if (secret.rejected > 0) throw new Error(`${secret.rejected} honest secret ballots were rejected`);

    const result = {
      machine: machine(),
      coordinators: opts.coordinators,
      majority: Math.floor(opts.coordinators / 2) + 1,
      verifyWorkers: settings.VERIFY_WORKERS || 'one per core',
      verifyBatch: settings.VERIFY_BATCH,
      verifyNice: settings.VERIFY_NICE,
      options: OPTIONS.length,
      secret: { ...secret, loadBefore },
      finalizePlanMsPerBallot: finalizeMs,
      open,
      ratioToOpen: secret.perSecond / open.perSecond,
      goal: 500,
      met: secret.perSecond >= 500,
    };
    const f = (n: number) => n.toFixed(n < 100 ? 1 : 0);
    console.log('\nquorumvote secret-ballot pipeline benchmark');
    console.log(
      `coordinators ${opts.coordinators} (majority ${result.majority}), 4 options, verification threads per coordinator ${result.verifyWorkers} at nice ${settings.VERIFY_NICE}`,
    );
    console.log('| figure | value | anchor | ratio | goal | load average (1/5/15 min) |');
    console.log('|---|---|---|---|---|---|');
    console.log(
      `| finalized secret ballots/s | ${f(secret.perSecond)} | open ${f(open.perSecond)}/s | ${result.ratioToOpen.toFixed(3)} | ≥ 500/s | before ${loadBefore.join(' / ')}, after ${secret.load.join(' / ')} |`,
    );
    writeResult('secret-pipeline', result);
  } finally {
    redis.disconnect();
    inject.disconnect();
    await Promise.all(procs.map((p) => p.stop()));
    await cluster.dispose();
  }
}

runBench(main);
