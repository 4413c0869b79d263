import { statSync } from 'node:fs';
import { join } from 'node:path';
import { portFree } from '../../local/ports';
import { launchStack } from '../helpers/launcher';

/** `npm start`'s launcher, run as a user would, on free ports: up, healthy, then SIGTERM leaves nothing. */
describe('whole-stack launcher (npm start)', () => {
  test('starts Redis, 3 coordinators, serverless-offline and the web app, then stops everything on SIGTERM', async () => {
    const stack = await launchStack('demo-password-123', 90000);
    let code: number | null | 'timeout';
    try {
      const out = stack.output();
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
      expect((await fetch(`http://127.0.0.1:${stack.web}/`)).status).toBe(200);
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
  }, 150000);
});
