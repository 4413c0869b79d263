import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import Redis, { type Cluster } from 'ioredis';
import { findFreePortRange } from '../../local/ports';
import { type RedisClusterHandle, startRedisCluster } from '../../local/redis-cluster';
import { systemClock } from '../../shared/clock';
import { parseSeeds } from '../../shared/config';
import { partitionOf } from '../../shared/elections/model';
import { ElectionStore } from '../../shared/elections/store';
import { ApiError } from '../../shared/errors';
import { createRedisCluster } from '../../shared/redis/client';
import { partitionKeys } from '../../shared/redis/keys';
import { plainBallot } from '../../shared/votes/ballot';
import { type SubmitElection, submitVote } from '../../shared/votes/submit';
import { decodeVoteLogEntry } from '../../shared/votes/vote-log';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * "A 202 means the vote survives one Redis process failure" (issue 11), on a Redis
 * Cluster of this file's own whose replication runs through TCP proxies: every node
 * announces its proxy's port, so a replica reaches its master only through the master's
 * proxy, while this test's client maps the announced addresses back to the real ports
 * (natMap) and talks to the masters directly. Cutting a master's proxy cuts exactly
 * its replication; the cut stalls the replication connection, so the master still counts
 * the replica as connected (at its last acknowledged offset) and a WAIT covering only
 * older writes is answered at once, as on a replica that is merely slow.
 *
 * Each repetition: replication of one master is cut, votes of voters on that master are
 * submitted through the real submit code path (submitVote, as the function runs it),
 * the master is SIGKILLed and its replica promoted (CLUSTER FAILOVER TAKEOVER: the
 * failover itself, without waiting for the failure detection). Every vote answered 202
 * must then be on the promoted master, with the vote id it was answered with. Half the
 * repetitions heal replication before the kill and retry the refused votes with the same
 * Idempotency-Key: they must get the vote that was stored (same vote, `duplicate`) once
 * a replica has it. Afterwards every refused vote is retried until it gets its 202, as
 * a client does. The killed node is relaunched by the launcher and rejoins as a replica.
 */

const REPETITIONS = 20;
const VOTERS_PER_REP = 3;
const WAIT = { waitReplicas: 1, waitTimeoutMs: 100 };

