import { spawn } from 'node:child_process';
import { WebSocket } from 'ws';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { repoRoot } from '../../local/stack';
import { parseArgs, render, verifyElection } from '../../local/verify';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { electionKeys, partitionKeys } from '../../shared/redis/keys';
import { entryHash, genesisHash } from '../../shared/votes/audit-chain';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';

/**
 * The audit verifier from the command line (`npm run verify -- <electionId>`), against
 * a real stack: it fetches the log and the results over HTTP, verifies the chain, the
 * totals and receipts, prints a report and exits 0 — and exits 1 as soon as the stored
 * tally or the log is tampered with, or a receipt is not in the log.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run verify -- ...args` as a user would. */
function verifyCli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'verify', '--', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run verify: the audit verifier CLI', () => {
  let cluster: TestCluster;
  let offline: TestOffline;
  let api: Api;
  let keyDir: string;
  let redis: Cluster;
  let electionId: string;
  let tags: string[];
  const receipts: string[] = [];
  const accepted: { receipt: string; receiptNonce: string; ballotId: string }[] = [];

  beforeAll(async () => {
    keyDir = testKeyDir();
    // serverless-offline first: the coordinators invoke its broadcast function (tally events).
    const prefix = `vf${Math.random().toString(36).slice(2, 6)}`;
    const members = [1, 2, 3].map((i) => `${prefix}-c${i}`);
    offline = await startTestOffline({
      JWT_KEY_DIR: keyDir,
      CLUSTER_NAME: prefix,
      COORDINATORS: members.join(','),
    });
    cluster = new TestCluster(members, { LAMBDA_ENDPOINT: offline.lambdaUrl }, undefined, prefix);
    await Promise.all(members.map((id) => cluster.startNode(id)));
    api = makeApi(offline.httpUrl, keyDir);
    redis = createRedisCluster(parseSeeds(cluster.redisSeeds));
    const admin = await api.token('admin-verify', 'admin');
    const created = await api.call('POST', '/elections', {
      token: admin,
      body: {
        title: 'Verify me',
        options: [
          { id: 'yes', label: 'Yes' },
          { id: 'no', label: 'No' },
        ],
      },
    });
    expect(created.status).toBe(201);
    electionId = created.body.id;
    expect((await api.call('POST', `/elections/${electionId}/open`, { token: admin })).status).toBe(200);
    for (let i = 0; i < 12; i++) {
      const voter = await api.token(`verify-voter-${electionId}-${i}`, 'voter');
      const r = await api.call('POST', `/elections/${electionId}/votes`, {
        token: voter,
        body: { optionId: i % 3 ? 'yes' : 'no' },
      });
      expect(r.status).toBe(202);
      receipts.push(r.body.receipt);
      accepted.push(r.body);
    }
    await eventually(
      async () => {
        const r = await api.call('GET', `/elections/${electionId}/results`, { token: admin });
        return r.body.finalized === 12 && r.body.pending === 0;
      },
      30000,
      'the 12 votes finalized',
    );
    expect((await api.call('POST', `/elections/${electionId}/close`, { token: admin })).status).toBe(200);
    tags = JSON.parse((await redis.hget(electionKeys(electionId).meta, 'tags')) ?? '[]');
  }, 120000);

  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([offline?.stop(), cluster?.stop()]);
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  const env = () => ({ JWT_KEY_DIR: keyDir });

  test('verifies a counted election and finds the receipts: exit 0', async () => {
    const run = await verifyCli(
      [electionId, '--url', offline.httpUrl, '--receipt', receipts[0]!, '--receipt', receipts[5]!],
      env(),
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Election ${electionId} "Verify me" (closed)`);
    expect(run.stdout).toContain('12 entries');
    expect(run.stdout).toContain('Hash chain: every link verifies');
    expect(run.stdout).toContain('Chain heads: the log extends the 16 published heads');
    expect(run.stdout).toMatch(/yes\s+8\s+8/);
    expect(run.stdout).toMatch(/no\s+4\s+4/);
    expect(run.stdout).toContain(`Receipt ${receipts[0]}: counted`);
    expect(run.stdout).toContain('The result is final.');
    expect(run.stdout).toContain('VERIFIED');
  }, 90000);

  test('--json gives the machine-readable report', async () => {
    const run = await verifyCli([electionId, '--url', offline.httpUrl, '--json'], env());
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({
      ok: true,
      electionId,
      electionStatus: 'closed',
      stable: true,
      report: { ok: true, entries: 12, counted: 12, rejected: 0, totals: { yes: 8, no: 4 }, problems: [] },
      published: { totals: { yes: 8, no: 4 }, finalized: 12, final: true },
    });
  }, 90000);

  test('a receipt that is not in the log: exit 1 in-process report', async () => {
    const v = await verifyElection(
      parseArgs([electionId, '--url', offline.httpUrl, '--receipt', 'f'.repeat(64)], {}),
      { JWT_KEY_DIR: keyDir },
    );
    expect(v.ok).toBe(false);
    expect(v.report.receipts['f'.repeat(64)]).toBe('missing');
    expect(render(v)).toContain('NOT in the audit log');
  });

  test('a tampered tally: the totals do not match the log, exit 1', async () => {
    // Find a partition holding a "yes" vote and add one "yes" behind the pipeline's back.
    const p = (
      await Promise.all(
        tags.map(async (t, i) => ((await redis.hget(partitionKeys(t).tally, 'yes')) ? i : -1)),
      )
    ).find((i) => i >= 0)!;
    const tally = partitionKeys(tags[p]!).tally;
    await redis.hincrby(tally, 'yes', 1);
    try {
      const run = await verifyCli([electionId, '--url', offline.httpUrl], env());
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/yes\s+8\s+9\s+MISMATCH/);
      expect(run.stdout).toContain('option yes: audit log counts 8, results say 9');
      expect(run.stdout).toContain('NOT VERIFIED');
    } finally {
      await redis.hincrby(tally, 'yes', -1);
    }
  }, 90000);

  test('a forged audit entry breaks the chain, exit 1', async () => {
    const p = (
      await Promise.all(tags.map(async (t, i) => ((await redis.xlen(partitionKeys(t).audit)) ? i : -1)))
    ).find((i) => i >= 0)!;
    const audit = partitionKeys(tags[p]!).audit;
    const seq = (await redis.xlen(audit)) + 1;
    const forgedId = await redis.xadd(
      audit,
      '*',
      'seq',
      String(seq),
      'ballot',
      'f'.repeat(32),
      'receipt',
      'forged',
      'option',
      'no',
      'outcome',
      'counted',
      'reason',
      '',
      'prev',
      '0'.repeat(64),
      'hash',
      '1'.repeat(64),
    );
    try {
      const v = await verifyElection(parseArgs([electionId, '--url', offline.httpUrl], {}), {
        JWT_KEY_DIR: keyDir,
      });
      expect(v.ok).toBe(false);
      expect(v.report.problems).toEqual(
        expect.arrayContaining([
          `partition ${p} entry ${seq} does not link to the previous hash`,
          `partition ${p} entry ${seq}: hash does not match its content`,
        ]),
      );
    } finally {
      await redis.xdel(audit, forgedId!);
    }
    // Restored: verifies again.
    expect(
      (await verifyElection(parseArgs([electionId, '--url', offline.httpUrl], {}), { JWT_KEY_DIR: keyDir }))
        .ok,
    ).toBe(true);
  });

  /** A partition's raw audit rows ([id, fields as a record]). */
  async function auditRows(p: number): Promise<[string, Record<string, string>][]> {
    const rows = await redis.xrange(partitionKeys(tags[p]!).audit, '-', '+');
    return rows.map(([id, f]) => {
      const rec: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) rec[f[i]!] = f[i + 1]!;
      return [id, rec];
    });
  }

  /** Replaces a partition's audit rows (same ids, new fields). */
  async function writeRows(p: number, rows: [string, Record<string, string>][]): Promise<void> {
    const key = partitionKeys(tags[p]!).audit;
    await redis.del(key);
    for (const [id, f] of rows) await redis.xadd(key, id, ...Object.entries(f).flat());
  }

  /** The first partition holding `n` or more entries, one of them a counted "no". */
  async function partitionWithNo(): Promise<number> {
    for (let p = 0; p < tags.length; p++) {
      if ((await auditRows(p)).some(([, f]) => f['option'] === 'no')) return p;
    }
    throw new Error('no partition holds a "no"');
  }

  test('an entry deleted from, or two entries swapped in, a partition log in Redis are named', async () => {
    // The log as the API serves it keeps the gap and the order Redis holds: the verifier sees them.
    let p = -1;
    for (let i = 0; i < tags.length && p < 0; i++) if ((await auditRows(i)).length >= 2) p = i;
    expect(p).toBeGreaterThanOrEqual(0);
    const original = await auditRows(p);
    const n = original.length;
    const verify = async () =>
      (await verifyElection(parseArgs([electionId, '--url', offline.httpUrl], {}), { JWT_KEY_DIR: keyDir }))
        .report.problems;
    try {
      await writeRows(p, original.slice(1));
      expect(await verify()).toEqual(
        expect.arrayContaining([
          `partition ${p} entry 2: sequence number 2 where 1 comes next`,
          `partition ${p} entry 2 does not link to the previous hash`,
          `partition ${p}: the published chain head covers ${n} entries, the audit log has ${n - 1}`,
        ]),
      );
      // The first two entries' contents swapped (stream ids kept, so the order is the forged one).
      const swapped = original.map(([id], i): [string, Record<string, string>] => [
        id,
        original[i === 0 ? 1 : i === 1 ? 0 : i]![1],
      ]);
      await writeRows(p, swapped);
      expect(await verify()).toEqual(
        expect.arrayContaining([
          `partition ${p} entry 2: sequence number 2 where 1 comes next`,
          `partition ${p} entry 1: sequence number 1 where 2 comes next`,
          `partition ${p} entry 1 does not link to the previous hash`,
        ]),
      );
    } finally {
      await writeRows(p, original);
    }
    expect(await verify()).toEqual([]);
  }, 60000);

  test('a consistently rewritten partition log is caught by the published chain heads', async () => {
    const saved = join(keyDir, 'results-before.json');
    const results = await api.call('GET', `/elections/${electionId}/results`, {
      token: await api.token('saver', 'auditor'),
    });
    expect(Object.keys(results.body.chainHeads)).toHaveLength(16);
    writeFileSync(saved, JSON.stringify(results.body));
    // The leader recorded the final heads with the election when it retired it.
    const record = await eventually(
      async () => {
        const r = await api.call('GET', `/elections/${electionId}`, {
          token: await api.token('saver', 'auditor'),
        });
        return r.body.finalChainHeads ? r.body : null;
      },
      30000,
      'the final chain heads recorded with the election',
    );
    expect(record.finalChainHeads).toEqual(results.body.chainHeads);
    const p = await partitionWithNo();
    const k = partitionKeys(tags[p]!);
    const original = await auditRows(p);
    const head = await redis.hget(k.stats, 'head');
    // Turn the first "no" into "yes", recompute every hash after it, and make the tally
    // agree: every link and every total checks out.
    let prev = genesisHash(electionId, p);
    const forged = original.map(([id, f], i): [string, Record<string, string>] => {
      const option =
        f['option'] === 'no' && !original.slice(0, i).some(([, g]) => g['option'] === 'no')
          ? 'yes'
          : f['option']!;
      const content = {
        ballotId: f['ballot']!,
        receipt: f['receipt']!,
        option,
        outcome: 'counted' as const,
        reason: '',
      };
      const hash = entryHash(prev, electionId, p, i + 1, content);
      const row: [string, Record<string, string>] = [id, { ...f, option, prev, hash }];
      prev = hash;
      return row;
    });
    try {
      await writeRows(p, forged);
      await redis.hincrby(k.tally, 'no', -1);
      await redis.hincrby(k.tally, 'yes', 1);
      const run = await verifyCli([electionId, '--url', offline.httpUrl], env());
      expect(run.code).toBe(1);
      // Caught twice: by the results' heads and by the final heads recorded with the election.
      expect(run.stdout).toContain('Hash chain: 2 broken');
      expect(run.stdout).toContain(`the saved chain head is ${head}`);
      expect(run.stdout).toMatch(
        new RegExp(
          `partition ${p}: entry ${original.length} hashes to [0-9a-f]{64}, the published chain head is ${head}`,
        ),
      );
      // Who can write Redis can also republish the head: the final heads recorded with the
      // election, and heads saved earlier, still catch it.
      await redis.hset(k.stats, 'head', prev);
      const current = await verifyCli([electionId, '--url', offline.httpUrl], env());
      expect(current.code).toBe(1);
      expect(current.stdout).toContain(`the saved chain head is ${head}`);
      await redis.hdel(electionKeys(electionId).meta, 'finalChainHeads');
      const unrecorded = await verifyCli([electionId, '--url', offline.httpUrl], env());
      expect(unrecorded.stdout).toContain('Hash chain: every link verifies');
      const withSaved = await verifyCli([electionId, '--url', offline.httpUrl, '--heads', saved], env());
      expect(withSaved.code).toBe(1);
      expect(withSaved.stdout).toContain(`the saved chain head is ${head}`);
    } finally {
      await redis.hset(
        electionKeys(electionId).meta,
        'finalChainHeads',
        JSON.stringify(record.finalChainHeads),
      );
      await writeRows(p, original);
      await redis.hincrby(k.tally, 'no', 1);
      await redis.hincrby(k.tally, 'yes', -1);
      await redis.hset(k.stats, 'head', head!);
    }
    expect((await verifyCli([electionId, '--url', offline.httpUrl, '--heads', saved], env())).code).toBe(0);
  }, 120000);

  test('two entries carrying one receipt are flagged, even when chain, heads and totals agree', async () => {
    // A server that showed two voters the same receipt and counted it twice, consistently.
    const p = await partitionWithNo();
    const k = partitionKeys(tags[p]!);
    const rows = await auditRows(p);
    const [lastId, last] = rows[rows.length - 1]!;
    const copied = rows.find(([, f]) => f['option'] === 'no')![1];
    const seq = rows.length + 1;
    const content = {
      ballotId: 'e'.repeat(32),
      receipt: copied['receipt']!,
      option: 'no',
      outcome: 'counted' as const,
      reason: '',
    };
    const hash = entryHash(last['hash']!, electionId, p, seq, content);
    const id = `${lastId.split('-')[0]}-${Number(lastId.split('-')[1]) + 1}`;
    const stats = await redis.hgetall(k.stats);
    const row: Record<string, string> = {
      seq: String(seq),
      ballot: content.ballotId,
      receipt: content.receipt,
      option: 'no',
      outcome: 'counted',
      reason: '',
      prev: last['hash']!,
      hash,
    };
    await writeRows(p, [...rows, [id, row]]);
    await redis.hincrby(k.tally, 'no', 1);
    await redis.hset(k.stats, 'finalized', Number(stats['finalized']) + 1, 'entries', seq, 'head', hash);
    try {
      const run = await verifyCli([electionId, '--url', offline.httpUrl], env());
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`receipt ${copied['receipt']} is carried by 2 entries`);
      expect(run.stdout).not.toContain('MISMATCH');
    } finally {
      await writeRows(p, rows);
      await redis.hincrby(k.tally, 'no', -1);
      await redis.hset(k.stats, stats);
    }
  }, 90000);

  test('a receipt with its nonce checks that the entry carrying it is the ballot it commits to', async () => {
    const { receipt, receiptNonce } = accepted[0]!;
    const run = await verifyCli(
      [electionId, '--url', offline.httpUrl, '--receipt', `${receipt}:${receiptNonce}`],
      env(),
    );
    expect(run.code).toBe(0);
    const wrong = await verifyCli(
      [electionId, '--url', offline.httpUrl, '--receipt', `${receipt}:${'0'.repeat(32)}`],
      env(),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(`receipt ${receipt} does not commit to the entry that carries it`);
  }, 90000);

  test('hidden totals are hidden everywhere until close: audit, per-vote reads, tally events, verifier', async () => {
    const admin = await api.token('admin-verify', 'admin');
    const auditor = await api.token('auditor-hidden', 'auditor');
    const created = await api.call('POST', '/elections', {
      token: admin,
      body: {
        title: 'Hidden',
        options: [
          { id: 'red', label: 'Red' },
          { id: 'blue', label: 'Blue' },
        ],
        hideTotalsUntilClosed: true,
      },
    });
    const id = created.body.id as string;
    expect(created.body).not.toHaveProperty('partitionSalt');
    expect((await api.call('POST', `/elections/${id}/open`, { token: admin })).status).toBe(200);
    // A live subscriber of the election: its tally.updated events must not tell either.
    const tallies: { data: Record<string, unknown> }[] = [];
    let subscribed = false;
    const ws = new WebSocket(`${offline.wsUrl}?token=${encodeURIComponent(auditor)}`);
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw));
      if (m.type === 'tally.updated') tallies.push(m);
      if (m.type === 'subscribed') subscribed = true;
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ action: 'subscribe', topic: `election:${id}` }));
    await eventually(async () => subscribed, 10000, 'the subscription');
    const cast: { token: string; voteId: string; option: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const token = await api.token(`hidden-voter-${id}-${i}`, 'voter');
      const option = i === 0 ? 'red' : 'blue';
      const r = await api.call('POST', `/elections/${id}/votes`, { token, body: { optionId: option } });
      expect(r.status).toBe(202);
      cast.push({ token, voteId: r.body.voteId, option });
    }
    await eventually(
      async () =>
        (await api.call('GET', `/elections/${id}/results`, { token: auditor })).body.finalized === 3,
      30000,
      'the 3 hidden votes finalized',
    );
    for (const token of [auditor, admin]) {
      const audit = await api.call('GET', `/elections/${id}/audit?limit=1000`, { token });
      expect(audit.status).toBe(200);
      expect(audit.body).toMatchObject({ entries: [], nextCursor: null, hidden: true });
      const results = await api.call('GET', `/elections/${id}/results`, { token });
      expect(results.body).toMatchObject({ totals: {}, hidden: true });
      expect(results.body).not.toHaveProperty('chainHeads');
      const view = await api.call('GET', `/votes/${cast[0]!.voteId}`, { token });
      expect(view.status).toBe(200);
      expect(view.body).not.toHaveProperty('optionId');
      expect(JSON.stringify([audit.body, results.body, view.body])).not.toMatch(/red|blue/);
    }
    await eventually(
      async () => tallies.some((t) => t.data['finalized'] === 3),
      30000,
      'a tally with the 3 votes',
    );
    expect(tallies.map((t) => [t.data['totals'], t.data['hidden'], t.data['chainHeads']])).toEqual(
      tallies.map(() => [{}, true, undefined]),
    );
    expect(JSON.stringify(tallies)).not.toMatch(/red|blue/);
    const own = await api.call('GET', `/votes/${cast[0]!.voteId}`, { token: cast[0]!.token });
    expect(own.body.optionId).toBe('red');
    const early = await verifyCli([id, '--url', offline.httpUrl], env());
    expect(early.code).toBe(1);
    expect(early.stdout).toContain('hidden by the election until it closes');

    expect((await api.call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    const audit = await api.call('GET', `/elections/${id}/audit?limit=1000`, { token: auditor });
    expect(audit.body.entries.map((e: { option: string }) => e.option).sort()).toEqual([
      'blue',
      'blue',
      'red',
    ]);
    // After close the tally is public, with the chain heads.
    const final = await eventually(
      async () => tallies.find((t) => t.data['status'] === 'closed'),
      30000,
      'a tally after close',
    );
    expect(final.data['totals']).toEqual({ red: 1, blue: 2 });
    expect(Object.keys(final.data['chainHeads'] as object)).toHaveLength(16);
    ws.close();
    const run = await verifyCli([id, '--url', offline.httpUrl], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Chain heads: the log extends the 16 published heads');
  }, 120000);

  test('bad usage exits 2; an unreachable API or a missing key exits 1 with a reason', async () => {
    const none = await verifyCli([], env());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: npm run verify');
    expect(() => parseArgs([electionId, '--receipt'])).toThrow('--receipt needs a value');
    expect(() => parseArgs([electionId, '--bogus'])).toThrow("Unknown option '--bogus'");
    const down = await verifyCli([electionId, '--url', 'http://127.0.0.1:9', '--token', 'x.y.z'], env());
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('NOT VERIFIED: Cannot reach');
    await expect(
      verifyElection(parseArgs([electionId, '--url', offline.httpUrl], {}), {
        JWT_KEY_DIR: '/nonexistent-qv-keys',
      }),
    ).rejects.toThrow('no local signing key');
    await expect(
      verifyElection(parseArgs([electionId, '--url', offline.httpUrl, '--token', 'x.y.z'], {}), {}),
    ).rejects.toThrow('401 unauthorized');
  }, 90000);
});
