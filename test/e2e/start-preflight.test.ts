import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePortRange, portFree } from '../../local/ports';
import { LOCAL_TOPOLOGY } from '../../local/redis-cluster';
import { repoRoot } from '../../local/stack';

/**
 * `npm start` checks every port before it starts anything: a taken one ends it at
 * once (exit 1) with the port, what needed it and the setting that moves it, and
 * nothing is left running. A bad setting ends it the same way.
 */
interface Ports {
  http: number;
  admin: number;
  web: number;
  redisBase: number;
}

async function freeStackPorts(): Promise<Ports> {
  return {
    http: await findFreePortRange(3),
    admin: await findFreePortRange(3),
    web: await findFreePortRange(1),
    redisBase: await findFreePortRange(LOCAL_TOPOLOGY.nodes, 10000),
  };
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

function npmStart(p: Ports, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'qv-preflight-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        HTTP_PORT: String(p.http),
        WS_PORT: String(p.http + 1),
        LAMBDA_PORT: String(p.http + 2),
        WEB_PORT: String(p.web),
        COORDINATOR_BASE_PORT: String(p.admin),
        REDIS_BASE_PORT: String(p.redisBase),
        REDIS_DATA_DIR: join(dir, 'redis'),
        JWT_KEY_DIR: join(dir, 'keys'),
        DEMO_PASSWORD: 'demo-password-123',
        LOG_LEVEL: 'warn',
        ...env,
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
    const timer = setTimeout(() => child.kill('SIGTERM'), 60000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, out });
    });
  });
}

async function allFree(p: Ports, except: number): Promise<void> {
  const ports = [p.http, p.http + 1, p.http + 2, p.admin, p.admin + 1, p.admin + 2, p.web];
  for (let i = 0; i < LOCAL_TOPOLOGY.nodes; i++) ports.push(p.redisBase + i);
  for (const port of ports.filter((x) => x !== except)) {
    expect({ port, free: await portFree(port) }).toEqual({ port, free: true });
  }
}

describe('npm start: preflight', () => {
  test.each([
    ['HTTP_PORT', (p: Ports) => p.http, 'the HTTP API'],
    ['COORDINATOR_BASE_PORT', (p: Ports) => p.admin + 1, "coordinator c2's admin port"],
    ['REDIS_BASE_PORT', (p: Ports) => p.redisBase + 4, 'Redis node 5'],
    ['WEB_PORT', (p: Ports) => p.web, 'the web app'],
  ])(
    'a taken port (%s) ends it at once, naming the port and the setting',
    async (setting, pick, what) => {
      const p = await freeStackPorts();
      const port = pick(p);
      const blocker = await occupy(port);
      try {
        const r = await npmStart(p);
        expect(r.code).toBe(1);
        expect(r.out).toContain(
          `port ${port} (${what}) is already in use: stop what listens there or set ${setting}`,
        );
        expect(r.out).not.toContain('quorumvote is running');
        // Checked before anything was built or started.
        expect(r.out).not.toContain('building');
        await allFree(p, port);
      } finally {
        blocker.close();
      }
    },
    90000,
  );

  test('a bad setting ends it at once, naming the variable', async () => {
    const p = await freeStackPorts();
    const r = await npmStart(p, { COORDINATOR_BASE_PORT: 'forty' });
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'Bad setting: COORDINATOR_BASE_PORT must be an integer from 1 to 65535, got "forty"',
    );
  }, 90000);
});
