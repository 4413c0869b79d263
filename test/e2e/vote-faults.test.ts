import { rmSync } from 'node:fs';
import calculateSlot from 'cluster-key-slot';
import Redis, { type Cluster } from 'ioredis';
import { parseSeeds } from '../../shared/config';
import { mutexKeys } from '../../shared/mutex/keys';
import { masterOfSlot, parseClusterNodeLines } from '../../shared/redis/cluster-nodes';
import { createRedisCluster } from '../../shared/redis/client';
import { clusterKeysFor, electionKeys, partitionKeys } from '../../shared/redis/keys';
import { verifyAudit } from '../../shared/votes/verify';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';
import { type IsolatedRedis, startIsolatedRedis } from '../helpers/tcp-proxy';
import {
  type VoteOutcome,
  castVotes,
  fetchAudit,
  mapLimit,
  mintVoters,
  percentile,
  reconcile,
  retryCounts,
  statusCounts,
  voteLog,
} from '../helpers/voters';

/**
 * The pipeline under faults (issue 4 "Done when"), end to end: HTTP through
 * serverless-offline, real coordinator processes, a real Redis Cluster. Voters follow
 * the client contract: a 503 (or a dropped connection) is retried with the same
 * Idempotency-Key. Afterwards every 202 is reconciled against the audit log, the
 * results and the vote log.
 */

const OPTIONS = ['red', 'green', 'blue'];
const PARTITIONS = 16;

function report(title: string, data: Record<string, unknown>): void {
  process.stdout.write(`\n[vote-faults] ${title}\n${JSON.stringify(data, null, 2)}\n`);
}

async function newOpenElection(api: Api, admin: string, title: string): Promise<string> {
  const created = await api.call('POST', '/elections', {
    token: admin,
    body: { title, options: OPTIONS.map((id) => ({ id, label: id })) },
  });
  expect(created.status).toBe(201);
  const opened = await api.call('POST', `/elections/${created.body.id}/open`, { token: admin });
  expect(opened.status).toBe(200);
  return created.body.id as string;
}

/** Waits until nothing is pending and every submitted vote is finalized or rejected. */
async function drained(api: Api, admin: string, id: string, timeoutMs: number) {
  return eventually(
    async () => {
      const r = await api.call('GET', `/elections/${id}/results`, { token: admin });
      return r.status === 200 && r.body.pending === 0 ? r.body : undefined;
    },
    timeoutMs,
    'every vote finalized (pending == 0)',
  );
}

/** Partition tags of an election, straight from its metadata. */
async function electionTags(redis: Cluster, id: string): Promise<string[]> {
  return JSON.parse((await redis.hget(electionKeys(id).meta, 'tags')) ?? '[]') as string[];
}

/**
 * Checks that no voter is counted twice, reading voters from the vote log in Redis (the
 * public entries name no vote: they are joined to the log by their receipt).
 */
async function countedVoters(redis: Cluster, id: string, counted: { partition: number; receipt: string }[]) {
  const log = await voteLog(redis, await electionTags(redis, id));
  const byReceipt = new Map([...log.values()].map((v) => [v.receipt, v]));
  const voters = new Map<string, number>();
  const unresolved: string[] = [];
  for (const e of counted) {
    const v = byReceipt.get(e.receipt);
    if (!v) unresolved.push(`${e.partition}:${e.receipt}`);
    else voters.set(v.voter, (voters.get(v.voter) ?? 0) + 1);
  }
  const twice = [...voters].filter(([, n]) => n > 1).map(([v]) => v);
  return { voters, twice, unresolved };
}

/** Partitions each coordinator that answers owns (its /status `pipeline.partitionsOwned`). */
async function ownership(cluster: TestCluster): Promise<Map<string, number[]>> {
  const owners = new Map<string, number[]>();
  for (const s of await cluster.statuses()) {
    owners.set(s.id, s.pipeline?.partitionsOwned ?? []);
  }
  return owners;
}

/** The partitions `id` owns, from its /status (none when it does not answer). */
async function ownedBy(cluster: TestCluster, id: string): Promise<number[]> {
  return (await cluster.status(id))?.pipeline?.partitionsOwned ?? [];
}

