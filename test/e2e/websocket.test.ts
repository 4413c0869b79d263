import type { Cluster } from 'ioredis';
import { WebSocket } from 'ws';
import { mintToken } from '../../shared/auth/tokens';
import { parseSeeds } from '../../shared/config';
import { realtimeKeysFor } from '../../shared/realtime/keys';
import { ConnectionRegistry, defaultRegistryOptions } from '../../shared/realtime/registry';
import { parseTopic } from '../../shared/realtime/topics';
import { createRedisCluster } from '../../shared/redis/client';
import { type Api, makeApi, testKeyDir } from '../helpers/api';
import { TestCluster, type TestOffline, eventually, startTestOffline, testSeeds } from '../helpers/stack';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
type Msg = Record<string, any>;

/** A real `ws` client that keeps every message and lets the test wait for one. */
class Client {
  readonly messages: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; done: (m: Msg) => void }[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('message', (data) => {
      let m: Msg;
      try {
        m = JSON.parse(String(data));
      } catch {
        m = { unparsed: String(data) };
      }
      this.messages.push(m);
      const ready = this.waiters.filter((w) => w.pred(m));
      this.waiters = this.waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.done(m);
    });
  }

  /** Opens a connection; rejects with `status` when the server refuses the handshake. */
  static connect(url: string, token?: string): Promise<Client> {
    const full = token === undefined ? url : `${url}?token=${encodeURIComponent(token)}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(full);
      const client = new Client(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode }));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** The first message, received or still to come, that matches. */
  waitFor(pred: (m: Msg) => boolean, what: string, timeoutMs = 15000): Promise<Msg> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.done !== done);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(-2000)}`));
      }, timeoutMs);
      const done = (m: Msg): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push({ pred, done });
    });
  }

  /** Sends a raw frame and waits for the next reply or error. */
  async reply(frame: unknown): Promise<Msg> {
    const from = this.messages.length;
    this.send(frame);
    return this.waitFor(
      (m) =>
        this.messages.indexOf(m) >= from &&
        ['subscribed', 'unsubscribed', 'error'].includes(m['type'] as string),
      `a reply to ${String(frame).slice(0, 80)}`,
    );
  }

  subscribe(topic: string): Promise<Msg> {
    return this.reply({ action: 'subscribe', topic });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 2000))]);
    this.ws.terminate(); // a no-op once closed
  }
}

/** Every registry key of cluster `name` (connections, topics, vote watches), over all masters. */
async function registryKeys(redis: Cluster, name: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of redis.nodes('master')) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', realtimeKeysFor(name).pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch.filter((k) => !k.includes(':ack:'))); // per election, not per client
    } while (cursor !== '0');
  }
  return keys;
}

