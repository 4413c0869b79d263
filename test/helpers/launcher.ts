import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { findFreePortRange } from '../../local/ports';
import { LOCAL_TOPOLOGY } from '../../local/redis-cluster';
import { repoRoot } from '../../local/stack';

/**
 * Runs `npm start`'s launcher (local/start.ts) as a user would, on free ports and in a
 * temp folder, for the tests that need the whole stack (launcher, load generator,
 * browser). `stop()` sends SIGTERM and resolves with the launcher's exit code.
 */
export interface LaunchedStack {
  http: number;
  ws: number;
  lambda: number;
  admin: number;
  web: number;
  redisBase: number;
  dir: string;
  keyDir: string;
  password: string;
  /** The launcher's process id (its children are the stack's processes). */
  pid: number;
  /** Everything the launcher printed so far. */
  output(): string;
  /** Resolves with the launcher's exit code when it ends on its own (or 'timeout'). */
  exitedWithin(ms: number): Promise<number | null | 'timeout'>;
  /** SIGTERM, then the exit code (SIGKILL and 'timeout' after 20 s); removes the folder. */
  stop(): Promise<number | null | 'timeout'>;
}

export async function launchStack(
  password = 'demo-password-123',
  readyMs = 120000,
  env: NodeJS.ProcessEnv = {},
): Promise<LaunchedStack> {
  // One free range for every port of the stack, so no two of its parts are handed the
  // same port (ranges picked one by one can overlap: none is bound yet when the next is
  // picked). npm start runs LOCAL_TOPOLOGY (9 Redis nodes): their bus ports (+10000)
  // must be free too.
  const redisBase = await findFreePortRange(LOCAL_TOPOLOGY.nodes + 7, 10000);
  const http = redisBase + LOCAL_TOPOLOGY.nodes; // HTTP, WebSocket, Lambda invoke
  const admin = http + 3; // three coordinators
  const web = admin + 3;
  const dir = mkdtempSync(join(tmpdir(), 'qv-stack-'));
  const keyDir = join(dir, 'keys');
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    ['--import', 'tsx', 'local/start.ts'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        HTTP_PORT: String(http),
        WS_PORT: String(http + 1),
        LAMBDA_PORT: String(http + 2),
        WEB_PORT: String(web),
        COORDINATOR_BASE_PORT: String(admin),
        REDIS_BASE_PORT: String(redisBase),
        REDIS_DATA_DIR: join(dir, 'redis'),
        JWT_KEY_DIR: keyDir,
        DEMO_PASSWORD: password,
        LOG_LEVEL: 'warn',
        // 43 function loads at once before "ready" cost each stack tens of CPU-seconds on
        // 2 shared cores; only the tests that run npm start as a user does (start-stack,
        // which checks the warm-up ran) or a room's rush of first votes (room) warm them.
        WARM_FUNCTIONS: 'off',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const collect = (c: Buffer): void => {
    out += c.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async (): Promise<number | null | 'timeout'> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), 20000);
      }),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  const until = Date.now() + readyMs;
  while (!out.includes('quorumvote is running')) {
    if (child.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error(`the stack did not come up:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    http,
    ws: http + 1,
    lambda: http + 2,
    admin,
    web,
    redisBase,
    dir,
    keyDir,
    password,
    pid: child.pid!,
    output: () => out,
    exitedWithin: async (ms) => {
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), ms);
        }),
      ]);
      clearTimeout(timer);
      return code;
    },
    stop,
  };
}
