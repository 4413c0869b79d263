import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort, portFree } from '../../local/ports';
import { repoRoot } from '../../local/stack';
import { type LaunchedStack, launchStack } from '../helpers/launcher';
import { ensureKeyPair } from '../../shared/auth/keys';
import { loadPublicJwks } from '../../shared/auth/public-keys';

/**
 * `npm run load` against `npm start`'s stack, run as a user would: the launcher on free
 * ports with its own key folder, then the load generator with that key folder, over
 * HTTP and by direct Lambda invoke. SIGTERM leaves nothing behind.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the load generator to its end (its own timeout: `timeoutMs`). */
function load(args: string[], env: Record<string, string>, timeoutMs = 90000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load generator still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The count of a row of the summary table, e.g. "accepted (202)". */
function row(stdout: string, label: string): number {
  const escaped = label.replace(/[()]/g, '\\$&');
  const m = new RegExp(`^\\s+${escaped}\\s+(\\d+)\\s*$`, 'm').exec(stdout);
  if (!m) throw new Error(`no "${label}" row in:\n${stdout}`);
  return Number(m[1]);
}

describe('load generator (npm run load)', () => {
  let stack: LaunchedStack | undefined;
  let dir: string;
  let http: number;
  let keyEnv: Record<string, string>;

  beforeAll(async () => {
    stack = await launchStack('demo-password-123', 90000);
    ({ dir, http } = stack);
    keyEnv = { JWT_KEY_DIR: stack.keyDir };
  }, 120000);

  afterAll(async () => {
    if (!stack) return;
    const s = stack;
    expect(await s.stop()).toBe(0);
    expect(s.output()).toContain('stopped; no process left behind');
    const ports = [s.http, s.ws, s.lambda, s.admin, s.admin + 1, s.admin + 2, s.web];
    for (let i = 0; i < 6; i++) ports.push(s.redisBase + i);
    for (const p of ports) expect({ port: p, free: await portFree(p) }).toEqual({ port: p, free: true });
  }, 60000);

  test('200 voters at 50/s over HTTP: all accepted, all finalized, with an HTML report', async () => {
    const report = join(dir, 'r.html');
    const r = await load(
      [
        '--voters',
        '200',
        '--rate',
        '50',
        '--duration',
        '10',
        '--url',
        `http://127.0.0.1:${http}`,
        '--report',
        report,
      ],
      keyEnv,
    );
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(row(r.stdout, 'sent')).toBe(200);
    expect(row(r.stdout, 'accepted (202)')).toBe(200);
    expect(row(r.stdout, 'finalized (counted)')).toBe(200);
    expect(row(r.stdout, 'pending after the wait')).toBe(0);
    expect(row(r.stdout, 'errors')).toBe(0);
    expect(r.stdout).toMatch(/^\s+submit\s+200\s+\d+\s+\d+\s+\d+\s+\d+\s*$/m);
    expect(r.stdout).toMatch(/^\s+submit -> finalized\s+200\s+\d+\s+\d+\s+\d+\s+\d+\s*$/m);
    // Not a TTY: plain progress lines, never a carriage return.
    expect(r.stderr).toMatch(/^sending +\[/m);
    expect(r.stderr).not.toContain('\r');
    expect(existsSync(report)).toBe(true);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Throughput');
    expect(html).toContain('Latency over time');
    // Self-contained: no script, no external resource.
    expect(html).not.toMatch(/<script|\bsrc=|\bhref=|@import|url\(/i);
  }, 120000);

  test('by direct Lambda invoke, reusing the election just voted in', async () => {
    const r = await load(
      [
        '--voters',
        '40',
        '--rate',
        '20',
        '--duration',
        '10',
        '--via',
        'invoke',
        '--url',
        `http://127.0.0.1:${http}`,
        '--lambda-url',
        `http://127.0.0.1:${http + 2}`,
      ],
      keyEnv,
    );
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('via invoke');
    expect(row(r.stdout, 'accepted (202)')).toBe(40);
    expect(row(r.stdout, 'finalized (counted)')).toBe(40);
    const election = /election (el[a-z0-9]+)/.exec(r.stdout)?.[1];
    expect(election).toBeDefined();

    // The same election again: new voters, its totals grow by theirs.
    const again = await load(
      [
        '--voters',
        '10',
        '--rate',
        '20',
        '--duration',
        '5',
        '--election',
        election!,
        '--url',
        `http://127.0.0.1:${http}`,
      ],
      keyEnv,
    );
    expect({ code: again.code, stderr: again.code === 0 ? '' : again.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(again.stderr).toContain(`reusing election ${election}`);
    expect(row(again.stdout, 'accepted (202)')).toBe(10);
    expect(row(again.stdout, 'finalized (counted)')).toBe(10);
  }, 120000);

  test('a key the stack does not trust: a clear message and exit 1, no vote sent', async () => {
    const other = mkdtempSync(join(tmpdir(), 'qv-load-key-'));
    try {
      // A key folder without a key: the generator must not make one up.
      const r = await load(
        ['--voters', '5', '--rate', '5', '--duration', '1', '--url', `http://127.0.0.1:${http}`],
        { JWT_KEY_DIR: other },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no signing key at .*signing-key\.json/);
      expect(existsSync(join(other, 'signing-key.json'))).toBe(false);
      // Another key: refused before any election is made.
      ensureKeyPair({ keyDir: other });
      const r2 = await load(
        ['--voters', '5', '--rate', '5', '--duration', '1', '--url', `http://127.0.0.1:${http}`],
        { JWT_KEY_DIR: other },
      );
      expect(r2.code).toBe(1);
      expect(r2.stderr).toContain('does not trust the key');
      expect(r2.stdout).toBe('');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 60000);

  test('bad arguments: a clear message and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--voters', '0', '--rate', '5', '--duration', '1'], /--voters must be an integer from 1/],
      [['--rate', '5', '--duration', '1'], /missing --voters/],
      [['--voters', '5', '--rate', 'fast', '--duration', '1'], /--rate must be a number/],
      [
        ['--voters', '5', '--rate', '5', '--duration', '1', '--via', 'pigeon'],
        /--via must be http or invoke/,
      ],
      [
        ['--voters', '5', '--rate', '5', '--duration', '1', '--url', 'http://10.1.2.3:3000'],
        /must point at this machine/,
      ],
      [['--voters', '5', '--rate', '5', '--duration', '1', '--election', 'nope'], /--election must be/],
      [['--voters', '5', '--rate', '5', '--duration', '1', '--colour'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const r = await load(args, keyEnv, 30000);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('--help');
    }
    const help = await load(['--help'], keyEnv, 30000);
    expect(help.code).toBe(0);
    for (const flag of [
      '--voters',
      '--rate',
      '--duration',
      '--election',
      '--via',
      '--report',
      'LOCAL ONLY',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  }, 120000);
});

/**
 * The client contract, checked against a scripted API on this machine: some votes get a
 * 503 first (retried with the same Idempotency-Key), some a 409 (counted by code, not
 * retried); results and the audit log report every 202 as finalized.
 */
describe('load generator against a scripted API', () => {
  test('retries 503s with the same Idempotency-Key and reports other answers by code', async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'qv-load-fake-'));
    ensureKeyPair({ keyDir });
    const id = 'elfake00001';
    const election = (status: string) => ({
      id,
      title: 't',
      options: [
        { id: 'a', label: 'A' },
        { id: 'b', label: 'B' },
      ],
      status,
      partitions: 1,
      restricted: false,
    });
    const keysBySub = new Map<string, Set<string>>();
    const attempts = new Map<string, number>();
    const voteIdByKey = new Map<string, string>();
    const decided: { voteId: string; at: number }[] = [];
    const unexpected: string[] = [];
    let seq = 0;
    const send = (
      res: ServerResponse,
      status: number,
      body: unknown,
      headers: Record<string, string> = {},
    ) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
        if (route === 'GET /.well-known/jwks.json') return send(res, 200, loadPublicJwks({ keyDir }));
        if (route === 'POST /elections') return send(res, 201, election('draft'));
        if (route === `POST /elections/${id}/open`) return send(res, 200, election('open'));
        if (route === `GET /elections/${id}/results`) {
          return send(res, 200, { electionId: id, finalized: decided.length, rejected: 0, pending: 0 });
        }
        if (route === `GET /elections/${id}/audit`) {
          const entries = decided.map((d) => ({
            partition: 0,
            voteId: d.voteId,
            outcome: 'counted',
            finalizedAt: new Date(d.at).toISOString(),
          }));
          return send(res, 200, { electionId: id, partitions: 1, entries, nextCursor: null });
        }
        if (route === `POST /elections/${id}/votes`) {
          const token = (req.headers['authorization'] ?? '').replace(/^Bearer /, '');
          const sub = String(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sub);
          const key = String(req.headers['idempotency-key']);
          if (!keysBySub.has(sub)) keysBySub.set(sub, new Set());
          keysBySub.get(sub)!.add(key);
          const n = (attempts.get(key) ?? 0) + 1;
          attempts.set(key, n);
          const i = Number(sub.split('-').pop());
          if (i % 4 === 1 && n === 1) {
            return send(res, 503, { error: { code: 'unavailable', message: 'x' } }, { 'retry-after': '1' });
          }
          if (i % 10 === 7) return send(res, 409, { error: { code: 'already_voted', message: 'x' } });
          let voteId = voteIdByKey.get(key);
          if (!voteId) {
            voteId = `${id}.0.${Date.now()}-${seq++}`;
            voteIdByKey.set(key, voteId);
            decided.push({ voteId, at: Date.now() + 5 });
          }
          return send(res, 202, { voteId, status: 'pending', receipt: 'r'.repeat(64) });
        }
        unexpected.push(route);
        send(res, 404, { error: { code: 'not_found', message: route } });
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    try {
      const r = await load(
        [
          '--voters',
          '20',
          '--rate',
          '40',
          '--duration',
          '5',
          '--url',
          `http://127.0.0.1:${port}`,
          '--key-dir',
          keyDir,
        ],
        {},
        60000,
      );
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
      // Voters 1, 5, 9, 13, 17 get a 503 first; 7 and 17 then a 409.
      expect(row(r.stdout, 'sent')).toBe(20);
      expect(row(r.stdout, 'accepted (202)')).toBe(18);
      expect(row(r.stdout, 'finalized (counted)')).toBe(18);
      expect(row(r.stdout, 'errors')).toBe(2);
      expect(row(r.stdout, '409 already_voted')).toBe(2);
      expect(row(r.stdout, 'retries')).toBe(5);
      expect(row(r.stdout, '503 unavailable')).toBe(5);
      expect(unexpected).toEqual([]);
      expect(keysBySub.size).toBe(20);
      for (const keys of keysBySub.values()) expect(keys.size).toBe(1);
      const retried = [...attempts.values()].filter((n) => n === 2).length;
      expect(retried).toBe(5);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(keyDir, { recursive: true, force: true });
    }
  }, 90000);
});