describe('WebSocket: authenticated subscriptions, coordinator fan-out, live tallies', () => {
  let cluster: TestCluster;
  let offline: TestOffline;
  let api: Api;
  let admin: string;
  let redis: Cluster;
  const clients: Client[] = [];

  const connect = async (token: string): Promise<Client> => {
    const c = await Client.connect(offline.wsUrl, token);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const keyDir = testKeyDir();
    const prefix = `ws${Math.random().toString(36).slice(2, 6)}`;
    const members = [1, 2, 3].map((i) => `${prefix}-c${i}`);
    offline = await startTestOffline({
      JWT_KEY_DIR: keyDir,
      COORDINATORS: members.join(','),
      CLUSTER_NAME: prefix,
      RATE_LIMIT_VOTER: '1000',
    });
    cluster = new TestCluster(members, { LAMBDA_ENDPOINT: offline.lambdaUrl }, undefined, prefix);
    await Promise.all(members.map((id) => cluster.startNode(id)));
    api = makeApi(offline.httpUrl, keyDir);
    admin = await api.token('ws-admin', 'admin');
    redis = createRedisCluster(parseSeeds(testSeeds()));
    await cluster.waitForLeader();
  }, 120000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    redis?.disconnect();
    await Promise.all([offline?.stop(), cluster?.stop()]);
  });

  async function createElection(): Promise<string> {
    const r = await api.call('POST', '/elections', {
      token: admin,
      body: {
        title: 'Live',
        options: [
          { id: 'yes', label: 'Yes' },
          { id: 'no', label: 'No' },
        ],
      },
    });
    expect(r.status).toBe(201);
    return r.body.id;
  }

  async function vote(id: string, sub: string, optionId: string): Promise<{ token: string; voteId: string }> {
    const token = await api.token(sub, 'voter');
    const r = await api.call('POST', `/elections/${id}/votes`, { token, body: { optionId } });
    expect(r.status).toBe(202);
    return { token, voteId: r.body.voteId };
  }

  test('a missing or bad token refuses the connection with 401', async () => {
    const otherKeys = makeApi(offline.httpUrl, testKeyDir());
    const cases: [string, string | undefined][] = [
      ['no token', undefined],
      ['garbage', 'not-a-jwt'],
      ['signed by an unknown key', await otherKeys.token('mallory', 'admin')],
    ];
    for (const [name, token] of cases) {
      const status = await Client.connect(offline.wsUrl, token).then(
        async (c) => {
          await c.close();
          return 'connected';
        },
        (err: { status?: number }) => err.status,
      );
      expect({ name, status }).toEqual({ name, status: 401 });
    }
  });

  test('GET /client serves the plain HTML test client, pointed at this WebSocket endpoint', async () => {
    const res = await fetch(`${offline.httpUrl}/client`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('new WebSocket(');
    expect(html).toContain(`value="ws://127.0.0.1:${offline.wsPort}"`);
  });

  test('election topic: opened, tally.updated with full totals as votes finalize, closed', async () => {
    const id = await createElection();
    const watcher = await connect(await api.token('watcher-1', 'voter'));
    const sub = await watcher.subscribe(`election:${id}`);
    expect(sub).toMatchObject({ type: 'subscribed', topic: `election:${id}` });
    expect(sub['snapshot']).toMatchObject({ electionId: id, status: 'draft', totals: { yes: 0, no: 0 } });

    expect((await api.call('POST', `/elections/${id}/open`, { token: admin })).status).toBe(200);
    const opened = await watcher.waitFor((m) => m['type'] === 'election.opened', 'election.opened');
    expect(opened).toMatchObject({ topic: `election:${id}`, data: { id, status: 'open' } });
    expect(typeof opened['ts']).toBe('string');

    // Two rounds, so the totals really move between updates (the monotonicity below
    // compares at least two different tallies).
    const choices = ['yes', 'yes', 'no', 'yes', 'no'];
    await Promise.all(choices.slice(0, 2).map((o, i) => vote(id, `tally-voter-${i}`, o)));
    await watcher.waitFor(
      (m) => m['type'] === 'tally.updated' && m['data']['finalized'] === 2,
      'a tally with 2 finalized votes',
    );
    await Promise.all(choices.slice(2).map((o, i) => vote(id, `tally-voter-${i + 2}`, o)));
    const tally = await watcher.waitFor(
      (m) => m['type'] === 'tally.updated' && m['data']['finalized'] === 5,
      'a tally with 5 finalized votes',
    );
    expect(tally).toMatchObject({
      topic: `election:${id}`,
      data: { electionId: id, status: 'open', totals: { yes: 3, no: 2 }, pending: 0, final: false },
    });
    // Every update carries all options.
    const tallies = watcher.messages.filter((m) => m['type'] === 'tally.updated');
    for (const t of tallies) expect(Object.keys(t['data']['totals']).sort()).toEqual(['no', 'yes']);

    expect((await api.call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    const closed = await watcher.waitFor((m) => m['type'] === 'election.closed', 'election.closed');
    expect(closed).toMatchObject({ topic: `election:${id}`, data: { id, status: 'closed' } });
    const final = await watcher.waitFor(
      (m) => m['type'] === 'tally.updated' && m['data']['final'] === true,
      'the final tally',
    );
    expect(final['data']).toMatchObject({ status: 'closed', totals: { yes: 3, no: 2 }, finalized: 5 });
    // Totals never go down: over every tally.updated received (from the subscription's
    // snapshot to the final tally), no option's count and no finalized count decreases.
    const updates = watcher.messages.filter((m) => m['type'] === 'tally.updated').map((m) => m['data']);
    expect(updates.length).toBeGreaterThanOrEqual(2);
    const decreases: string[] = [];
    let prev = { totals: sub['snapshot']['totals'] as Record<string, number>, finalized: 0 };
    for (const [i, u] of updates.entries()) {
      expect(Object.keys(u['totals']).sort()).toEqual(['no', 'yes']);
      for (const option of ['yes', 'no']) {
        if (u['totals'][option] < prev.totals[option]!) {
          decreases.push(`update ${i}: ${option} ${prev.totals[option]} -> ${u['totals'][option]}`);
        }
      }
      if (u['finalized'] < prev.finalized)
        decreases.push(`update ${i}: finalized ${prev.finalized} -> ${u['finalized']}`);
      prev = { totals: u['totals'], finalized: u['finalized'] };
    }
    expect(decreases).toEqual([]);
    // Each lifecycle event once.
    expect(watcher.messages.filter((m) => m['type'] === 'election.opened')).toHaveLength(1);
    expect(watcher.messages.filter((m) => m['type'] === 'election.closed')).toHaveLength(1);
  });

  test("vote topic: the voter sees vote.finalized; another voter's subscription is refused", async () => {
    const id = await createElection();
    await api.call('POST', `/elections/${id}/open`, { token: admin });
    // Several voters subscribe right after voting: most votes are still pending then
    // (the event comes through the fan-out), some may be final already (the event
    // comes with the subscription); either way each voter gets exactly its own.
    const voters = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const v = await vote(id, `vote-watcher-${i}`, i % 2 ? 'yes' : 'no');
        const c = await connect(v.token);
        const sub = await c.subscribe(`vote:${v.voteId}`);
        expect(sub).toMatchObject({ type: 'subscribed', topic: `vote:${v.voteId}` });
        return { ...v, c, pendingAtSubscribe: sub['snapshot']?.['status'] === 'pending' };
      }),
    );
    for (const v of voters) {
      const ev = await v.c.waitFor((m) => m['type'] === 'vote.finalized', `vote.finalized for ${v.voteId}`);
      expect(ev).toMatchObject({
        topic: `vote:${v.voteId}`,
        data: { voteId: v.voteId, electionId: id, status: 'finalized' },
      });
      if (v.pendingAtSubscribe) expect(typeof ev['data']['finalizedAt']).toBe('string');
      expect(
        v.c.messages.filter((m) => m['type']?.startsWith('vote.') && m['topic'] !== `vote:${v.voteId}`),
      ).toEqual([]);
    }

    const alice = voters[0]!;
    const bob = voters[1]!;
    const refused = await bob.c.subscribe(`vote:${alice.voteId}`);
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden', topic: `vote:${alice.voteId}` });
    // An admin may watch any vote.
    const root = await connect(admin);
    expect(await root.subscribe(`vote:${alice.voteId}`)).toMatchObject({ type: 'subscribed' });
    expect(await root.subscribe(`vote:${id}.0.1-1`)).toMatchObject({ type: 'error', code: 'not_found' });
  });

  test('errors come back as error events and never break the connection', async () => {
    const c = await connect(await api.token('noisy-1', 'voter'));
    const cases: [string, unknown, string][] = [
      ['unknown action', { action: 'dance', topic: 'cluster' }, 'unknown_action'],
      ['malformed JSON', '{"action": "subscribe", ', 'invalid_request'],
      ['not an object', '[1,2,3]', 'invalid_request'],
      ['no action', { topic: 'cluster' }, 'invalid_request'],
      [
        'oversized frame',
        JSON.stringify({ action: 'subscribe', topic: 'x'.repeat(200_000) }),
        'payload_too_large',
      ],
      ['binary garbage', Buffer.from([0xff, 0xfe, 0x00, 0x01]), 'invalid_request'],
      ['invalid topic', { action: 'subscribe', topic: 'elections/all' }, 'invalid_topic'],
      ['unknown election', { action: 'subscribe', topic: 'election:elzzzz0000' }, 'not_found'],
      ['cluster as a voter', { action: 'subscribe', topic: 'cluster' }, 'forbidden'],
    ];
    for (const [name, frame, code] of cases) {
      const r = await c.reply(frame);
      expect({ name, type: r['type'], code: r['code'] }).toEqual({ name, type: 'error', code });
      expect(typeof r['message']).toBe('string');
    }
    expect(
      c.messages.some((m) => m['unparsed'] !== undefined || m['message'] === 'Internal server error'),
    ).toBe(false);
    // Still connected and working.
    const id = await createElection();
    expect(await c.subscribe(`election:${id}`)).toMatchObject({ type: 'subscribed' });
    expect(await c.reply({ action: 'unsubscribe', topic: `election:${id}` })).toMatchObject({
      type: 'unsubscribed',
      topic: `election:${id}`,
    });
    expect(offline.proc.alive).toBe(true);
  });

  test("a revoked user's subscription receives nothing after the revocation", async () => {
    const id = await createElection();
    const sub = `ws-revoked-${Math.random().toString(36).slice(2, 8)}`;
    const revokedToken = await api.token(sub, 'voter');
    const revoked = await connect(revokedToken);
    const control = await connect(await api.token('ws-control-1', 'voter'));
    await revoked.subscribe(`election:${id}`);
    await control.subscribe(`election:${id}`);
    expect((await api.call('POST', `/elections/${id}/open`, { token: admin })).status).toBe(200);
    await revoked.waitFor((m) => m['type'] === 'election.opened', 'election.opened before the revocation');

    const r = await api.call('POST', `/users/${sub}/revoke-sessions`, { token: admin });
    expect(r).toMatchObject({ status: 200, body: { id: sub, subscriptionsEnded: 1, connectionsClosed: 1 } });
    // At once, on every function: no cache lets the old token through.
    expect((await api.call('GET', '/elections', { token: revokedToken })).status).toBe(401);
    const from = revoked.messages.length;
    await vote(id, 'ws-revoke-trigger-1', 'yes');
    await control.waitFor((m) => m['type'] === 'tally.updated' && m['data']['finalized'] === 1, 'a tally');
    expect((await api.call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    await control.waitFor((m) => m['type'] === 'election.closed', 'election.closed');
    expect(revoked.messages.slice(from)).toEqual([]);
    // Its socket was closed, and the revoked token cannot open a new one.
    await revoked.closed;
    await expect(connect(revokedToken)).rejects.toMatchObject({ status: 401 });
  });

  test('a subscription receives nothing once its token has expired', async () => {
    const id = await createElection();
    const short = await mintToken({ sub: 'ws-short-lived', role: 'voter' }, { keyDir: api.keyDir, ttlS: 3 });
    const expiring = await connect(short);
    const control = await connect(await api.token('ws-control-2', 'voter'));
    await expiring.subscribe(`election:${id}`);
    await control.subscribe(`election:${id}`);
    expect((await api.call('POST', `/elections/${id}/open`, { token: admin })).status).toBe(200);
    await expiring.waitFor(
      (m) => m['type'] === 'election.opened',
      'election.opened while the token is valid',
    );
    const exp = JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString()).exp as number;
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 200));
    const from = expiring.messages.length;
    await vote(id, 'ws-expiry-trigger-1', 'no');
    await control.waitFor((m) => m['type'] === 'tally.updated' && m['data']['finalized'] === 1, 'a tally');
    expect((await api.call('POST', `/elections/${id}/close`, { token: admin })).status).toBe(200);
    await control.waitFor((m) => m['type'] === 'election.closed', 'election.closed');
    expect(expiring.messages.slice(from)).toEqual([]);
    expect(await expiring.subscribe(`election:${id}`)).toMatchObject({
      type: 'error',
      code: 'token_expired',
    });
  });

  test('a connection that is gone (410) is removed when a broadcast reaches it', async () => {
    const id = await createElection();
    await api.call('POST', `/elections/${id}/open`, { token: admin });
    const watcher = await connect(admin);
    await watcher.subscribe(`election:${id}`);
    // A registry entry whose socket no longer exists ($disconnect never ran).
    const registry = new ConnectionRegistry(redis, { ...defaultRegistryOptions, cluster: cluster.name });
    const ghost = await registry.add(
      'ghost-connection',
      { sub: 'ghost', role: 'voter', exp: 2e9 },
      Date.now(),
    );
    await registry.subscribe(ghost, parseTopic(`election:${id}`)!);
    expect(await registry.subscribers(`election:${id}`, Date.now())).toContain('ghost-connection');
    await vote(id, 'ghost-trigger-1', 'yes');
    await watcher.waitFor((m) => m['type'] === 'tally.updated' && m['data']['finalized'] === 1, 'a tally');
    await eventually(
      async () => !(await registry.subscribers(`election:${id}`, Date.now())).includes('ghost-connection'),
      10000,
      'the gone connection to be removed',
    );
    expect(await registry.get('ghost-connection')).toBeNull();
  });

  test('an admin on `cluster` sees leader.changed when the leader is killed', async () => {
    const root = await connect(admin);
    expect(await root.subscribe('cluster')).toMatchObject({ type: 'subscribed', topic: 'cluster' });
    const { leader, term } = await cluster.waitForLeader();
    cluster.node(leader).proc.signal('SIGKILL');
    await cluster.node(leader).proc.exited;
    const next = await cluster.waitForLeader(15000, leader);
    const ev = await root.waitFor(
      (m) => m['type'] === 'leader.changed' && m['data']['leader'] === next.leader,
      'leader.changed',
      15000,
    );
    expect(ev).toMatchObject({ topic: 'cluster', data: { leader: next.leader } });
    expect(ev['data']['term']).toBeGreaterThan(term);
    expect(ev['data']['leader']).not.toBe(leader);
    await cluster.startNode(leader); // back as a follower for whatever runs next
  });

  test('connections and subscriptions expire, and disconnecting leaves nothing in Redis', async () => {
    const id = await createElection();
    await api.call('POST', `/elections/${id}/open`, { token: admin });
    const v = await vote(id, 'cleanup-voter-1', 'yes');
    const voter = await connect(v.token);
    const root = await connect(admin);
    await voter.subscribe(`election:${id}`);
    await voter.subscribe(`vote:${v.voteId}`);
    await root.subscribe('cluster');
    await root.subscribe(`vote:${v.voteId}`);
    const keys = await registryKeys(redis, cluster.name);
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const k of keys) {
      const ttl = await redis.pttl(k);
      expect({ k, expires: ttl > 0 }).toEqual({ k, expires: true });
    }
    await Promise.all(clients.map((c) => c.close()));
    await eventually(
      async () => (await registryKeys(redis, cluster.name)).length === 0,
      10000,
      'an empty registry',
    ).catch(async (err) => {
      throw new Error(`${String(err)}; left: ${(await registryKeys(redis, cluster.name)).join(', ')}`);
    });
  });
});
