import { checkHistory, formatReport, unaccountedVotes } from '../../chaos/checker';
import { readFinalState, readVoteStatuses } from '../../chaos/final-state';
import { HistoryRecorder } from '../../chaos/history';
import { runWorkload } from '../../chaos/workload';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { TestCluster, type TestOffline, startTestOffline } from '../helpers/stack';

/**
 * The chaos workload against a real stack with no faults: clients submit, re-vote,
 * read statuses and results over HTTP while one election is closed mid-run; the
 * history and the final state read through the API must pass every invariant. A
 * checker that flags a healthy run would make every chaos verdict noise.
 */
describe('chaos workload on a healthy stack', () => {
  let cluster: TestCluster;
  let offline: TestOffline;
  let api: Api;
  let admin: string;
  beforeAll(async () => {
    const keyDir = testKeyDir();
    cluster = await TestCluster.start(3);
    offline = await startTestOffline({
      JWT_KEY_DIR: keyDir,
      ...cluster.offlineEnv(),
      // Every client comes from 127.0.0.1: the per-address limits would throttle the run.
      RATE_LIMIT_VOTER: '1000000',
      RATE_LIMIT_IP: '1000000',
      RATE_LIMIT_READ: '1000000',
      RATE_LIMIT_READ_IP: '1000000',
      RATE_LIMIT_AUDIT: '1000000',
    });
    api = makeApi(offline.httpUrl, keyDir);
    admin = await api.token('chaos-admin', 'admin');
    await cluster.waitForLeader();
  }, 120000);
  afterAll(async () => {
    await Promise.all([offline?.stop(), cluster?.stop()]);
  });

  async function openElection(): Promise<{ id: string; options: string[] }> {
    const created = await api.call('POST', '/elections', {
      token: admin,
      body: { title: 'Chaos', options: ['a', 'b', 'c'].map((id) => ({ id, label: id })) },
    });
    expect(created.status).toBe(201);
    const opened = await api.call('POST', `/elections/${created.body.id}/open`, { token: admin });
    expect(opened.status).toBe(200);
    return { id: created.body.id, options: ['a', 'b', 'c'] };
  }

  test('every invariant holds for a few seconds of clients with a close in the middle', async () => {
    const elections = [await openElection(), await openElection()];
    // Enough voters that the clients cannot use them all up before the close at 2 s (each
    // votes once per election): with 30, a fast run spent the first election's voters before
    // never sent a vote after its close. The run stops as soon as everything is covered.
    const voters = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => ({
        id: `chaos-v${i}`,
        token: await api.token(`chaos-v${i}`, 'voter'),
      })),
    );
    const history = new HistoryRecorder();
    // Run until the history covers what the checker judges (a loaded machine is slow:
    // a fixed duration would cover less), or 60 s.
    const failed = (error: string) => history.ops().some((o) => o.f === 'submit' && o.error === error);
    const covered = (): boolean => {
      const ok = history.ops().filter((o) => o.type === 'ok');
      return (
        ok.filter((o) => o.f === 'submit').length >= 10 &&
        ok.some((o) => o.f === 'status') &&
        ok.some((o) => o.f === 'results') &&
        failed('409 already_voted') &&
        failed('409 election_not_open')
      );
    };
    await runWorkload({
      apiUrl: offline.httpUrl,
      adminToken: admin,
      elections,
      voters,
      clients: 6,
      durationMs: 60000,
      stopWhen: covered,
      seed: 42,
      history,
      requestTimeoutMs: 10000,
      closeAt: { [elections[0]!.id]: 2000 },
      thinkMs: 20,
    });
    const close = await api.call('POST', `/elections/${elections[1]!.id}/close`, { token: admin });
    expect(close.status).toBe(200);
    const ops = history.ops();
    const final = await readFinalState({
      apiUrl: offline.httpUrl,
      adminToken: admin,
      electionIds: elections.map((e) => e.id),
      waitFinalMs: 30000,
    });
    final.votes = await readVoteStatuses(
      { apiUrl: offline.httpUrl, adminToken: admin },
      unaccountedVotes(ops, final),
    );
    const report = checkHistory({ history: ops, final });
    if (!report.valid) process.stderr.write(formatReport(report));
    expect(report.invariants.filter((i) => !i.valid).map((i) => i.name)).toEqual([]);
    expect(report.valid).toBe(true);
    // The run exercised what the checker judges: acknowledged votes, refused re-votes,
    // votes refused after the close, status and results reads.
    expect(report.counts.acknowledged).toBeGreaterThanOrEqual(10);
    expect(report.counts.acknowledgedLost).toBe(0);
    const counted = Object.values(final.elections).reduce((n, e) => n + (e.results?.finalized ?? 0), 0);
    expect(counted).toBe(report.counts.acknowledged);
    const submits = ops.filter((o) => o.f === 'submit' && o.type === 'fail').map((o) => o.error);
    expect(submits).toContain('409 already_voted');
    expect(submits).toContain('409 election_not_open');
    expect(report.availability.byF['status']?.ok).toBeGreaterThan(0);
    expect(report.availability.byF['results']?.ok).toBeGreaterThan(0);
    expect(ops.some((o) => o.f === 'close' && o.type === 'ok')).toBe(true);
  }, 120000);
});
