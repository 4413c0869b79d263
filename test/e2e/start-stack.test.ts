import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { portFree } from '../../local/ports';
import { launchStack } from '../helpers/launcher';

/**
 * `npm start`'s launcher, run as a user would, on free ports: up, healthy, then SIGTERM
 * leaves nothing. Its web server binds WEB_HOST, here 127.0.0.3 (all of 127/8 is this
 * machine), standing for a LAN address: a phone in the room reaches the web app, the
 * API and the WebSocket through that one address and port, and nothing else listens
 * on the web port.
 */
const WEB_HOST = '127.0.0.3';

/** A JSON request to the web server's same-origin API proxy at WEB_HOST. */
async function viaWeb(web: number, path: string, body?: unknown, token?: string) {
  const res = await fetch(`http://${WEB_HOST}:${web}/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies ad hoc
  return { status: res.status, body: (await res.json()) as any };
}

/** Opens the WebSocket through the web server at WEB_HOST and subscribes to `topic`; resolves with the reply. */
function subscribeViaWeb(web: number, token: string, topic: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${WEB_HOST}:${web}/ws?token=${encodeURIComponent(token)}`);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no WebSocket reply within 20 s'));
    }, 20000);
    ws.once('open', () => ws.send(JSON.stringify({ action: 'subscribe', topic })));
    ws.once('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(JSON.parse(String(data)));
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('whole-stack launcher (npm start)', () => {
  test('starts Redis, 3 coordinators, serverless-offline and the web app on WEB_HOST, then stops everything on SIGTERM', async () => {
    // As a user runs it: every function warmed before "ready" (the other whole-stack tests skip that).
    const stack = await launchStack('demo-password-123', 120000, { WEB_HOST, WARM_FUNCTIONS: 'on' });
    let code: number | null | 'timeout';
    try {
      const out = stack.output();
      // Which functions warmed is test/e2e/warm-up.test.ts's; here, that npm start ran it.
      expect(out).toMatch(/stack +\| warmed \d+ functions in \d+ ms/);
      expect(out).toContain('demo-password-123');
      for (const name of ['admin', 'auditor', 'alice', 'bob', 'carol']) expect(out).toContain(name);
      const health = await fetch(`http://127.0.0.1:${stack.http}/health`);
      expect(health.status).toBe(200);
      const status = await (await fetch(`http://127.0.0.1:${stack.admin}/status`)).json();
      expect(status).toMatchObject({ id: 'c1', votingMembers: ['c1', 'c2', 'c3'] });
      const token = await fetch(`http://127.0.0.1:${stack.http}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'demo-password-123' }),
      });
      expect(token.status).toBe(200);
      // The web app, on WEB_HOST only; the join link is printed with that address.
      const page = await fetch(`http://${WEB_HOST}:${stack.web}/`);
      expect([page.status, await page.text()]).toEqual([200, expect.stringContaining('<html')]);
      expect(out).toContain(`Join links of code polls: http://${WEB_HOST}:${stack.web}/#/join/<code>`);
      expect(await portFree(stack.web, '127.0.0.1')).toBe(true);
      // A phone's whole journey through that address: the admin makes a code poll, the
      // phone joins it, follows it over the WebSocket and votes.
      const admin = await viaWeb(stack.web, '/auth/token', {
        username: 'admin',
        password: 'demo-password-123',
      });
      expect(admin.status).toBe(200);
      const poll = await viaWeb(
        stack.web,
        '/elections',
        {
          title: 'Room',
          options: [
            { id: 'a', label: 'A' },
            { id: 'b', label: 'B' },
          ],
          access: 'code',
        },
        admin.body.token,
      );
      expect(poll.status).toBe(201);
      // The join link the admin page shows (and makes a QR code of) carries WEB_HOST.
      expect(poll.body.joinLink).toBe(`http://${WEB_HOST}:${stack.web}/#/join/${poll.body.joinCode}`);
      expect((await viaWeb(stack.web, `/elections/${poll.body.id}/open`, {}, admin.body.token)).status).toBe(
        200,
      );
      const device = randomBytes(16).toString('base64url');
      const phone = await viaWeb(stack.web, '/join', { code: poll.body.joinCode, device });
      expect([phone.status, phone.body.electionId]).toEqual([200, poll.body.id]);
      const topic = `election:${poll.body.id}`;
      expect(await subscribeViaWeb(stack.web, phone.body.token, topic)).toMatchObject({
        type: 'subscribed',
        topic,
      });
      const vote = await viaWeb(
        stack.web,
        `/elections/${poll.body.id}/votes`,
        { optionId: 'a' },
        phone.body.token,
      );
      expect(vote.status).toBe(202);
      // The coordinators' cluster secret was generated into the key folder, owner-only.
      expect(statSync(join(stack.keyDir, 'cluster-secret')).mode & 0o777).toBe(0o600);
    } finally {
      code = await stack.stop();
    }
    expect(code).toBe(0);
    expect(stack.output()).toContain('stopped; no process left behind');
    const ports = [
      stack.http,
      stack.ws,
      stack.lambda,
      stack.admin,
      stack.admin + 1,
      stack.admin + 2,
      stack.web,
    ];
    for (let i = 0; i < 6; i++) ports.push(stack.redisBase + i);
    for (const p of ports) expect({ port: p, free: await portFree(p) }).toEqual({ port: p, free: true });
    expect(await portFree(stack.web, WEB_HOST)).toBe(true);
  }, 150000);
});