/** Waits until the answering coordinators between them own each of `partitions`. */
async function ownedByOthers(cluster: TestCluster, partitions: number[], timeoutMs: number, what: string) {
  return eventually(
    async () => {
      const owners = await ownership(cluster);
      const held = new Set([...owners.values()].flat());
      return partitions.every((p) => held.has(p)) ? owners : undefined;
    },
    timeoutMs,
    what,
  );
}

/** The last fencing token issued for partition `p`'s finalizer lock (the holder's, while held). */
async function lockToken(redis: Cluster, cluster: TestCluster, p: number): Promise<number> {
  return Number((await redis.get(mutexKeys(clusterKeysFor(cluster.name).finalizerLock(p)).fence)) ?? 0);
}

/**
 * Everything a fault test needs, on its own Redis Cluster (a test that kills a Redis
 * master must not share one): 3 (or more) coordinators, serverless-offline, an API client with
 * an admin token, and a direct Redis client.
 */
interface FaultStack {
  redisCluster: IsolatedRedis;
  cluster: TestCluster;
  offline: TestOffline;
  api: Api;
  admin: string;
  keyDir: string;
  redis: Cluster;
  stop(): Promise<void>;
}

async function startFaultStack(adminName: string, coordinators = 3): Promise<FaultStack> {
  // Relaunched like `npm start` does: a killed master's node comes back as a replica of
  // the promoted one, which otherwise could confirm no vote (503) for good.
  const redisCluster = await startIsolatedRedis({ relaunch: true });
  const keyDir = testKeyDir();
  const cluster = await TestCluster.start(coordinators, {}, redisCluster.seeds);
  // The reconciliation reads every answered vote back as an admin (thousands of reads
  // in seconds): the per-user and per-address read limits (docs/operations.md "Limits") are lifted here.
  const offline = await startTestOffline(
    {
      JWT_KEY_DIR: keyDir,
      RATE_LIMIT_READ: '1000000',
      RATE_LIMIT_READ_IP: '1000000',
      ...cluster.offlineEnv(),
    },
    redisCluster.seeds,
  );
  const api = makeApi(offline.httpUrl, keyDir);
  const admin = await api.token(adminName, 'admin');
  const redis = createRedisCluster(parseSeeds(redisCluster.seeds));
  await cluster.waitForLeader(15000);
  return {
    redisCluster,
    cluster,
    offline,
    api,
    admin,
    keyDir,
    redis,
    async stop() {
      redis.disconnect();
      await Promise.all([offline.stop(), cluster.stop()]);
      await redisCluster.stop();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

// Five coordinators: each partition is judged by 3 of them (its rendezvous ranking), so
// the killed one's partitions must be picked up by a standby for votes to finalize.
describe('vote pipeline under coordinator faults (5 coordinators; kill -9 a partition owner, restart another; pause an owner past its lease)', () => {
  let stack: FaultStack;
  let offline: TestOffline;
  let cluster: TestCluster;
  let api: Api;
  let admin: string;
  let keyDir: string;
  let redis: Cluster;

  beforeAll(async () => {
    stack = await startFaultStack('admin-faults', 5);
    ({ offline, cluster, api, admin, keyDir, redis } = stack);
  }, 180000);

  afterAll(() => stack?.stop());

  test('every 202 ends finalized, totals exact, audit chain valid, every receipt present', async () => {
    const id = await newOpenElection(api, admin, 'Coordinator faults');
    const N = 5000;
    const intents = await mintVoters(keyDir, N, `cf-${id}`, OPTIONS);
    // The kill must hit a partition owner (a finalizer), not just any member: the victim is
    // the coordinator owning the most partitions once every partition has its owner.
    const settled = await ownedByOthers(
      cluster,
      Array.from({ length: PARTITIONS }, (_, p) => p),
      30000,
      'every partition owned',
    );
    const victim = [...settled].sort((a, b) => b[1].length - a[1].length)[0]![0];
    const restarted = cluster.members.find((m) => m !== victim)!;
    // What the victim owned when it was killed, the lock tokens it held them with, and
    // who owned them once the others took over.
    let killed: { owned: number[]; tokens: number[] } | undefined;
    let takeover: { owners: Record<string, number[]>; tokens: number[] } | undefined;
    const faults: Promise<void>[] = [];
    const timeline: Record<string, number> = {};
    const t0 = Date.now();
    const { outcomes, elapsedMs } = await castVotes({
      baseUrl: offline.httpUrl,
      electionId: id,
      intents,
      concurrency: 25,
      ratePerSec: 400,
      retryForMs: 60000,
      onProgress: (done) => {
        if (done === Math.floor(N * 0.25)) {
          faults.push(
            (async () => {
              const owned = await ownedBy(cluster, victim);
              const tokens = await Promise.all(owned.map((p) => lockToken(redis, cluster, p)));
              timeline['kill -9 at'] = Date.now() - t0;
              cluster.node(victim).proc.signal('SIGKILL');
              killed = { owned, tokens };
              const owners = await ownedByOthers(
                cluster,
                owned,
                30000,
                "the killed node's partitions owned by others",
              );
              timeline['partitions taken over at'] = Date.now() - t0;
              takeover = {
                owners: Object.fromEntries(owners),
                tokens: await Promise.all(owned.map((p) => lockToken(redis, cluster, p))),
              };
            })(),
          );
        }
        if (done === Math.floor(N * 0.5)) {
          timeline['restart begins at'] = Date.now() - t0;
          faults.push(
            (async () => {
              await cluster.node(restarted).proc.stop();
              await cluster.startNode(restarted);
              timeline['restarted at'] = Date.now() - t0;
            })(),
          );
        }
      },
    });
    await Promise.all(faults);
    expect(cluster.node(victim).proc.alive).toBe(false);
    // The killed node owned partitions; afterwards each of them had a live owner that took
    // its lock anew (a higher fencing token than the one the victim held it with).
    report('kill target', { victim, restarted, killed, takeover });
    expect(killed!.owned.length).toBeGreaterThan(0);
    expect(killed!.tokens.every((t) => t > 0)).toBe(true);
    expect(Object.keys(takeover!.owners)).not.toContain(victim);
    const held = new Set(Object.values(takeover!.owners).flat());
    expect(killed!.owned.filter((p) => !held.has(p))).toEqual([]);
    expect(takeover!.tokens.filter((t, i) => !(t > killed!.tokens[i]!))).toEqual([]);

    const submitted = Date.now();
    const results = await drained(api, admin, id, 90000);
    timeline['drained at'] = Date.now() - t0;
    const audit = await fetchAudit(api, admin, id);
    const accepted = outcomes.filter((o) => o.status === 202);
    const rec = reconcile(outcomes, audit);
    const verify = verifyAudit(
      id,
      PARTITIONS,
      audit,
      results,
      accepted.map((o) => o.receipt!),
    );
    const who = await countedVoters(
      redis,
      id,
      audit.filter((e) => e.outcome === 'counted'),
    );
    // A sample of the 202s, read back one by one as a voter would.
    const sample = accepted.filter((_, i) => i % 25 === 0);
    const views = await mapLimit(sample, 20, async (o) => {
      const token = intents.find((x) => x.sub === o.sub)!.token;
      return (await api.call('GET', `/votes/${o.voteId}`, { token })).body;
    });

    report('coordinator faults', {
      votes: N,
      statuses: statusCounts(outcomes),
      retries: retryCounts(outcomes),
      submitMs: elapsedMs,
      offeredPerSec: Math.round((N / elapsedMs) * 1000),
      latencyMs: {
        p50: percentile(
          outcomes.map((o) => o.latencyMs),
          50,
        ),
        p99: percentile(
          outcomes.map((o) => o.latencyMs),
          99,
        ),
      },
      drainAfterLastSubmitMs: timeline['drained at']! - (submitted - t0),
      timeline,
      results: { totals: results.totals, finalized: results.finalized, rejected: results.rejected },
      problems: verify.problems.slice(0, 10),
    });

    // Every voter got its 202 (Redis is healthy here; only coordinators fail).
    expect(statusCounts(outcomes)).toEqual({ '202': N });
    // Every 202 ends finalized: counted in the audit log with its own receipt.
    expect(rec.missingFromAudit.map((o) => o.voteId)).toEqual([]);
    expect(rec.rejected.map((o) => o.voteId)).toEqual([]);
    expect(rec.counted).toBe(N);
    // Totals exact: equal to the 202s per option, and nothing else counted.
    expect(results.totals).toEqual(rec.acceptedByOption);
    expect(results).toMatchObject({ finalized: N, rejected: 0, pending: 0 });
    expect(rec.unknownCounted).toEqual([]);
    expect(rec.duplicateEntries).toEqual([]);
    // The audit chain verifies, its totals match the results, every receipt is in it.
    expect(verify.problems).toEqual([]);
    expect(verify.ok).toBe(true);
    expect(Object.values(verify.receipts).every((s) => s === 'counted')).toBe(true);
    // Each voter counted at most (here: exactly) once.
    expect(who.unresolved).toEqual([]);
    expect(who.twice).toEqual([]);
    expect(who.voters.size).toBe(N);
    // Read back as the voter: finalized with a majority of approvals.
    for (const v of views) {
      expect(v).toMatchObject({ status: 'finalized', electionId: id });
      expect(v.approvals).toBeGreaterThanOrEqual(2);
    }
  }, 240000);

  test('a partition owner paused past its lease: its late finalize writes are refused (fenced), totals exact', async () => {
    // The stale owner runs with a test-mode delay between deciding a batch and sending its
    // fenced write, so the pause (SIGSTOP) lands with writes decided but not yet sent, as
    // a GC pause would: on SIGCONT they go out with the superseded lock token.
    const stale = cluster.members.find((m) => !cluster.node(m).proc.alive) ?? cluster.members[0]!;
    await cluster.node(stale).proc.stop();
    await cluster.startNode(stale, { QV_TEST_MODE: '1', TEST_FINALIZE_WRITE_DELAY_MS: '400' });
    const id = await newOpenElection(api, admin, 'Stale partition owner');
    const tags = await electionTags(redis, id);
    await eventually(
      async () => (await ownedBy(cluster, stale)).length > 0,
      30000,
      'the stale node owns partitions',
    );
    const N = 3000;
    const intents = await mintVoters(keyDir, N, `so-${id}`, OPTIONS);
    const partitionFence = async (p: number) => Number((await redis.get(partitionKeys(tags[p]!).fence)) ?? 0);
    let paused: { owned: number[]; tokens: number[]; fences: number[]; pausedMs: number } | undefined;
    const faults: Promise<void>[] = [];
    const timeline: Record<string, number> = {};
    const t0 = Date.now();
    const { outcomes, elapsedMs } = await castVotes({
      baseUrl: offline.httpUrl,
      electionId: id,
      intents,
      concurrency: 25,
      ratePerSec: 300,
      retryForMs: 60000,
      onProgress: (done) => {
        if (done !== Math.floor(N * 0.2)) return;
        faults.push(
          (async () => {
            const owned = await ownedBy(cluster, stale);
            const tokens = await Promise.all(owned.map((p) => lockToken(redis, cluster, p)));
            const proc = cluster.node(stale).proc;
            proc.signal('SIGSTOP');
            const stoppedAt = Date.now();
            timeline['SIGSTOP at'] = stoppedAt - t0;
            try {
              // Past its lease: another node took each lock (a higher token) and finalized
              // this election's partition with it (the partition's fence moved past the token).
              const fences = await eventually(
                async () => {
                  const f = await Promise.all(owned.map(partitionFence));
                  const l = await Promise.all(owned.map((p) => lockToken(redis, cluster, p)));
                  return owned.every((_, i) => l[i]! > tokens[i]! && f[i]! > tokens[i]!) ? f : undefined;
                },
                45000,
                "the paused node's partitions finalized by a new owner",
              );
              paused = { owned, tokens, fences, pausedMs: Date.now() - stoppedAt };
            } finally {
              proc.signal('SIGCONT');
              timeline['SIGCONT at'] = Date.now() - t0;
            }
          })(),
        );
      },
    });
    await Promise.all(faults);
    // Its late writes were refused by the fence: the node says so (and drops the partition).
    const fenced = await eventually(
      async () => {
        const lines = (cluster.output.get(stale) ?? []).flatMap((l) => {
          try {
            return [JSON.parse(l) as { msg?: string; election?: string; partition?: number }];
          } catch {
            return [];
          }
        });
        const refusals = lines.filter((l) => l.msg?.startsWith('finalize fenced') && l.election === id);
        return refusals.length > 0 ? refusals : undefined;
      },
      15000,
      'a fenced refusal logged by the resumed node',
    ).catch(() => []);

    const results = await drained(api, admin, id, 90000);
    const audit = await fetchAudit(api, admin, id);
    const accepted = outcomes.filter((o) => o.status === 202);
    const rec = reconcile(outcomes, audit);
    const verify = verifyAudit(
      id,
      PARTITIONS,
      audit,
      results,
      accepted.map((o) => o.receipt!),
    );
    const who = await countedVoters(
      redis,
      id,
      audit.filter((e) => e.outcome === 'counted'),
    );
    report('stale partition owner', {
      votes: N,
      stale,
      paused,
      fencedRefusals: fenced.map((l) => l.partition),
      statuses: statusCounts(outcomes),
      submitMs: elapsedMs,
      timeline,
      results: { totals: results.totals, finalized: results.finalized, rejected: results.rejected },
      problems: verify.problems.slice(0, 10),
    });

    expect(paused).toBeDefined();
    expect(paused!.owned.length).toBeGreaterThan(0);
    // At least one write the paused node had decided went out after SIGCONT and was
    // refused, for a partition it had owned before the pause.
    expect(fenced.length).toBeGreaterThan(0);
    for (const r of fenced) expect(paused!.owned).toContain(r.partition);
    // Totals exact: every 202 counted once, nothing else counted, the chain verifies.
    expect(statusCounts(outcomes)).toEqual({ '202': N });
    expect(rec.missingFromAudit.map((o) => o.voteId)).toEqual([]);
    expect(rec.rejected.map((o) => o.voteId)).toEqual([]);
    expect(rec.counted).toBe(N);
    expect(rec.unknownCounted).toEqual([]);
    expect(rec.duplicateEntries).toEqual([]);
    expect(results.totals).toEqual(rec.acceptedByOption);
    expect(results).toMatchObject({ finalized: N, rejected: 0, pending: 0 });
    expect(verify.problems).toEqual([]);
    expect(verify.ok).toBe(true);
    expect(who.unresolved).toEqual([]);
    expect(who.twice).toEqual([]);
    expect(who.voters.size).toBe(N);
  }, 240000);
});

/** Finds the master serving `slot` and every node's role, from CLUSTER NODES on a live node. */
async function clusterLayout(ports: number[], slot: number) {
  for (const port of ports) {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    try {
      await r.connect();
      const nodes = parseClusterNodeLines((await r.call('CLUSTER', 'NODES')) as string);
      const roles: Record<number, string> = {};
      for (const n of nodes) roles[n.port] = n.failing ? 'failed' : n.role;
      return { master: masterOfSlot(nodes, slot)?.port, roles };
    } catch {
      // try the next node
    } finally {
      r.disconnect();
    }
  }
  throw new Error('no Redis node answers CLUSTER NODES');
}

describe('vote pipeline while a Redis master is killed (own cluster; its replica takes over)', () => {
  let stack: FaultStack;
  let redisCluster: IsolatedRedis;
  let offline: TestOffline;
  let api: Api;
  let admin: string;
  let keyDir: string;
  let redis: Cluster;

  beforeAll(async () => {
    stack = await startFaultStack('admin-failover');
    ({ redisCluster, offline, api, admin, keyDir, redis } = stack);
  }, 180000);

  afterAll(() => stack?.stop());

  test('zero votes counted twice; every lost 202 is detected by reconciliation', async () => {
    const id = await newOpenElection(api, admin, 'Redis failover');
    const tags = await electionTags(redis, id);
    const N = 2000;
    const intents = await mintVoters(keyDir, N, `rf-${id}`, OPTIONS);
    // The master of partition 0 (about a third of the partitions live there).
    const before = await clusterLayout(redisCluster.ports, calculateSlot(tags[0]!));
    const victimPort = before.master!;
    const victim = redisCluster.handle.processes[redisCluster.ports.indexOf(victimPort)]!;
    const victimPartitions = tags
      .map((t, p) => ({ p, slot: calculateSlot(t) }))
      .filter((x) => redis.slots[x.slot]?.[0]?.endsWith(`:${victimPort}`))
      .map((x) => x.p);
    const timeline: Record<string, number> = {};
    const t0 = Date.now();
    const { outcomes, elapsedMs } = await castVotes({
      baseUrl: offline.httpUrl,
      electionId: id,
      intents,
      concurrency: 20,
      ratePerSec: 300,
      retryForMs: 90000,
      onProgress: (done) => {
        if (done === Math.floor(N * 0.3)) {
          timeline['master SIGKILL at'] = Date.now() - t0;
          victim.signal('SIGKILL');
        }
      },
    });
    timeline['submissions done at'] = Date.now() - t0;
    const after = await clusterLayout(
      redisCluster.ports.filter((p) => p !== victimPort),
      calculateSlot(tags[0]!),
    );
    expect(victim.alive).toBe(false);
    expect(after.master).toBeDefined();
    expect(after.master).not.toBe(victimPort);

    const results = await drained(api, admin, id, 120000);
    timeline['drained at'] = Date.now() - t0;
    const audit = await fetchAudit(api, admin, id);
    // A canary proves the reconciliation reports a lost vote: a 202 the system never
    // kept (a vote id of a partition of this election that was never written).
    const canary: VoteOutcome = {
      sub: 'canary',
      optionId: OPTIONS[0]!,
      idempotencyKey: 'canary',
      status: 202,
      voteId: `${id}.0.1-1`,
      receipt: 'c'.repeat(64),
      attempts: 1,
      retried: {},
      unexpected: [],
      latencyMs: 0,
    };
    const rec = reconcile([...outcomes, canary], audit);
    const accepted = [...outcomes, canary].filter((o) => o.status === 202);
    const verify = verifyAudit(id, PARTITIONS, audit, results);
    const counted = audit.filter((e) => e.outcome === 'counted');
    const who = await countedVoters(redis, id, counted);

    // Reconciliation by status read-back: every 202 vote id, as an admin reads it.
    const views = await mapLimit(accepted, 20, async (o) => {
      const r = await api.call('GET', `/votes/${o.voteId}`, { token: admin });
      return { o, status: r.status, body: r.body };
    });
    const lost: VoteOutcome[] = views
      .filter((v) => v.status === 404 || (v.status === 200 && v.body.receipt !== v.o.receipt))
      .map((v) => v.o);
    const notFinal = views.filter((v) => v.status === 200 && v.body.status !== 'finalized');
    const otherStatus = views.filter((v) => v.status !== 200 && v.status !== 404);
    const lostForReal = lost.filter((o) => o !== canary);

    report('redis master failover', {
      votes: N,
      victim: { port: victimPort, partitions: victimPartitions, newMaster: after.master },
      statuses: statusCounts(outcomes),
      retries: retryCounts(outcomes),
      retriedVoters: outcomes.filter((o) => o.attempts > 1).length,
      submitMs: elapsedMs,
      timeline,
      results: { totals: results.totals, finalized: results.finalized, rejected: results.rejected },
      lost: lostForReal.map((o) => ({
        voteId: o.voteId,
        sub: o.sub,
        attempts: o.attempts,
        retried: o.retried,
      })),
      unknownCounted: rec.unknownCounted.map((e) => e.receipt),
      problems: verify.problems.slice(0, 10),
    });

    // Every voter got a definite answer: the 503s were retried until the replica took over.
    expect(statusCounts(outcomes)).toEqual({ '202': N });
    // Counted at most once: no vote twice in the audit log, no voter twice among counted
    // votes, the chain verifies and its totals equal the published results.
    expect(rec.duplicateEntries).toEqual([]);
    expect(who.unresolved).toEqual([]);
    expect(who.twice).toEqual([]);
    expect(verify.problems).toEqual([]);
    expect(results.finalized).toBe(counted.length);
    // Both reconciliations agree on what was lost: the 202s whose receipt is missing from
    // the audit log are exactly those whose vote id reads back as 404 or as another vote
    // (another receipt); the canary is among them.
    expect(lost).toContain(canary);
    expect(rec.missingFromAudit).toContain(canary);
    expect(rec.missingFromAudit.map((o) => o.voteId).sort()).toEqual(lost.map((o) => o.voteId).sort());
    expect(otherStatus.map((v) => v.status)).toEqual([]);
    expect(notFinal.map((v) => v.body.status)).toEqual([]);
    expect(rec.rejected).toEqual([]);
    // Totals: every surviving 202 is counted once, plus votes no client was told about
    // (none expected: every client retried until it got its 202).
    expect(rec.unknownCounted).toEqual([]);
    const expected: Record<string, number> = {};
    for (const o of accepted) if (!lost.includes(o)) expected[o.optionId] = (expected[o.optionId] ?? 0) + 1;
    for (const opt of OPTIONS) expect(results.totals[opt] ?? 0).toBe(expected[opt] ?? 0);
    // What the system promises (docs/guarantees.md): a 202 is answered only after a
    // replica confirmed the vote (WAIT on the write's own connection), so no 202 is lost
    // when one Redis process dies.
    expect(lostForReal.map((o) => o.voteId)).toEqual([]);
  }, 300000);
});
