import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { repoRoot } from '../../local/stack';
import { parseSeeds } from '../../shared/config';
import {
  type Ballot,
  ballotMessage,
  decodePoint,
  defaultGroup,
  encodePoint,
  fromHex,
  generateVoterKey,
  signMessage,
  toHex,
  verifyRecord,
} from '../../shared/ballots';
import { computeTracker } from '../../shared/ballots/tracker';
import type { Election } from '../../shared/elections/model';
import { createRedisCluster } from '../../shared/redis/client';
import { electionKeys, partitionKeys, secretElectionKeys } from '../../shared/redis/keys';
import { type ApiCall, retrying } from '../../shared/secret/api-call';
import type { SecretAuditEntry } from '../../shared/secret/audit-entry';
import { secretEntryHash } from '../../coordinator/pipeline/secret-batch';
import { genesisHash } from '../../shared/votes/audit-chain';
import {
  type TrusteeKeys,
  ceremonyStep,
  decryptAndPost,
  newTrusteeKeys,
} from '../../shared/secret/trustee-client';
import { castBallot, challengeBallot, makeBallot } from '../../shared/secret/voter-client';
import { type Api, fetchFresh, makeApi, testKeyDir } from '../helpers/api';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';
import { mapLimit } from '../helpers/voters';

/**
 * A secret-ballot election end to end through the real stack (Redis Cluster,
 * coordinators validating by majority, serverless-offline): 5 trustees and k = 3 run
 * the ceremony over HTTP (trustee 1 with `npm run trustee`), 200 voters cast encrypted
 * ballots over HTTP (10 challenge one first), a forged-proof ballot is rejected with its reason,
 * 2 trustees never decrypt, 3 shares publish the totals the test chose, the record
 * verifies with `npm run verify`, and one altered ballot, tally or share in Redis makes
 * it fail, naming the entry.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const OPTIONS = [
  { id: 'red', label: 'Red' },
  { id: 'green', label: 'Green' },
  { id: 'blue', label: 'Blue' },
];
const VOTERS = 200;
/** Voters who challenge (spoil) a ballot before casting: every 20th. */
const challenges = (i: number) => i % 20 === 0;
const CHALLENGERS = Array.from({ length: VOTERS }, (_, i) => i).filter(challenges).length;
const choiceOf = (i: number) => [i % 3 === 0 ? 1 : 0, i % 3 === 1 ? 1 : 0, i % 3 === 2 ? 1 : 0];

