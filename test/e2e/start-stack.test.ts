import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange, portFree } from '../../local/ports';
import { repoRoot } from '../../local/stack';

/** `npm start`'s launcher, run as a user would, on free ports: up, healthy, then SIGTERM leaves nothing. */
describe('whole-stack launcher (npm start)', () => {
  test('starts Redis, 3 coordinators and serverless-offline, then stops everything on SIGTERM', async () => {
    const http = await findFreePortRange(3);
    const admin = await findFreePortRange(3);
    const redisBase = await findFreePortRange(6, 10000);
    const dir = mkdtempSync(join(tmpdir(), 'qv-start-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        HTTP_PORT: String(http),
        WS_PORT: String(http + 1),
        LAMBDA_PORT: String(http + 2),
        COORDINATOR_BASE_PORT: String(admin),
        REDIS_BASE_PORT: String(redisBase),
        REDIS_DATA_DIR: join(dir, 'redis'),
        JWT_KEY_DIR: join(dir, 'keys'),
        DEMO_PASSWORD: 'demo-password-123',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const until = Date.now() + 90000;
      while (!out.includes('quorumvote is running') && Date.now() < until) {
        if (child.exitCode !== null) throw new Error(`launcher exited early:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toContain('quorumvote is running');
      expect(out).toContain('demo-password-123');
      for (const name of ['admin', 'auditor', 'alice', 'bob', 'carol']) expect(out).toContain(name);
      const health = await fetch(`http://127.0.0.1:${http}/health`);
      expect(health.status).toBe(200);
      const status = await (await fetch(`http://127.0.0.1:${admin}/status`)).json();
      expect(status).toMatchObject({ id: 'c1', votingMembers: ['c1', 'c2', 'c3'] });
      const token = await fetch(`http://127.0.0.1:${http}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'demo-password-123' }),
      });
      expect(token.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      const code = await exited;
      expect(code).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(out).toContain('stopped; no process left behind');
    const ports = [http, http + 1, http + 2, admin, admin + 1, admin + 2];
    for (let i = 0; i < 6; i++) ports.push(redisBase + i);
    for (const p of ports) expect({ port: p, free: await portFree(p) }).toEqual({ port: p, free: true });
  }, 150000);
});
