import { rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { Cluster } from 'ioredis';
import { repoRoot } from '../../local/stack';
import { parseArgs, render, verifyElection } from '../../local/verify';
import { parseSeeds } from '../../shared/config';
import { createRedisCluster } from '../../shared/redis/client';
import { partitionKeys } from '../../shared/redis/keys';
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

  beforeAll(async () => {
    keyDir = testKeyDir();
    cluster = await TestCluster.start(3);
    offline = await startTestOffline({ JWT_KEY_DIR: keyDir, ...cluster.offlineEnv() });
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
    tags = JSON.parse((await redis.hget(`{el:${electionId}}:meta`, 'tags')) ?? '[]');
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
    const forgedId = await redis.xadd(
      audit,
      '*',
      'vote',
      '1-1',
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
      'at',
      new Date().toISOString(),
    );
    try {
      const v = await verifyElection(parseArgs([electionId, '--url', offline.httpUrl], {}), {
        JWT_KEY_DIR: keyDir,
      });
      expect(v.ok).toBe(false);
      expect(v.report.problems).toEqual(
        expect.arrayContaining([
          `partition ${p}: entry ${forgedId} does not link to the previous hash`,
          `partition ${p}: entry ${forgedId} hash does not match its content`,
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

  test('bad usage exits 2; an unreachable API or a missing key exits 1 with a reason', async () => {
    const none = await verifyCli([], env());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: npm run verify');
    expect(() => parseArgs([electionId, '--receipt'])).toThrow('--receipt needs a value');
    expect(() => parseArgs([electionId, '--bogus'])).toThrow('Unknown option --bogus');
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