describe('secret ballots end to end', () => {
  let cluster: TestCluster;
  let offline: TestOffline;
  let api: Api;
  let keyDir: string;
  let workDir: string;
  let redis: Cluster;
  let admin: string;
  let electionId: string;
  let election: Election;
  const trusteeIds: string[] = [];
  const trusteeTokens: string[] = [];
  const trusteeKeys: TrusteeKeys[] = [];
  let keyFile1: string;
  let badVoteId = '';

  const as =
    (token: string): ApiCall =>
    (method, path, body, headers) =>
      api.call(method, path, {
        token,
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      });

  const getElection = async (): Promise<Election> =>
    (await api.call('GET', `/elections/${electionId}`, { token: admin })).body as Election;

  beforeAll(async () => {
    keyDir = testKeyDir();
    workDir = mkdtempSync(join(tmpdir(), 'qv-secret-'));
    const prefix = `sb${Math.random().toString(36).slice(2, 6)}`;
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
    admin = await api.token(`${prefix}-admin`, 'admin');
    for (let i = 1; i <= 5; i++) {
      trusteeIds.push(`${prefix}-trustee-${i}`);
      trusteeTokens.push(await api.token(`${prefix}-trustee-${i}`, 'trustee'));
    }
  }, 120000);

  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([offline?.stop(), cluster?.stop()]);
    for (const d of [keyDir, workDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('bad election bodies are refused with 400 and create nothing', async () => {
    const base = { title: 'Bad', options: OPTIONS };
    for (const [body, field] of [
      [{ ...base, ballot: 'secret', trustees: trusteeIds, threshold: 6 }, 'threshold'],
      [{ ...base, ballot: 'secret', trustees: [], threshold: 1 }, 'trustees'],
      [{ ...base, ballot: 'secret', trustees: [trusteeIds[0], trusteeIds[0]], threshold: 1 }, 'trustees'],
      [{ ...base, ballot: 'sealed' }, 'ballot'],
      [{ ...base, threshold: 2 }, undefined],
      [{ ...base, ballot: 'secret', trustees: trusteeIds, threshold: 3, maxSelections: 4 }, 'maxSelections'],
    ] as const) {
      const before = await api.call('GET', '/elections', { token: admin });
      const r = await api.call('POST', '/elections', { token: admin, body });
      expect({ status: r.status, code: r.body.error?.code }).toEqual({
        status: 400,
        code: 'invalid_request',
      });
      if (field) expect(r.body.error.details?.field).toBe(field);
      const after = await api.call('GET', '/elections', { token: admin });
      expect(after.body.elections.length).toBe(before.body.elections.length);
    }
  });

  test('the key ceremony over HTTP: checked commitments, sealed shares, finish; no opening before it', async () => {
    const created = await api.call('POST', '/elections', {
      token: admin,
      body: { title: 'Colour', options: OPTIONS, ballot: 'secret', trustees: trusteeIds, threshold: 3 },
    });
    expect(created.status).toBe(201);
    electionId = created.body.id;
    expect(created.body).toMatchObject({
      ballot: 'secret',
      threshold: 3,
      minSelections: 1,
      maxSelections: 1,
      ceremony: 'commitments',
      jointKey: null,
      electionHash: null,
      trustees: trusteeIds.map((id, i) => ({ index: i + 1, id })),
    });
    election = created.body;
    const early = await api.call('POST', `/elections/${electionId}/open`, { token: admin });
    expect({ status: early.status, code: early.body.error?.code }).toEqual({
      status: 409,
      code: 'ceremony_not_done',
    });

    for (let i = 2; i <= 5; i++) trusteeKeys[i] = newTrusteeKeys(election, i);
    // A voter is not a trustee; a trustee of another index cannot act as this one.
    const voter = await api.token('not-a-trustee', 'voter');
    expect((await as(voter)('POST', `/elections/${electionId}/ceremony/commitments`, {})).status).toBe(403);
    const outsider = await api.token('someone-else', 'trustee');
    const r403 = await as(outsider)('POST', `/elections/${electionId}/ceremony/commitments`, {});
    expect({ status: r403.status, code: r403.body.error?.code }).toEqual({
      status: 403,
      code: 'not_a_trustee',
    });
    // A proof of knowledge that does not verify: 422 naming the coefficient, nothing stored.
    const k2 = trusteeKeys[2]!;
    const badProofs = k2.commitment.proofs.map((p, m) =>
      m === 1 ? { c: p.c, v: k2.commitment.proofs[0]!.v } : p,
    );
    const bad = await as(trusteeTokens[1]!)('POST', `/elections/${electionId}/ceremony/commitments`, {
      coefficients: k2.commitment.coefficients,
      proofs: badProofs,
      transportKey: k2.transport.publicKey,
    });
    expect({ status: bad.status, code: bad.body.error?.code, details: bad.body.error?.details }).toEqual({
      status: 422,
      code: 'bad_commitment_proof',
      details: { coefficient: 1 },
    });
    const view0 = (await api.call('GET', `/elections/${electionId}/ceremony`, { token: admin })).body;
    expect(view0.trustees.every((t: { committed: boolean }) => !t.committed)).toBe(true);

    // Trustee 2 commits; shares before every commitment is in are refused (409).
    expect(await ceremonyStep(as(trusteeTokens[1]!), election, k2)).toBe('wait for every commitment');
    const tooEarly = await as(trusteeTokens[1]!)('POST', `/elections/${electionId}/ceremony/shares`, {
      shares: [],
    });
    expect({ status: tooEarly.status, code: tooEarly.body.error?.code }).toEqual({
      status: 409,
      code: 'ceremony_phase',
    });

    // Trustee 1 runs the real CLI (keys in a 0600 file); 2..5 run the same client in-process.
    keyFile1 = join(workDir, 'trustee-1.json');
    const cli = npmRun(
      'trustee',
      [
        'ceremony',
        '--election',
        electionId,
        '--key-file',
        keyFile1,
        '--url',
        offline.httpUrl,
        '--token',
        trusteeTokens[0]!,
      ],
      {},
      180000,
    );
    await eventually(
      async () => {
        const left = await Promise.all(
          [2, 3, 4, 5].map((i) => ceremonyStep(as(trusteeTokens[i - 1]!), election, trusteeKeys[i]!)),
        );
        const view = (await api.call('GET', `/elections/${electionId}/ceremony`, { token: admin })).body;
        const ready =
          left.every((l) => l === 'wait for the admin to finish') &&
          view.trustees.every((t: { acknowledged: boolean }) => t.acknowledged);
        if (!ready) await new Promise((r) => setTimeout(r, 500)); // one step a half second
        return ready;
      },
      90000,
      'every trustee dealt and acknowledged',
    );
    const finished = await api.call('POST', `/elections/${electionId}/ceremony/finish`, { token: admin });
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({ state: 'done', qualified: [1, 2, 3, 4, 5], decided: [] });
    const run = await cli;
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Ceremony done');
    expect(statSync(keyFile1).mode & 0o777).toBe(0o600);
    election = await getElection();
    expect(election.jointKey).toMatch(/^[0-9a-f]{64}$/);
    expect(election.electionHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await api.call('POST', `/elections/${electionId}/open`, { token: admin })).status).toBe(200);
    election = await getElection();
  }, 240000);

  const expected = [0, 0, 0];
  /** The tracking code `npm run voter` printed for the voter who cast with it. */
  let cliTracker = '';

  test('voters cast encrypted ballots; challenges, mismatched keys and bad ballots are refused or rejected', async () => {
    const cast: (() => Promise<void>)[] = [];
    for (let i = 0; i < VOTERS; i++) {
      const token = await api.token(`voter-${electionId}-${i}`, 'voter');
      const call = as(token);
      const key = generateVoterKey();
      const selections = choiceOf(i);
      for (const [l, s] of selections.entries()) expected[l]! += s;
      cast.push(async () => {
        if (challenges(i)) {
          // Benaloh: challenge one ballot (published with its opening, never counted), then cast a fresh one.
          const challenged = makeBallot(election, choiceOf(i + 1), key.secretKey);
          await challengeBallot(call, election, challenged.ballot, challenged.opening);
          const again = await call('POST', `/elections/${electionId}/votes`, { ballot: challenged.ballot });
          expect({ status: again.status, code: again.body.error?.code }).toEqual({
            status: 409,
            code: 'ballot_spoiled',
          });
        }
        if (i === 3) {
          // A key registered first; a ballot under another key is refused, nothing stored.
          const reg = await retrying(call)('POST', `/elections/${electionId}/voter-key`, {
            publicKey: toHex(key.publicKey),
          });
          expect(reg.status).toBe(201);
          const other = makeBallot(election, selections, generateVoterKey().secretKey);
          const r = await call('POST', `/elections/${electionId}/votes`, { ballot: other.ballot });
          expect({ status: r.status, code: r.body.error?.code }).toEqual({
            status: 409,
            code: 'voter_key_mismatch',
          });
        }
        const { ballot, opening } = makeBallot(election, selections, key.secretKey);
        if (i === 4) {
          const wrong = await call('POST', `/elections/${electionId}/spoiled`, {
            ballot,
            opening: { ...opening, plaintexts: opening.plaintexts.map((m) => 1 - m) },
          });
          expect({ status: wrong.status, code: wrong.body.error?.code }).toEqual({
            status: 422,
            code: 'bad_opening',
          });
          const badTracker = await call('POST', `/elections/${electionId}/votes`, {
            ballot: { ...ballot, tracker: 'ab'.repeat(32) },
          });
          expect({ status: badTracker.status, code: badTracker.body.error?.code }).toEqual({
            status: 400,
            code: 'bad_tracker',
          });
        }
        if (i === 6) {
          // One voter casts with `npm run voter` (its key made on first use, in a 0600 file).
          const voterKeyFile = join(workDir, 'voter-6.json');
          const run = await npmRun(
            'voter',
            [
              'cast',
              '--election',
              electionId,
              '--option',
              OPTIONS[selections.indexOf(1)]!.id,
              '--key-file',
              voterKeyFile,
              '--url',
              offline.httpUrl,
            ],
            { QV_TOKEN: token },
          );
          expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
          expect(statSync(voterKeyFile).mode & 0o777).toBe(0o600);
          const tracker = /Tracking code ([0-9a-f]{64})/.exec(run.stdout)?.[1];
          expect(tracker).toBeDefined();
          cliTracker = tracker!;
          return;
        }
        const r = await castBallot(call, election, ballot, `cast-${i}`);
        expect(r.tracker).toBe(ballot.tracker);
        // A retry with the same Idempotency-Key gets the same vote.
        if (i === 5) expect((await castBallot(call, election, ballot, `cast-${i}`)).voteId).toBe(r.voteId);
      });
    }
    // A few voters at a time, as a 2-core machine shared with the stack can serve them.
    await mapLimit(cast, 6, (run) => run());

    // A ballot whose 0-or-1 proof is forged but whose tracker and signature are right:
    // intake takes it (cheap checks pass), the validators reject it with the reason.
    const token = await api.token(`voter-${electionId}-forger`, 'voter');
    const key = generateVoterKey();
    const { ballot } = makeBallot(election, [1, 0, 0], key.secretKey);
    const forged: Ballot = JSON.parse(JSON.stringify(ballot));
    forged.selections[0]!.proof.v[0] = forged.selections[1]!.proof.v[0]!;
    const hash = fromHex(election.electionHash, 32);
    const tracker = computeTracker(
      hash,
      key.publicKey,
      forged.selections.map((s) => ({
        alpha: fromHex(s.alpha, 32),
        beta: fromHex(s.beta, 32),
        c: s.proof.c.map((x) => fromHex(x, 32)),
        v: s.proof.v.map((x) => fromHex(x, 32)),
      })),
      {
        c: forged.total.proof.c.map((x) => fromHex(x, 32)),
        v: forged.total.proof.v.map((x) => fromHex(x, 32)),
      },
    );
    forged.tracker = toHex(tracker);
    forged.signature = toHex(signMessage(key.secretKey, ballotMessage(hash, tracker)));
    const accepted = await as(token)('POST', `/elections/${electionId}/votes`, { ballot: forged });
    expect(accepted.status).toBe(202);
    badVoteId = accepted.body.voteId;
    const seen = await eventually(
      async () => {
        const v = await as(token)('GET', `/votes/${badVoteId}`);
        return v.body.status === 'rejected' ? v.body : undefined;
      },
      60000,
      'the forged ballot rejected',
    );
    expect(seen).toMatchObject({
      status: 'rejected',
      reason: 'bad_selection_proof:1',
      receipt: forged.tracker,
    });
    expect(seen.optionId).toBeUndefined();

    const results = await eventually(
      async () => {
        const r = (await api.call('GET', `/elections/${electionId}/results`, { token: admin })).body;
        return r.finalized === VOTERS && r.rejected === 1 && r.pending === 0 ? r : undefined;
      },
      180000,
      'every ballot finalized',
    );
    expect(results.totals).toEqual({});
    expect(results.decryption.state).toBe('waiting');
  }, 480000);

  test('close; 2 trustees never decrypt; a bad share is refused and named; 3 shares publish the chosen totals', async () => {
    expect((await api.call('POST', `/elections/${electionId}/close`, { token: admin })).status).toBe(200);
    election = await getElection();
    const tally = await eventually(
      async () => {
        const t = (await api.call('GET', `/elections/${electionId}/tally`, { token: admin })).body;
        return t.final ? t : undefined;
      },
      30000,
      'the tally final',
    );
    expect(tally.countedBallots).toBe(VOTERS);
    expect(tally.encrypted).toHaveLength(3);

    // Trustee 3's share with one proof altered: 422 naming the option, nothing stored.
    const call3 = as(trusteeTokens[2]!);
    const tamper: ApiCall = async (method, path, body, headers) => {
      if (method === 'POST' && path.endsWith('/decryption-shares')) {
        const share = JSON.parse(JSON.stringify(body));
        share.values[1].proof.v = share.values[0].proof.v;
        return call3(method, path, share, headers);
      }
      return call3(method, path, body, headers);
    };
    await expect(decryptAndPost(tamper, election, trusteeKeys[3]!)).rejects.toThrow(
      /422 bad_decryption_proof/,
    );
    const waiting = (await api.call('GET', `/elections/${electionId}/results`, { token: admin })).body;
    expect(waiting.decryption).toMatchObject({
      state: 'waiting',
      shares: 0,
      message: 'waiting for 3 more trustees',
    });

    // Trustee 1 through the CLI with its key file.
    const run = await npmRun(
      'trustee',
      [
        'decrypt',
        '--election',
        electionId,
        '--key-file',
        keyFile1,
        '--url',
        offline.httpUrl,
        '--token',
        trusteeTokens[0]!,
      ],
      {},
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('waiting for 2 more trustee(s)');
    expect((await decryptAndPost(call3, election, trusteeKeys[3]!)).waitingFor).toBe(1);
    const one = (await api.call('GET', `/elections/${electionId}/results`, { token: admin })).body;
    expect(one.decryption.message).toBe('waiting for 1 more trustee');
    const last = await decryptAndPost(as(trusteeTokens[4]!), election, trusteeKeys[5]!);
    expect(last.decryption).toEqual({ used: [1, 3, 5], totals: expected });
    const results = (await api.call('GET', `/elections/${electionId}/results`, { token: admin })).body;
    expect(results.totals).toEqual({ red: expected[0], green: expected[1], blue: expected[2] });
    expect(results.decryption.state).toBe('published');
  }, 180000);

  test('the record verifies from itself alone, as JSON and NDJSON, and npm run verify passes', async () => {
    const record = (await api.call('GET', `/elections/${electionId}/record`, { token: admin })).body;
    expect(record.version).toBe('qv/v1');
    const states = record.ballots.map((b: { state: string }) => b.state);
    expect(states.filter((s: string) => s === 'spoiled')).toHaveLength(CHALLENGERS);
    expect(states.filter((s: string) => s === 'counted')).toHaveLength(VOTERS);
    expect(
      record.ballots.filter((b: { reason?: string }) => b.reason === 'bad_selection_proof:1'),
    ).toHaveLength(1);
    expect(record.roll).toHaveLength(VOTERS + 1);
    // The voter who used `npm run voter` finds their tracking code among the counted ballots.
    expect(record.ballots.filter((b: { tracker: string }) => b.tracker === cliTracker)).toEqual([
      expect.objectContaining({ tracker: cliTracker, state: 'counted' }),
    ]);
    expect(record.decryption).toMatchObject({ used: [1, 3, 5], totals: expected });
    expect(verifyRecord(record, { group: defaultGroup })).toEqual({ ok: true, failures: [] });

    const res = await fetchFresh(`${offline.httpUrl}/elections/${electionId}/record`, {
      headers: { authorization: `Bearer ${admin}`, accept: 'application/x-ndjson' },
    });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual([
      'manifest',
      'ceremony',
      'roll',
      ...record.ballots.map(() => 'ballot'),
      'tally',
      'decryption',
    ]);

    const run = await npmRun('verify', [electionId, '--url', offline.httpUrl], { JWT_KEY_DIR: keyDir });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('VERIFIED');
  }, 120000);

  test('the audit log shows secret entries in their own shape, hash-chained over the running encrypted tally', async () => {
    const auditor = await api.token(`${electionId}-auditor`, 'auditor');
    const entries: SecretAuditEntry[] = [];
    let cursor = '';
    for (;;) {
      const q = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await api.call('GET', `/elections/${electionId}/audit?${q}`, { token: auditor });
      expect({ status: page.status, ballot: page.body.ballot }).toEqual({ status: 200, ballot: 'secret' });
      entries.push(...page.body.entries);
      if (page.body.nextCursor === null) break;
      cursor = page.body.nextCursor;
    }
    const record = (await api.call('GET', `/elections/${electionId}/record`, { token: admin })).body;
    const cast = record.ballots.filter((b: { state: string }) => b.state !== 'spoiled');
    expect(entries.length).toBeGreaterThanOrEqual(cast.length);
    const byTracker = new Map(entries.map((e) => [e.tracker, e]));
    for (const b of cast) {
      expect(byTracker.get(b.tracker)).toMatchObject({
        publicKey: b.publicKey,
        signature: b.signature,
        outcome: b.state,
      });
    }
    const results = (await api.call('GET', `/elections/${electionId}/results`, { token: auditor })).body;
    const partitions = Object.keys(results.chainHeads).map(Number);
    for (const p of partitions) {
      const chain = entries.filter((e) => e.partition === p).sort((a, b) => a.seq - b.seq);
      let prev = genesisHash(electionId, p);
      for (const [i, e] of chain.entries()) {
        // The open shape's fields are not there; the secret ones are, and nothing private.
        expect(Object.keys(e).sort()).toEqual([
          'ballotId',
          'hash',
          'outcome',
          'partition',
          'prev',
          'publicKey',
          'reason',
          'seq',
          'signature',
          'tally',
          'tracker',
        ]);
        expect({ seq: e.seq, prev: e.prev }).toEqual({ seq: i + 1, prev });
        expect(e.tally).toHaveLength(OPTIONS.length);
        expect(secretEntryHash(prev, electionId, p, e.seq, e)).toBe(e.hash);
        prev = e.hash;
      }
      expect({ hash: prev, entries: chain.length }).toEqual(results.chainHeads[String(p)]);
    }
    // The running tallies the last entries cover add up to the published encrypted tally.
    const sum = record.tally.encrypted.map((_: unknown, l: number) => {
      let alpha = defaultGroup.identity;
      let beta = defaultGroup.identity;
      for (const p of partitions) {
        const last = entries.filter((e) => e.partition === p).sort((a, b) => b.seq - a.seq)[0];
        if (!last) continue;
        alpha = defaultGroup.add(alpha, decodePoint(defaultGroup, last.tally[l]!.alpha));
        beta = defaultGroup.add(beta, decodePoint(defaultGroup, last.tally[l]!.beta));
      }
      return { alpha: encodePoint(defaultGroup, alpha), beta: encodePoint(defaultGroup, beta) };
    });
    expect(sum).toEqual(record.tally.encrypted);
    // An admin also sees each entry's private vote id and time, outside the hash.
    const operator = await api.call('GET', `/elections/${electionId}/audit?limit=1`, { token: admin });
    expect(operator.body.entries[0]).toMatchObject({
      voteId: expect.any(String),
      finalizedAt: expect.any(String),
    });
  }, 60000);

  /** Runs `npm run verify` and expects it to fail naming `what`. */
  const verifyFails = async (what: RegExp) => {
    const run = await npmRun('verify', [electionId, '--url', offline.httpUrl], { JWT_KEY_DIR: keyDir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('NOT VERIFIED');
    expect(run.stdout).toMatch(what);
  };

  test('an altered decryption share in Redis: verify fails naming the trustee', async () => {
    const key = secretElectionKeys(electionId).shares;
    const original = (await redis.hget(key, '3'))!;
    const share = JSON.parse(original);
    const v = share.values[0].proof.v as string;
    share.values[0].proof.v = (v[0] === '0' ? '1' : '0') + v.slice(1);
    await redis.hset(key, '3', JSON.stringify(share));
    try {
      await verifyFails(/bad_decryption_proof \(trustee 3, option 1\)/);
    } finally {
      await redis.hset(key, '3', original);
    }
  }, 60000);

  test('an altered running tally in Redis: verify fails naming the tally', async () => {
    const tags: string[] = JSON.parse((await redis.hget(electionKeys(electionId).meta, 'tags')) ?? '[]');
    const tag = (
      await Promise.all(tags.map(async (t) => ((await redis.get(partitionKeys(t).etally)) ? t : '')))
    ).find(Boolean)!;
    const key = partitionKeys(tag).etally;
    const original = (await redis.get(key))!;
    const tally = JSON.parse(original);
    tally[0].alpha = encodePoint(defaultGroup, defaultGroup.base);
    await redis.set(key, JSON.stringify(tally));
    try {
      await verifyFails(/- tally/);
    } finally {
      await redis.set(key, original);
    }
  }, 60000);

  test('an altered ballot in the audit log: verify fails naming its tracker', async () => {
    const tags: string[] = JSON.parse((await redis.hget(electionKeys(electionId).meta, 'tags')) ?? '[]');
    let audit = '';
    let rows: [string, string[]][] = [];
    for (const t of tags) {
      rows = await redis.xrange(partitionKeys(t).audit, '-', '+');
      if (rows.some(([, f]) => f[f.indexOf('outcome') + 1] === 'counted')) {
        audit = partitionKeys(t).audit;
        break;
      }
    }
    const at = rows.findIndex(([, f]) => f[f.indexOf('outcome') + 1] === 'counted');
    const fields = [...rows[at]![1]];
    const ci = fields.indexOf('cast') + 1;
    const ballot = JSON.parse(fields[ci]!) as Ballot;
    const v = ballot.selections[0]!.proof.v[0]!;
    ballot.selections[0]!.proof.v[0] = (v[0] === '0' ? '1' : '0') + v.slice(1);
    fields[ci] = JSON.stringify(ballot);
    // Rewrite the partition's stream with the same ids, one entry changed.
    const rewrite = async (list: [string, string[]][]) => {
      await redis.del(audit);
      for (const [id, f] of list) await redis.xadd(audit, id, ...f);
    };
    await rewrite(rows.map((r, i) => (i === at ? [r[0], fields] : r)));
    try {
      await verifyFails(new RegExp(`ballot ${ballot.tracker}`));
    } finally {
      await rewrite(rows);
    }
    writeFileSync(join(workDir, 'done'), '');
  }, 60000);
});
