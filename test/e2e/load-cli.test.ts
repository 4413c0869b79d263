import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portFree } from '../../local/ports';
import { type LaunchedStack, launchStack } from '../helpers/launcher';
import { load, row } from '../helpers/load-cli';
import { ensureKeyPair } from '../../shared/auth/keys';

/**
 * `npm run load` against `npm start`'s stack, run as a user would: the launcher on free
 * ports with its own key folder, then the load generator with that key folder, over
 * HTTP and by direct Lambda invoke. SIGTERM leaves nothing behind.
 */

describe('load generator (npm run load)', () => {
  let stack: LaunchedStack | undefined;
  let dir: string;
  let http: number;
  let keyEnv: Record<string, string>;

  beforeAll(async () => {
    // Ready takes 10-20 s alone; far longer on a busy machine.
    stack = await launchStack('demo-password-123', 150000);
    ({ dir, http } = stack);
    keyEnv = { JWT_KEY_DIR: stack.keyDir };
  }, 180000);

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