interface Vote {
  voter: string;
  key: string;
  optionId: string;
  voteId?: string;
  /** Repetition in which the vote got its 202. */
  ackedIn?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function onNode<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

describe('a 202 means the vote is on two Redis processes (replication cut, master killed, replica promoted)', () => {
  let handle: RedisClusterHandle;
  let dataDir: string;
  const proxies = new Map<number, TcpProxy>(); // real port -> its proxy
  const realPortOf = new Map<number, number>(); // announced (proxy) port -> real port
  let redis: Cluster;
  let election: SubmitElection;

  beforeAll(async () => {
    const basePort = await findFreePortRange(6, 10000);
    dataDir = mkdtempSync(join(tmpdir(), 'qv-test-durable-'));
    for (let i = 0; i < 6; i++) {
      const proxy = await TcpProxy.start({ host: '127.0.0.1', port: basePort + i });
      proxies.set(basePort + i, proxy);
      realPortOf.set(proxy.port, basePort + i);
    }
    handle = await startRedisCluster({
      basePort,
      dataDir,
      fresh: true,
      nodeTimeoutMs: 1000,
      relaunch: true,
      extraArgs: (port) => [
        '--cluster-announce-ip',
        '127.0.0.1',
        '--cluster-announce-port',
        String(proxies.get(port)!.port),
        '--cluster-announce-bus-port',
        String(port + 10000),
        '--enable-debug-command',
        'local',
      ],
    });
    const natMap = Object.fromEntries(
      [...realPortOf].map(([announced, real]) => [
        `127.0.0.1:${announced}`,
        { host: '127.0.0.1', port: real },
      ]),
    );
    redis = createRedisCluster(parseSeeds(handle.seeds), { natMap });
    redis.on('error', () => {});
    const store = new ElectionStore(redis, systemClock, 16);
    const created = await store.create({
      title: 'durable 202',
      options: [
        { id: 'a', label: 'A' },
        { id: 'b', label: 'B' },
      ],
      opensAt: null,
      closesAt: null,
      voters: null,
      hideTotalsUntilClosed: false,
    });
    election = await store.open(created.id);
  }, 120000);

  afterAll(async () => {
    redis?.disconnect();
    await handle?.stop();
    await Promise.all([...proxies.values()].map((p) => p.close()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** The real port of the master of every slot range, from the first node that answers. */
  async function slotOwners(): Promise<(slot: number) => number | undefined> {
    for (const port of handle.ports) {
      const slots = await onNode(port, (r) => r.call('CLUSTER', 'SLOTS')).catch(() => undefined);
      if (!Array.isArray(slots)) continue;
      const table = (slots as [number, number, [string, number]][]).map(([from, to, owner]) => ({
        from,
        to,
        port: realPortOf.get(owner[1]) ?? owner[1],
      }));
      return (slot) => table.find((t) => slot >= t.from && slot <= t.to)?.port;
    }
    throw new Error('no Redis node answers CLUSTER SLOTS');
  }

  const slotOfVoter = (voter: string): number =>
    calculateSlot(election.tags[partitionOf(voter, election.partitions, election.partitionSalt)]!);

  /** The master of a voter's partition once it has an online replica (real ports of both). */
  async function layout(voter: string): Promise<{ master: number; replica: number }> {
    return until(
      'a master with an online replica',
      async () => {
        const master = (await slotOwners())(slotOfVoter(voter));
        if (master === undefined) return undefined;
        const repl = await onNode(master, (m) => m.info('replication'));
        if (!/^role:master/m.test(repl)) return undefined;
        const online = /^slave\d+:ip=[^,]*,port=(\d+),state=online/m.exec(repl);
        if (!online) return undefined;
        return { master, replica: realPortOf.get(Number(online[1])) ?? Number(online[1]) };
      },
      30000,
    );
  }

  /** One submission as the function makes it: 202 (vote id) or the ApiError it answers. */
  async function submit(v: Vote): Promise<{ voteId: string; duplicate: boolean } | ApiError> {
    try {
      const r = await submitVote(
        redis,
        systemClock,
        plainBallot,
        election,
        v.voter,
        { optionId: v.optionId },
        v.key,
        WAIT,
      );
      return { voteId: r.voteId, duplicate: r.duplicate };
    } catch (err) {
      if (err instanceof ApiError) return err;
      // A connection error is answered 503 by the HTTP layer: the client retries.
      return new ApiError(503, 'unavailable', (err as Error).message);
    }
  }

  /** Retries a vote (same key) until it gets its 202, as a client honouring Retry-After does. */
  async function retryUntilAccepted(v: Vote, rep: number): Promise<{ voteId: string; duplicate: boolean }> {
    return until(
      `a 202 for ${v.voter}`,
      async () => {
        const r = await submit(v);
        if (r instanceof ApiError) {
          expect([503]).toContain(r.status); // nothing but "retry" is acceptable here
          await sleep(100);
          return undefined;
        }
        if (v.voteId) expect(r.voteId).toBe(v.voteId);
        v.voteId = r.voteId;
        v.ackedIn ??= rep;
        return r;
      },
      30000,
    );
  }

  it(`loses no vote answered 202 across ${REPETITIONS} master kills`, async () => {
    const votes: Vote[] = [];
    const lost: { voter: string; voteId: string; ackedIn: number; rep: number; found: string | null }[] = [];
    let refusedWhileCut = 0;
    let acceptedAfterHeal = 0;
    for (let rep = 0; rep < REPETITIONS; rep++) {
      // Voters whose partition sits on the master of this repetition's first voter.
      const first = `dv-${rep}-0`;
      const { master, replica } = await layout(first);
      const owner = await slotOwners();
      const mine: Vote[] = [];
      for (let i = 0; mine.length < VOTERS_PER_REP; i++) {
        const voter = `dv-${rep}-${i}`;
        if (owner(slotOfVoter(voter)) !== master) continue;
        mine.push({ voter, key: `k-${voter}`, optionId: i % 2 ? 'a' : 'b' });
      }
      votes.push(...mine);

      await proxies.get(master)!.cut({ mode: 'blackhole', existing: 'stall' });
      const answers = await Promise.all(mine.map((v) => submit(v)));
      answers.forEach((a, i) => {
        if (a instanceof ApiError) {
          expect(a.status).toBe(503);
          expect(a.headers?.['Retry-After']).toBeDefined();
          refusedWhileCut++;
        } else {
          mine[i]!.voteId = a.voteId;
          mine[i]!.ackedIn = rep;
        }
      });

      if (rep % 2 === 0) {
        // Heal first: a retry of a stored but unconfirmed vote waits again and gets it.
        await proxies.get(master)!.restore();
        for (const v of mine) {
          if (v.voteId) continue;
          const r = await retryUntilAccepted(v, rep);
          expect(r.duplicate).toBe(true); // the vote stored before, not a new one
          acceptedAfterHeal++;
        }
      }

      // The master dies; its replica takes over at once.
      const idx = handle.ports.indexOf(master);
      const victim = handle.processes[idx]!;
      victim.signal('SIGKILL');
      await victim.exited;
      await onNode(replica, (r) => r.call('CLUSTER', 'FAILOVER', 'TAKEOVER'));
      await until(
        'the replica to act as master',
        () => onNode(replica, async (r) => ((await r.role())[0] === 'master' ? true : undefined)),
        15000,
      );
      await proxies.get(master)!.restore();

      // Every vote answered 202 so far is where its vote id says, on whoever is master now.
      for (const v of votes.filter((x) => x.voteId)) {
        const k = partitionKeys(
          election.tags[partitionOf(v.voter, election.partitions, election.partitionSalt)]!,
        );
        const found = await until(
          'the voter record',
          async () => {
            const rec = await redis.hget(k.voters, v.voter);
            return { rec };
          },
          15000,
        );
        const sid = found.rec?.split('|')[0] ?? null;
        if (!found.rec || !v.voteId!.endsWith(`.${sid}`)) {
          lost.push({ voter: v.voter, voteId: v.voteId!, ackedIn: v.ackedIn!, rep, found: found.rec });
        }
      }
      // Refused votes: the client retries with the same key until it is safe.
      for (const v of mine.filter((x) => !x.voteId)) await retryUntilAccepted(v, rep);
      // The launcher brought the killed node back; it rejoined as a replica.
      await until(
        'the killed node relaunched',
        async () => (handle.processes[idx] !== victim ? true : undefined),
        10000,
      );
      await layout(first);
    }
    process.stdout.write(
      `\n[durable-ack] ${REPETITIONS} kills, ${votes.length} votes, ${refusedWhileCut} refused while replication was cut, ` +
        `${acceptedAfterHeal} accepted on retry after healing, ${handle.relaunches} relaunches, lost: ${JSON.stringify(lost)}\n`,
    );
    expect(lost).toEqual([]);
    expect(votes.every((v) => v.voteId)).toBe(true);
    expect(refusedWhileCut).toBeGreaterThan(0);
    expect(handle.relaunches).toBeGreaterThanOrEqual(REPETITIONS);
  }, 300000);

  it('sends its WAIT after the write that a NOSCRIPT answer made it retry, not before', async () => {
    const warm: Vote = { voter: 'ns-warm', key: 'k-ns-warm', optionId: 'a' };
    await retryUntilAccepted(warm, -1); // this connection's last write is on the replica
    const { master } = await layout(warm.voter);
    const owner = await slotOwners();
    let i = 0;
    while (owner(slotOfVoter(`ns-${i}`)) !== master) i++;
    const v: Vote = { voter: `ns-${i}`, key: `k-ns-${i}`, optionId: 'b' };
    await proxies.get(master)!.cut({ mode: 'blackhole', existing: 'stall' });
    try {
      // The master forgets the script: EVALSHA is answered NOSCRIPT, the vote is written
      // by the EVAL that follows. A WAIT sent with the EVALSHA would cover nothing new
      // and find the replica "up to date".
      // DEBUG SLEEP holds the master while both the EVALSHA and whatever the submit sends
      // next are queued: a WAIT sent without waiting for the write's answer runs before
      // the EVAL, however fast loopback is.
      await onNode(master, (r) => r.call('SCRIPT', 'FLUSH'));
      const sleeper = new Redis({ port: master, host: '127.0.0.1', maxRetriesPerRequest: 0 });
      sleeper.on('error', () => {});
      const slept = sleeper.call('DEBUG', 'SLEEP', '0.3').finally(() => sleeper.disconnect());
      await sleep(50);
      const r = await submit(v);
      await slept;
      expect(r).toBeInstanceOf(ApiError);
      expect((r as ApiError).status).toBe(503);
    } finally {
      await proxies.get(master)!.restore();
    }
    // Once the replica has it, the retry gets the stored vote.
    expect((await retryUntilAccepted(v, -1)).duplicate).toBe(true);
  }, 60000);

  it('follows a MOVED (manual failover) to the new master and waits there', async () => {
    const warm: Vote = { voter: 'mv-warm', key: 'k-mv-warm', optionId: 'a' };
    await retryUntilAccepted(warm, -1); // the client now maps this slot to its master
    const { master, replica } = await layout(warm.voter);
    // Graceful: the old master becomes a replica. Redis gives a manual failover 5 s to
    // complete and drops it silently when it does not (a loaded machine): ask again then.
    let askedAt = 0;
    await until(
      'the old master to follow the new one',
      async () => {
        if ((await layout(warm.voter)).master === replica) return true;
        if (Date.now() - askedAt > 6000) {
          askedAt = Date.now();
          await onNode(replica, (r) => r.call('CLUSTER', 'FAILOVER'));
        }
        return undefined;
      },
      30000,
    );
    // The client's map still names the old master, which answers MOVED: the vote is
    // written on the new master and its WAIT sent there, after the write.
    const owner = await slotOwners();
    let i = 0;
    while (owner(slotOfVoter(`mv-${i}`)) !== replica) i++;
    const v: Vote = { voter: `mv-${i}`, key: `k-mv-${i}`, optionId: 'b' };
    // (A 503 is allowed: under load the slot map re-read after MOVED may still be stale.)
    const r = await retryUntilAccepted(v, -1);
    const k = partitionKeys(
      election.tags[partitionOf(v.voter, election.partitions, election.partitionSalt)]!,
    );
    const rec = await onNode(replica, (n) => n.hget(k.voters, v.voter));
    expect(r.voteId.endsWith(`.${rec?.split('|')[0]}`)).toBe(true);
    // And with the new master's replication stalled, the same path answers 503.
    const w: Vote = { voter: `mv-${i}-b`, key: `k-mv-${i}-b`, optionId: 'a' };
    while (owner(slotOfVoter(w.voter)) !== replica) w.voter += 'x';
    w.key = `k-${w.voter}`;
    await proxies.get(replica)!.cut({ mode: 'blackhole', existing: 'stall' });
    try {
      const refused = await submit(w);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).status).toBe(503);
    } finally {
      await proxies.get(replica)!.restore();
    }
    expect((await retryUntilAccepted(w, -1)).duplicate).toBe(true);
    expect(master).not.toBe(replica);
  }, 60000);

  it('refuses an Idempotency-Key reused with another choice (422), and changes nothing', async () => {
    const v: Vote = { voter: 'reuse-1', key: 'k-reuse-1', optionId: 'a' };
    const first = await retryUntilAccepted(v, -1);
    const other = await submit({ ...v, optionId: 'b' });
    expect(other).toBeInstanceOf(ApiError);
    expect((other as ApiError).status).toBe(422);
    expect((other as ApiError).code).toBe('idempotency_key_reused');
    const again = await retryUntilAccepted(v, -1);
    expect(again).toEqual({ voteId: first.voteId, duplicate: true });
    const k = partitionKeys(
      election.tags[partitionOf(v.voter, election.partitions, election.partitionSalt)]!,
    );
    const log = (await redis.xrange(k.votes, '-', '+')).map(([, f]) => decodeVoteLogEntry(f));
    expect(log.filter((e) => e.voter === v.voter).map((e) => e.option)).toEqual(['a']);
  }, 60000);
});
