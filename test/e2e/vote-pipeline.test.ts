import { render, verifyElection } from '../../local/verify';
import { verifyAudit } from '../../shared/votes/verify';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { TestCluster, type TestOffline, eventually, startTestOffline } from '../helpers/stack';

/** Fetches the whole audit log of an election through the API. */
async function fullAudit(api: Api, token: string, id: string) {
  const entries = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const r = await api.call('GET', `/elections/${id}/audit?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, {
      token,
    });
    expect(r.status).toBe(200);
    entries.push(...r.body.entries);
    cursor = r.body.nextCursor;
  }
  return entries;
}

describe('vote pipeline end to end (HTTP → majority → finalized → audit)', () => {
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
      RATE_LIMIT_VOTER: '1000',
    });
    api = makeApi(offline.httpUrl, keyDir);
    admin = await api.token('admin-1', 'admin');
    await cluster.waitForLeader();
  }, 120000);
  afterAll(async () => {
    await Promise.all([offline?.stop(), cluster?.stop()]);
  });

  async function newOpenElection(extra: Record<string, unknown> = {}): Promise<string> {
    const created = await api.call('POST', '/elections', {
      token: admin,
      body: {
        title: 'Board',
        options: [
          { id: 'yes', label: 'Yes' },
          { id: 'no', label: 'No' },
        ],
        ...extra,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('draft');
    const opened = await api.call('POST', `/elections/${created.body.id}/open`, { token: admin });
    expect(opened.status).toBe(200);
    expect(opened.body.status).toBe('open');
    return created.body.id;
  }

  test('a voter votes and sees it finalized with a majority of approvals; results and audit agree', async () => {
    const id = await newOpenElection();
    const alice = await api.token('alice-1', 'voter');
    const r = await api.call('POST', `/elections/${id}/votes`, { token: alice, body: { optionId: 'yes' } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ status: 'pending' });
    const { voteId, receipt } = r.body;
    const final = await eventually(
      async () => {
        const s = await api.call('GET', `/votes/${voteId}`, { token: alice });
        return s.body.status === 'finalized' ? s.body : undefined;
      },
      15000,
      'vote finalized',
    );
    expect(final.approvals).toBeGreaterThanOrEqual(2);
    expect(final.receipt).toBe(receipt);
    const results = await api.call('GET', `/elections/${id}/results`, { token: alice });
    expect(results.body).toMatchObject({ totals: { yes: 1, no: 0 }, finalized: 1, pending: 0, final: false });
    const entries = await fullAudit(api, alice, id);
    const report = verifyAudit(id, 16, entries, results.body, [receipt]);
    expect(report.problems).toEqual([]);
    expect(report.receipts[receipt]).toBe('counted');
    // Another voter cannot read alice's vote.
    const bob = await api.token('bob-1', 'voter');
    expect((await api.call('GET', `/votes/${voteId}`, { token: bob })).status).toBe(403);
    // Closing makes the result final.
    expect((await api.call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    const closed = await api.call('GET', `/elections/${id}/results`, { token: alice });
    expect(closed.body).toMatchObject({ status: 'closed', final: true, totals: { yes: 1 } });
    const late = await api.call('POST', `/elections/${id}/votes`, { token: bob, body: { optionId: 'no' } });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('election_not_open');
  });

  test('50 concurrent submissions by one voter count once; one Idempotency-Key gives one vote id', async () => {
    const id = await newOpenElection();
    const carol = await api.token('carol-1', 'voter');
    const same = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.call('POST', `/elections/${id}/votes`, {
          token: carol,
          body: { optionId: 'no' },
          headers: { 'Idempotency-Key': 'carol-key-1' },
        }),
      ),
    );
    expect(same.every((r) => r.status === 202)).toBe(true);
    expect(new Set(same.map((r) => r.body.voteId)).size).toBe(1);
    const dave = await api.token('dave-1', 'voter');
    const burst = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api.call('POST', `/elections/${id}/votes`, {
          token: dave,
          body: { optionId: i % 2 ? 'yes' : 'no' },
          headers: { 'Idempotency-Key': `dave-${i}` },
        }),
      ),
    );
    expect(burst.filter((r) => r.status === 202)).toHaveLength(1);
    expect(burst.filter((r) => r.status === 409).every((r) => r.body.error.code === 'already_voted')).toBe(
      true,
    );
    expect(burst.filter((r) => r.status === 409)).toHaveLength(49);
    const results = await eventually(
      async () => {
        const r = await api.call('GET', `/elections/${id}/results`, { token: admin });
        return r.body.finalized === 2 && r.body.pending === 0 ? r.body : undefined;
      },
      15000,
      'two votes finalized',
    );
    expect(results.totals.yes + results.totals.no).toBe(2);
    // After close, a retry with the same key still gets its vote back; nothing new is taken.
    expect((await api.call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    const retry = await api.call('POST', `/elections/${id}/votes`, {
      token: carol,
      body: { optionId: 'no' },
      headers: { 'Idempotency-Key': 'carol-key-1' },
    });
    expect([retry.status, retry.body.voteId]).toEqual([202, same[0]!.body.voteId]);
  });

  test('error cases of API.md return their status and code', async () => {
    const id = await newOpenElection({ voters: ['eve-1'] });
    const frank = await api.token('frank-1', 'voter');
    const eve = await api.token('eve-1', 'voter');
    const auditor = await api.token('aud-1', 'auditor');
    const cases: [string, Promise<{ status: number; body: any }>, number, string][] = [
      [
        'no token',
        api.call('POST', `/elections/${id}/votes`, { body: { optionId: 'yes' } }),
        401,
        'unauthorized',
      ],
      ['bad token', api.call('GET', '/elections', { token: 'x.y.z' }), 401, 'unauthorized'],
      [
        'wrong role',
        api.call('POST', `/elections/${id}/votes`, { token: auditor, body: { optionId: 'yes' } }),
        403,
        'forbidden',
      ],
      [
        'not eligible',
        api.call('POST', `/elections/${id}/votes`, { token: frank, body: { optionId: 'yes' } }),
        403,
        'not_eligible',
      ],
      [
        'unknown option',
        api.call('POST', `/elections/${id}/votes`, { token: eve, body: { optionId: 'maybe' } }),
        400,
        'invalid_option',
      ],
      [
        'malformed body',
        api.call('POST', `/elections/${id}/votes`, { token: eve, body: '{"optionId":' }),
        400,
        'invalid_request',
      ],
      [
        'bad shape',
        api.call('POST', `/elections/${id}/votes`, { token: eve, body: { option: 'yes' } }),
        400,
        'invalid_request',
      ],
      [
        'unknown election',
        api.call('POST', '/elections/elzzzzzzzz/votes', { token: eve, body: { optionId: 'yes' } }),
        404,
        'not_found',
      ],
      ['unknown vote', api.call('GET', `/votes/${id}.1.1-1`, { token: eve }), 404, 'not_found'],
      [
        'too big',
        api.call('POST', '/elections', { token: admin, body: { title: 'x'.repeat(70000) } }),
        413,
        'payload_too_large',
      ],
      [
        'one option',
        api.call('POST', '/elections', {
          token: admin,
          body: { title: 't', options: [{ id: 'a', label: 'A' }] },
        }),
        400,
        'invalid_request',
      ],
      [
        'voter creates',
        api.call('POST', '/elections', { token: eve, body: { title: 't' } }),
        403,
        'forbidden',
      ],
      ['get unknown', api.call('GET', '/elections/elnope1234', { token: eve }), 404, 'not_found'],
    ];
    for (const [name, p, status, code] of cases) {
      const r = await p;
      expect({ name, status: r.status, code: r.body?.error?.code }).toEqual({ name, status, code });
    }
    const draft = await api.call('POST', '/elections', {
      token: admin,
      body: {
        title: 'Draft',
        options: [
          { id: 'a', label: 'A' },
          { id: 'b', label: 'B' },
        ],
      },
    });
    const notOpen = await api.call('POST', `/elections/${draft.body.id}/votes`, {
      token: eve,
      body: { optionId: 'a' },
    });
    expect([notOpen.status, notOpen.body.error.code]).toEqual([409, 'election_not_open']);
    const ok = await api.call('POST', `/elections/${id}/votes`, { token: eve, body: { optionId: 'yes' } });
    expect(ok.status).toBe(202);
    const again = await api.call('POST', `/elections/${id}/votes`, { token: eve, body: { optionId: 'no' } });
    expect([again.status, again.body.error.code]).toEqual([409, 'already_voted']);
  });

  test('reset: recorded in the audit; refused for a closed, counted election outside test mode', async () => {
    const id = await newOpenElection();
    const gina = await api.token('gina-1', 'voter');
    expect(
      (await api.call('POST', `/elections/${id}/votes`, { token: gina, body: { optionId: 'yes' } })).status,
    ).toBe(202);
    // An open election may be reset (not production): it is recorded, never silent.
    const reset = await api.call('POST', `/elections/${id}/reset`, { token: admin });
    expect(reset.body).toMatchObject({ id, reset: true });
    const page = await api.call('GET', `/elections/${id}/audit`, { token: gina });
    expect(page.body.resets).toHaveLength(1);
    expect(page.body.resets[0]).toMatchObject({ by: 'admin-1', status: 'open' });
    const hank = await api.token('hank-1', 'voter');
    const v = await api.call('POST', `/elections/${id}/votes`, { token: hank, body: { optionId: 'no' } });
    expect(v.status).toBe(202);
    expect((await api.call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    await eventually(
      async () => (await api.call('GET', `/elections/${id}/results`, { token: admin })).body.final,
      15000,
      'final result',
    );
    // Closed and counted: the result stands (this stack does not run with QV_TEST_MODE=1).
    const refused = await api.call('POST', `/elections/${id}/reset`, { token: admin });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
    const results = await api.call('GET', `/elections/${id}/results`, { token: admin });
    expect(results.body).toMatchObject({ finalized: 1, totals: { no: 1 } });
    expect((await api.call('GET', `/elections/${id}/audit`, { token: gina })).body.resets).toHaveLength(1);
    // The verifier accepts the log that starts after the reset, and reports the reset.
    const verified = await verifyElection({
      electionId: id,
      receipts: [v.body.receipt],
      url: offline.httpUrl,
      token: admin,
      json: false,
      attempts: 5,
    });
    expect(verified.ok).toBe(true);
    expect(verified.resets).toHaveLength(1);
    expect(render(verified)).toContain('Reset at ');
  });

  test('GET /cluster shows the leader, every coordinator and the Redis Cluster (admin only)', async () => {
    const { leader, term } = await cluster.waitForLeader();
    const view = await eventually(
      async () => {
        const r = await api.call('GET', '/cluster', { token: admin });
        return r.status === 200 && r.body.leader === leader && r.body.nodes.length === 3 ? r.body : undefined;
      },
      5000,
      'cluster view',
    );
    expect(view.term).toBe(term);
    expect(view.redis).toMatchObject({ state: 'ok', masters: 3, replicas: 3, slotsCovered: 16384 });
    for (const n of view.nodes) {
      expect(cluster.members).toContain(n.id);
      expect(n).toMatchObject({ healthy: true, role: n.id === leader ? 'leader' : 'follower' });
      expect(typeof n.lastHeartbeatAt).toBe('string');
    }
    expect(view.queues).toEqual(expect.objectContaining({ pending: expect.any(Number) }));
    const voter = await api.token('v-cluster', 'voter');
    expect((await api.call('GET', '/cluster', { token: voter })).status).toBe(403);
  });
});
