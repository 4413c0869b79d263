import WebSocket from 'ws';
import { externalUserId } from '../../shared/auth/oidc/subject';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { kidOf, OIDC_API_AUDIENCE, startTestIssuer, type TestIssuer } from '../helpers/oidc';
import { eventually, startTestOffline, TestCluster, type TestOffline } from '../helpers/stack';

/**
 * Users of an organisation's own identity provider vote with its tokens: a real OpenID
 * Connect provider (oidc-provider, test/helpers/oidc-issuer.mjs) logs them in with the
 * authorization code flow, and its access tokens go through the whole stack
 * (serverless-offline, coordinators, Redis Cluster). Roles come from the IdP's groups
 * (Keycloak-style `realm_access.roles`); an external subject is one voter, always.
 */
describe('external OpenID Connect issuer: log in at the IdP, vote with its token', () => {
  let idp: TestIssuer;
  let other: TestIssuer;
  let cluster: TestCluster;
  let offline: TestOffline;
  let api: Api;
  beforeAll(async () => {
    [idp, other] = await Promise.all([startTestIssuer(), startTestIssuer()]);
    const keyDir = testKeyDir();
    cluster = await TestCluster.start(3);
    offline = await startTestOffline({
      JWT_KEY_DIR: keyDir,
      ...cluster.offlineEnv(),
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: OIDC_API_AUDIENCE,
      OIDC_ROLE_CLAIM: 'realm_access.roles',
      OIDC_ROLE_MAP: 'qv-admins=admin,qv-trustees=trustee,qv-voters=voter',
      OIDC_CLOCK_TOLERANCE_S: '0',
      // Short, so that withdrawing a key takes effect within the test.
      OIDC_JWKS_CACHE_MS: '2000',
      OIDC_JWKS_COOLDOWN_MS: '200',
      // The IdP shares a loaded machine with the stack; stay within REQUEST_DEADLINE_MS.
      OIDC_HTTP_TIMEOUT_MS: '4000',
    });
    api = makeApi(offline.httpUrl, keyDir);
    await cluster.waitForLeader();
  }, 120000);
  afterAll(async () => {
    await Promise.all([offline?.stop(), cluster?.stop(), idp?.stop(), other?.stop()]);
  });

  // Logins at the IdP plus votes through the whole stack: slow on a loaded 2-core machine.
  jest.setTimeout(120000);

  const idOf = (username: string) => externalUserId(idp.issuer, `kc-${username}-0001`);

  async function openElection(token: string, extra: Record<string, unknown> = {}): Promise<string> {
    const created = await api.call('POST', '/elections', {
      token,
      body: {
        title: 'Works council',
        options: [
          { id: 'a', label: 'A' },
          { id: 'b', label: 'B' },
        ],
        ...extra,
      },
    });
    expect(created.status).toBe(201);
    expect((await api.call('POST', `/elections/${created.body.id}/open`, { token })).status).toBe(200);
    return created.body.id;
  }

  function expectUnauthorized(r: Awaited<ReturnType<Api['call']>>, message: string | RegExp): void {
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
    expect(r.body.error.message).toMatch(message);
  }

  test('an admin by group runs an election; a voter by group votes once, whatever token she logs in with', async () => {
    const oscar = (await idp.login('oscar', 'oscar-password')).accessToken;
    const erin = (await idp.login('erin', 'erin-password')).accessToken;
    // A voter cannot create an election: her token is valid, her role is not enough.
    const refused = await api.call('POST', '/elections', {
      token: erin,
      body: {
        title: 'x',
        options: [
          { id: 'a', label: 'A' },
          { id: 'b', label: 'B' },
        ],
      },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');

    const id = await openElection(oscar);
    const vote = await api.call('POST', `/elections/${id}/votes`, { token: erin, body: { optionId: 'a' } });
    expect(vote.status).toBe(202);
    await eventually(
      async () => {
        const s = await api.call('GET', `/votes/${vote.body.voteId}`, { token: erin });
        return s.body.status === 'finalized' ? s.body : undefined;
      },
      15000,
      'vote finalized',
    );
    // She logs in again: a new token, the same subject, so the same voter.
    const again = (await idp.login('erin', 'erin-password')).accessToken;
    expect(again).not.toBe(erin);
    expect((await api.call('GET', `/votes/${vote.body.voteId}`, { token: again })).status).toBe(200);
    const second = await api.call('POST', `/elections/${id}/votes`, {
      token: again,
      body: { optionId: 'b' },
    });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('already_voted');
    const results = await api.call('GET', `/elections/${id}/results`, { token: oscar });
    expect(results.body).toMatchObject({ totals: { a: 1, b: 0 }, finalized: 1 });
  });

  test('voter lists, trustees and admin actions name external users by their documented id', async () => {
    const oscar = (await idp.login('oscar', 'oscar-password')).accessToken;
    const id = await openElection(oscar, { voters: [idOf('erin')] });
    const erin = (await idp.login('erin', 'erin-password')).accessToken;
    const frank = (await idp.login('frank', 'frank-password')).accessToken;
    const notListed = await api.call('POST', `/elections/${id}/votes`, {
      token: frank,
      body: { optionId: 'a' },
    });
    expect(notListed.status).toBe(403);
    expect(notListed.body.error.code).toBe('not_eligible');
    expect(
      (await api.call('POST', `/elections/${id}/votes`, { token: erin, body: { optionId: 'b' } })).status,
    ).toBe(202);

    // A trustee by group, named as a trustee of a secret election by her id, reaches the ceremony.
    const secret = await api.call('POST', '/elections', {
      token: oscar,
      body: {
        title: 'Secret',
        options: [
          { id: 'a', label: 'A' },
          { id: 'b', label: 'B' },
        ],
        ballot: 'secret',
        trustees: [idOf('tina')],
        threshold: 1,
      },
    });
    expect(secret.status).toBe(201);
    const tina = (await idp.login('tina', 'tina-password')).accessToken;
    const commit = await api.call('POST', `/elections/${secret.body.id}/ceremony/commitments`, {
      token: tina,
      body: {},
    });
    expect(commit.status).toBe(400); // past the role and trustee checks, stopped by the empty body
    const stranger = await api.call('POST', `/elections/${secret.body.id}/ceremony/commitments`, {
      token: await api.token('usr_localtrustee', 'trustee'),
      body: {},
    });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error.code).toBe('not_a_trustee');

    // Disabling an external user by id refuses her tokens at once; enabling restores them.
    expect(await api.call('POST', `/users/${idOf('frank')}/disable`, { token: oscar })).toMatchObject({
      status: 200,
    });
    expectUnauthorized(await api.call('GET', '/elections', { token: frank }), /revoked/);
    expect(await api.call('POST', `/users/${idOf('frank')}/enable`, { token: oscar })).toMatchObject({
      status: 200,
    });
    // Like ours, a token from before the disable stays refused; a new login works (iat has
    // whole seconds: the new one must be issued after the second of the disable).
    expectUnauthorized(await api.call('GET', '/elections', { token: frank }), /revoked/);
    await new Promise((r) => setTimeout(r, 1100));
    const frankAgain = (await idp.login('frank', 'frank-password')).accessToken;
    expect((await api.call('GET', '/elections', { token: frankAgain })).status).toBe(200);
    // Ending his sessions refuses that token too, as it would one of ours.
    expect((await api.call('POST', `/users/${idOf('frank')}/revoke-sessions`, { token: oscar })).status).toBe(
      200,
    );
    expectUnauthorized(await api.call('GET', '/elections', { token: frankAgain }), /revoked/);
  });

  test('live results over WebSocket with an IdP token; a token for another audience cannot connect', async () => {
    const oscar = (await idp.login('oscar', 'oscar-password')).accessToken;
    const id = await openElection(oscar);
    const { accessToken, idToken } = await idp.login('erin', 'erin-password');
    const connect = (token: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${offline.wsUrl}?token=${encodeURIComponent(token)}`);
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => {
          ws.terminate();
          reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode }));
        });
        ws.once('error', reject);
      });
    await expect(connect(idToken)).rejects.toMatchObject({ status: 401 });
    const ws = await connect(accessToken);
    try {
      const reply = new Promise<Record<string, unknown>>((resolve) =>
        ws.once('message', (data) => resolve(JSON.parse(String(data)) as Record<string, unknown>)),
      );
      ws.send(JSON.stringify({ action: 'subscribe', topic: `election:${id}` }));
      expect(await reply).toMatchObject({ type: 'subscribed', topic: `election:${id}` });
    } finally {
      ws.terminate();
    }
  });

  test('our own tokens keep working beside the external ones', async () => {
    const admin = await api.token('usr_localadmin', 'admin');
    const id = await openElection(admin);
    const voter = await api.token('usr_localvoter', 'voter');
    expect(
      (await api.call('POST', `/elections/${id}/votes`, { token: voter, body: { optionId: 'a' } })).status,
    ).toBe(202);
  });

  test('refused with a clear 401: another issuer, the wrong audience, an expired token, no mapped role', async () => {
    const fromOther = (await other.login('erin', 'erin-password')).accessToken;
    expectUnauthorized(
      await api.call('GET', '/elections', { token: fromOther }),
      'Token issuer is not trusted',
    );
    // The ID token is for the client (aud qv-web), not for the API.
    const { idToken } = await idp.login('erin', 'erin-password');
    expectUnauthorized(
      await api.call('GET', '/elections', { token: idToken }),
      'Token claim "aud" is invalid',
    );
    const short = (await idp.login('erin', 'erin-password', 'qv-short')).accessToken;
    await new Promise((r) => setTimeout(r, 2500));
    expectUnauthorized(await api.call('GET', '/elections', { token: short }), 'Token has expired');
    const nora = (await idp.login('nora', 'nora-password')).accessToken;
    expectUnauthorized(await api.call('GET', '/elections', { token: nora }), /grants no quorumvote role/);
    await expect(idp.login('erin', 'wrong-password')).rejects.toThrow(/401/);
  });

  test('key rotation at the IdP: the new key is accepted at once, the old one until it is withdrawn', async () => {
    const before = (await idp.login('erin', 'erin-password')).accessToken;
    expect(await api.call('GET', '/elections', { token: before })).toMatchObject({ status: 200 });
    const kids = await idp.rotate();
    const after = (await idp.login('erin', 'erin-password')).accessToken;
    expect({ kid: kidOf(after), kids }).toEqual({ kid: kids[0], kids });
    expect(kidOf(after)).not.toBe(kidOf(before));
    // The `before` request may just have refetched the keys (their cache is 2 s here): a
    // new kid makes the functions fetch again only once OIDC_JWKS_COOLDOWN_MS (200 ms here)
    // has passed since, so that tokens with made-up kids cannot flood the IdP.
    await new Promise((r) => setTimeout(r, 300));
    expect(await api.call('GET', '/elections', { token: after })).toMatchObject({ status: 200 });
    expect(await api.call('GET', '/elections', { token: before })).toMatchObject({ status: 200 });
    await idp.retire();
    await eventually(
      async () => {
        const r = await api.call('GET', '/elections', { token: before });
        return r.status === 401 ? r : undefined;
      },
      15000,
      'the withdrawn key refused',
    ).then((r) => expectUnauthorized(r, 'Token was not signed by a known key'));
    expect(await api.call('GET', '/elections', { token: after })).toMatchObject({ status: 200 });
  });
});
